// Trains a GPT-2-style byte-level BPE vocabulary on a text, the way tokenizers of real models are
// made, so the test model splits English into realistic multi-character tokens.

/**
 * The pre-tokenizer split of Qwen2 (llama.cpp's `tokenizer.ggml.pre = "qwen2"`): contractions,
 * letter runs with one leading non-letter, single digits, punctuation runs, whitespace. Training
 * must split exactly like the runtime, or learned merges would span pieces llama.cpp never joins.
 */
export const PRE_TOKENIZER_PATTERN =
  /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export interface ByteLevelBpe {
  /** The 256 byte tokens (index = byte value), then one token per merge that made a new string. */
  readonly tokens: readonly string[];
  /** `"left right"` in rank order, as `tokenizer.ggml.merges` stores them. */
  readonly merges: readonly string[];
  /** How often each token occurs in the training text once it is fully merged. */
  readonly tokenCounts: readonly number[];
}

let byteAlphabet: readonly string[] | undefined;

/**
 * GPT-2's bytes-to-unicode table: printable Latin-1 bytes stand for themselves, the others are
 * shifted to U+0100 and up, so every token is a printable string without spaces (' ' is 'Ġ').
 */
export function bytesToUnicode(): readonly string[] {
  if (byteAlphabet) return byteAlphabet;
  const table: string[] = new Array(256);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable =
      (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCodePoint(printable ? byte : 256 + shifted++);
  }
  byteAlphabet = table;
  return table;
}

/** `text`'s UTF-8 bytes as byte-level symbols, one per byte. */
export function toByteSymbols(text: string): string[] {
  const alphabet = bytesToUnicode();
  return Array.from(Buffer.from(text, 'utf8'), (byte) => alphabet[byte]!);
}

/**
 * Classic BPE training: repeatedly merge the most frequent adjacent pair inside pre-tokenized
 * words. Ties go to the lexicographically smallest pair, so the result depends on the text only.
 * Stops after `maxMerges`, or earlier when no pair occurs twice (merges seen once are noise).
 */
export function trainByteLevelBpe({ text, maxMerges }: { text: string; maxMerges: number }): ByteLevelBpe {
  const wordCounts = new Map<string, number>();
  for (const [piece] of text.matchAll(PRE_TOKENIZER_PATTERN)) {
    wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([piece, count]) => ({ symbols: toByteSymbols(piece), count }));

  const tokens = [...bytesToUnicode()];
  const known = new Set(tokens);
  const merges: string[] = [];
  while (merges.length < maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let index = 0; index + 1 < symbols.length; index++) {
        const pair = `${symbols[index]} ${symbols[index + 1]}`;
        pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left = '', right = ''] = best.split(' ');
    const merged = left + right;
    for (const word of words) word.symbols = mergePair(word.symbols, left, right, merged);
    merges.push(best);
    // Two different splits can spell the same string; a duplicate token would break llama.cpp's vocab.
    if (!known.has(merged)) {
      known.add(merged);
      tokens.push(merged);
    }
  }

  const tokenIds = new Map(tokens.map((token, id) => [token, id]));
  const tokenCounts = new Array<number>(tokens.length).fill(0);
  for (const { symbols, count } of words) {
    for (const symbol of symbols) {
      const id = tokenIds.get(symbol)!;
      tokenCounts[id] = (tokenCounts[id] ?? 0) + count;
    }
  }
  return { tokens, merges, tokenCounts };
}

function mergePair(symbols: string[], left: string, right: string, merged: string): string[] {
  const result: string[] = [];
  for (let index = 0; index < symbols.length; index++) {
    if (symbols[index] === left && symbols[index + 1] === right) {
      result.push(merged);
      index++;
    } else {
      result.push(symbols[index]!);
    }
  }
  return result;
}
