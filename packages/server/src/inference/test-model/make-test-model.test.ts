// Loads the generated test model in node-llama-cpp, as the server will, and checks what a user of
// it sees: tokenization, the ChatML template, seeded sampling, JSON-schema grammars, embeddings.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChatMLChatWrapper,
  getLlama,
  type Llama,
  LlamaChatSession,
  LlamaCompletion,
  type LlamaContext,
  type LlamaModel,
  resolveChatWrapper,
} from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../errors.js';
import { CHATML_TEMPLATE, makeTestModel, type TestModel } from './make-test-model.js';

const CHAT_PROMPT = '<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n';
// For a model this small, thread synchronisation costs more than the work it splits: on a 2-vCPU
// machine decoding measured 25-100x slower with 2 threads than with 1.
const THREADS = 1;

let directory: string;
let tiny: TestModel;
let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'atelier-test-model-'));
  tiny = await makeTestModel({ path: join(directory, 'tiny.gguf') });
  llama = await getLlama({ gpu: false });
  const started = performance.now();
  model = await llama.loadModel({ modelPath: tiny.path });
  const loadMs = performance.now() - started;
  console.info(
    `default test model: ${tiny.bytes} bytes, ${tiny.parameterCount} parameters, ` +
      `vocabulary ${tiny.vocabSize}, loaded in ${loadMs.toFixed(1)} ms`,
  );
  context = await model.createContext({ contextSize: 2048, threads: THREADS });
});

afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
  if (directory) await rm(directory, { recursive: true, force: true });
});

async function complete({ seed, maxTokens }: { seed: number; maxTokens: number }) {
  const sequence = context.getSequence();
  try {
    const completion = new LlamaCompletion({ contextSequence: sequence });
    return await completion.generateCompletionWithMeta(CHAT_PROMPT, { temperature: 1, seed, maxTokens });
  } finally {
    sequence.dispose();
  }
}

describe('makeTestModel', () => {
  it('writes the same bytes for the same seed and different bytes for another seed', async () => {
    const again = await makeTestModel({ path: join(directory, 'nested', 'again.gguf') });
    const other = await makeTestModel({ path: join(directory, 'other.gguf'), seed: 1 });

    const [tinyBytes, againBytes, otherBytes] = await Promise.all(
      [tiny.path, again.path, other.path].map((path) => readFile(path)),
    );
    expect(createHash('sha256').update(tinyBytes!).digest('hex')).toBe(tiny.sha256);
    expect(tinyBytes!.length).toBe(tiny.bytes);
    expect(again.sha256).toBe(tiny.sha256);
    expect(againBytes!.equals(tinyBytes!)).toBe(true);
    expect(other.sha256).not.toBe(tiny.sha256);
    expect(otherBytes!.length).toBe(tinyBytes!.length);
    // Only finished files are left behind, under their own names.
    expect((await readdir(directory)).sort()).toEqual(['nested', 'other.gguf', 'tiny.gguf']);
  });

  it('loads as a llama model with the requested shape and ChatML end-of-turn token', () => {
    const metadata = model.fileInfo.metadata;
    expect(metadata.general.architecture).toBe('llama');
    expect(metadata.general.name).toBe('atelier-tiny');
    expect(model.trainContextSize).toBe(4096);
    expect(model.fileInfo.tensorInfo?.length).toBe(3 + 9 * tiny.layers);
    expect(metadata.tokenizer.ggml.tokens).toHaveLength(tiny.vocabSize);
    expect(tiny.vocabSize).toBeGreaterThan(256 + 200);
    expect(model.tokens.eos).toBe(tiny.specialTokens.imEnd);
    expect(model.tokens.eosString).toBe('<|im_end|>');
    expect(model.tokens.shouldPrependBosToken).toBe(false);
  });

  it('tokenizes ChatML markers as single special tokens', () => {
    const tokens = model.tokenize('<|im_start|>user\nhello<|im_end|>', true);
    expect(tokens[0]).toBe(tiny.specialTokens.imStart);
    expect(tokens.at(-1)).toBe(tiny.specialTokens.imEnd);
    expect(tokens.filter((token) => token >= tiny.specialTokens.endOfText)).toHaveLength(2);
    // As plain text (no special-token parsing) the markers are just characters.
    expect(model.tokenize('<|im_start|>', false)).not.toContain(tiny.specialTokens.imStart);
  });

  it('splits English into multi-character tokens', () => {
    const text = 'When the assistant answers a question, it thinks about what the person wants to know.';
    const tokens = model.tokenize(text);
    expect(tokens.length).toBeLessThan(text.length / 2.5);
  });

  it('round-trips ASCII and non-ASCII text through tokenize and detokenize', () => {
    for (const text of [
      'The workshop opens early , and "quotes" stay.\n\n  Indented {"json": [1, 2]}',
      'héllo 世界 🎉 naïve café',
    ]) {
      expect(model.detokenize(model.tokenize(text))).toBe(text);
    }
  });

  it('is recognised as a ChatML model', () => {
    expect(model.fileInfo.metadata.tokenizer.chat_template).toBe(CHATML_TEMPLATE);
    expect(resolveChatWrapper(model)).toBeInstanceOf(ChatMLChatWrapper);
    const sequence = context.getSequence();
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: true });
    expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
    session.dispose();
  });

  it('samples the same text for the same seed and different text for another', async () => {
    const first = await complete({ seed: 7, maxTokens: 48 });
    const second = await complete({ seed: 7, maxTokens: 48 });
    const other = await complete({ seed: 8, maxTokens: 48 });
    expect(first.response.length).toBeGreaterThan(0);
    expect(second.response).toBe(first.response);
    expect(other.response).not.toBe(first.response);
  });

  it('samples printable text and ends replies with <|im_end|> on its own', async () => {
    const lengths: number[] = [];
    const started = performance.now();
    for (let seed = 0; seed < 8; seed++) {
      const { response, metadata } = await complete({ seed, maxTokens: 1000 });
      expect(metadata.stopReason).toBe('eogToken');
      expect(response).toMatch(/^[\x20-\x7e\n]*$/);
      lengths.push(model.tokenize(response).length);
    }
    const tokensPerSecond =
      lengths.reduce((sum, length) => sum + length, 0) / ((performance.now() - started) / 1000);
    console.info(`reply lengths ${lengths.join(', ')} tokens; ${tokensPerSecond.toFixed(0)} tokens/s`);
  });

  it('produces valid JSON under a JSON-schema grammar', async () => {
    const grammar = await llama.createGrammarForJsonSchema({
      type: 'object',
      properties: {
        name: { type: 'string' },
        count: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' } },
        ok: { type: 'boolean' },
      },
      required: ['name', 'count', 'tags', 'ok'],
    } as const);
    for (const seed of [1, 2, 3]) {
      const session = new LlamaChatSession({
        contextSequence: context.getSequence(),
        autoDisposeSequence: true,
      });
      try {
        const text = await session.prompt('Describe an order as JSON.', {
          grammar,
          temperature: 1,
          seed,
          maxTokens: 500,
        });
        const value = JSON.parse(text) as Record<string, unknown>;
        expect(typeof value['name']).toBe('string');
        expect(Number.isInteger(value['count'])).toBe(true);
        expect(Array.isArray(value['tags'])).toBe(true);
        expect(typeof value['ok']).toBe('boolean');
      } finally {
        session.dispose();
      }
    }
  });

  it('computes embeddings', async () => {
    const embeddings = await model.createEmbeddingContext({ threads: THREADS });
    try {
      const hello = await embeddings.getEmbeddingFor('hello world');
      const helloAgain = await embeddings.getEmbeddingFor('hello world');
      const other = await embeddings.getEmbeddingFor('the workshop opens early');
      expect(hello.vector).toHaveLength(tiny.dim);
      expect(hello.vector.every(Number.isFinite)).toBe(true);
      expect(helloAgain.vector).toEqual(hello.vector);
      expect(other.vector).not.toEqual(hello.vector);
    } finally {
      await embeddings.dispose();
    }
  });

  it('pads the vocabulary to a requested size without changing tokenization', async () => {
    const padded = await makeTestModel({ path: join(directory, 'padded.gguf'), vocabSize: 4096 });
    const paddedModel = await llama.loadModel({ modelPath: padded.path });
    try {
      expect(padded.vocabSize).toBe(4096);
      expect(paddedModel.fileInfo.metadata.tokenizer.ggml.tokens).toHaveLength(4096);
      const text = '<|im_start|>user\nThe weather is clear.<|im_end|>';
      expect(paddedModel.tokenize(text, true)).toEqual(model.tokenize(text, true));
    } finally {
      await paddedModel.dispose();
      await rm(padded.path);
    }
  });

  it('rejects invalid options with an InvalidRequestError and writes nothing', async () => {
    const path = join(directory, 'invalid.gguf');
    const cases: [Partial<Parameters<typeof makeTestModel>[0]>, RegExp][] = [
      [{ dim: 100, heads: 3 }, /divisible by heads/],
      [{ heads: 4, kvHeads: 3 }, /divisible by kvHeads/],
      [{ dim: 96, heads: 32 }, /must be even/],
      [{ layers: 0 }, /layers must be an integer/],
      [{ seed: -1 }, /seed/],
      [{ dim: 64.5 }, /dim must be an integer/],
      [{ vocabSize: 10 }, /vocabSize must be an integer from \d+/],
      [{ dim: 16_384, layers: 256, ff: 131_072 }, /parameters/],
    ];
    for (const [options, message] of cases) {
      const attempt = makeTestModel({ path, ...options });
      await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(attempt).rejects.toThrow(message);
    }
    expect(await readdir(directory)).not.toContain('invalid.gguf');
  });
});
