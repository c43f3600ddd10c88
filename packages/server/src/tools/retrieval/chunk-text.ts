// Splits extracted text into overlapping windows of tokens (OpenAI's static chunking: at most
// `maxChunkSizeTokens` per chunk, `chunkOverlapTokens` shared between neighbours), keeping each
// chunk's exact character range in the text for citations. Tokens are counted with the o200k
// tokenizer (gpt-tokenizer), whose pre-tokenizer pieces give the character boundaries. The
// tokenizer's tables (tens of MB) are loaded with the first text chunked, not at start.

import type { ChunkInput } from '../../storage/repositories/chunks-repository.js';

export interface ChunkingOptions {
  readonly maxChunkSizeTokens: number;
  readonly chunkOverlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = Object.freeze({
  maxChunkSizeTokens: 800,
  chunkOverlapTokens: 400,
});

export interface ChunkedText {
  readonly chunks: readonly ChunkInput[];
  readonly totalTokens: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Pieces of one pre-token longer than this are split (a run of letters with no break can be
// thousands of tokens long, more than a chunk).
const MAX_PIECE_TOKENS = 64;
// Yield to the event loop this often while tokenizing, so a large file does not stall requests.
const YIELD_EVERY_PIECES = 20_000;

export async function chunkText(
  text: string,
  { maxChunkSizeTokens, chunkOverlapTokens }: ChunkingOptions,
  { maxTotalTokens = Number.POSITIVE_INFINITY }: { maxTotalTokens?: number } = {},
): Promise<ChunkedText> {
  const { decode, encodeGenerator } = await import('gpt-tokenizer');
  // Lone surrogates would not survive encoding and decoding; make them U+FFFD first.
  const source = text.replace(LONE_SURROGATE, '\uFFFD');
  const starts: number[] = [];
  const tokens: number[] = [];
  let offset = 0;
  let total = 0;
  let seen = 0;
  const push = (length: number, count: number) => {
    starts.push(offset);
    tokens.push(count);
    offset += length;
    total += count;
  };
  // Special-token text such as "<|endoftext|>" in a document is ordinary text here.
  for (const pieceTokens of encodeGenerator(source, { disallowedSpecial: new Set() })) {
    if (++seen % YIELD_EVERY_PIECES === 0) await new Promise((resolve) => setImmediate(resolve));
    if (total > maxTotalTokens) throw new TooManyTokensError(maxTotalTokens);
    const piece = decode(pieceTokens);
    if (pieceTokens.length <= MAX_PIECE_TOKENS) {
      push(piece.length, pieceTokens.length);
      continue;
    }
    // Split at token boundaries where they fall between characters; fall back to characters.
    const parts: string[] = [];
    const counts: number[] = [];
    for (let index = 0; index < pieceTokens.length; index += MAX_PIECE_TOKENS) {
      const group = pieceTokens.slice(index, index + MAX_PIECE_TOKENS);
      parts.push(decode(group));
      counts.push(group.length);
    }
    if (parts.join('') === piece) {
      for (const [index, part] of parts.entries()) push(part.length, counts[index]!);
    } else {
      const step = Math.ceil(piece.length / parts.length);
      for (let index = 0; index < piece.length; index += step) {
        const length = Math.min(step, piece.length - index);
        push(length, Math.ceil((pieceTokens.length * length) / piece.length));
      }
    }
  }
  if (total > maxTotalTokens) throw new TooManyTokensError(maxTotalTokens);
  starts.push(offset);

  const chunks: ChunkInput[] = [];
  const count = tokens.length;
  let first = 0;
  while (first < count) {
    let end = first;
    let windowTokens = 0;
    while (end < count && windowTokens + tokens[end]! <= maxChunkSizeTokens) windowTokens += tokens[end++]!;
    if (end === first) windowTokens = tokens[end++]!;
    emit(source, starts[first]!, starts[end]!, windowTokens, chunks);
    if (end >= count) break;
    // The next window starts so that it repeats the last `chunkOverlapTokens` of this one.
    let back = end;
    let overlap = 0;
    while (back > first + 1 && overlap + tokens[back - 1]! <= chunkOverlapTokens) overlap += tokens[--back]!;
    first = Math.max(back, first + 1);
  }
  return { chunks, totalTokens: total };
}

function emit(source: string, start: number, end: number, tokenCount: number, chunks: ChunkInput[]): void {
  let from = start;
  let to = end;
  while (from < to && /\s/.test(source[from]!)) from++;
  while (to > from && /\s/.test(source[to - 1]!)) to--;
  if (from === to) return;
  chunks.push({
    index: chunks.length,
    startOffset: from,
    endOffset: to,
    tokenCount,
    text: source.slice(from, to),
  });
}

export class TooManyTokensError extends Error {
  constructor(readonly limit: number) {
    super(
      `The file has more than ${limit.toLocaleString('en-US')} tokens of text, the most a file may have.`,
    );
    this.name = 'TooManyTokensError';
  }
}
