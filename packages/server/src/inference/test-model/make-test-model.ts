// Generates the random-weight GGUF model that all tests and benchmarks run on (machines reach no
// model hub): a real llama-architecture file with a trained byte-level BPE vocabulary and ChatML.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidRequestError } from '../../errors.js';
import { bytesToUnicode, trainByteLevelBpe } from './byte-level-bpe.js';
import { type GgufMetadata, type GgufTensor, type GgufTensorType, gguf, writeGguf } from './gguf-writer.js';
import { SeededRandom } from './seeded-random.js';
import { TRAINING_TEXT } from './training-text.js';

export interface MakeTestModelOptions {
  /** Where to write the .gguf file; missing folders are created. */
  readonly path: string;
  /** Same options and seed give the same file, byte for byte. */
  readonly seed?: number;
  /** Embedding width (`llama.embedding_length`). */
  readonly dim?: number;
  readonly layers?: number;
  readonly heads?: number;
  /** Fewer key/value heads than query heads gives grouped-query attention, as most current models use. */
  readonly kvHeads?: number;
  /** Feed-forward width; defaults to llama's 8/3 × dim, rounded up to a multiple of 64. */
  readonly ff?: number;
  /** Training context length (`llama.context_length`), the most a context may hold. */
  readonly context?: number;
  readonly name?: string;
  /**
   * Pads the vocabulary with never-sampled `<|unused_N|>` tokens up to this size, so the output
   * layer and the sampler cost what they cost in a real model (e.g. 32000 or 151936). By default
   * the vocabulary is just the trained one (a few hundred tokens).
   */
  readonly vocabSize?: number;
  /** Storage type of the weight matrices (norms are always F32, as in converted models). */
  readonly weightType?: GgufTensorType;
  /**
   * Expected length of a reply sampled at temperature 1 before the model emits `<|im_end|>`,
   * so unconstrained generations finish with "stop"; `Infinity` makes them run to the token limit.
   */
  readonly meanReplyTokens?: number;
}

export interface TestModelSpecialTokens {
  readonly endOfText: number;
  readonly imStart: number;
  readonly imEnd: number;
  readonly fimPrefix: number;
  readonly fimSuffix: number;
  readonly fimMiddle: number;
}

export interface TestModel {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly name: string;
  readonly seed: number;
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly ff: number;
  readonly context: number;
  readonly weightType: GgufTensorType;
  readonly vocabSize: number;
  readonly mergeCount: number;
  readonly parameterCount: number;
  readonly specialTokens: TestModelSpecialTokens;
}

/** The standard ChatML template (as shipped with Qwen2/OpenHermes-style models). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * A benchmark-sized model: shaped like current ~0.2B models (grouped-query attention, a 32k
 * vocabulary), about 420 MB as F16, so loading, prefill and decoding cost what they would for real.
 */
export const BENCHMARK_MODEL_OPTIONS = {
  dim: 1024,
  layers: 16,
  heads: 16,
  kvHeads: 4,
  vocabSize: 32_000,
  name: 'atelier-bench',
} as const satisfies Partial<MakeTestModelOptions>;

// ChatML, then the fill-in-the-middle markers that legacy completions' `suffix` needs (as Qwen2).
const SPECIAL_TOKENS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|fim_prefix|>',
  '<|fim_suffix|>',
  '<|fim_middle|>',
] as const;
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_CONTROL = 3;
/** Unlike control tokens, llama.cpp leaves these out of the special-token scan of every tokenize. */
const TOKEN_TYPE_UNUSED = 5;
const MAX_VOCAB_SIZE = 262_144;
/** Enough for the training text: it yields a few hundred merges that occur at least twice. */
const MAX_MERGES = 1000;
const MAX_PARAMETERS = 8e9;
/** A logit far enough below the rest that sampling never picks the token, even at temperature 2. */
const NEVER = -40;
/**
 * The residual stream keeps one coordinate (the last) at a constant value: the embeddings set it,
 * no layer writes to it and no layer reads it. After the final RMS norm it reads ≈ √(dim / (2 + λ)),
 * so an output row's entry there acts as a per-token logit bias. λ is the share of energy the
 * layers add to the other coordinates (small by construction of their output scale).
 */
const LAYER_ENERGY = 0.2;
/** Standard deviation of the context-dependent part of the logits, on top of the biases. */
const LOGIT_NOISE = 1;

/**
 * Writes the model. The defaults give a ~1 MB file that loads in tens of milliseconds and samples
 * over a thousand tokens/s on one CPU core; see BENCHMARK_MODEL_OPTIONS for a realistic load.
 */
export async function makeTestModel({
  path,
  seed = 0,
  dim = 128,
  layers = 2,
  heads = 4,
  kvHeads = heads,
  ff = Math.ceil((dim * 8) / 3 / 64) * 64,
  context = 4096,
  name = 'atelier-tiny',
  vocabSize = undefined,
  weightType = 'f16',
  meanReplyTokens = 64,
}: MakeTestModelOptions): Promise<TestModel> {
  validateOptions({
    path,
    seed,
    dim,
    layers,
    heads,
    kvHeads,
    ff,
    context,
    name,
    weightType,
    meanReplyTokens,
  });
  const headDim = dim / heads;
  const kvDim = kvHeads * headDim;

  const bpe = trainByteLevelBpe({ text: TRAINING_TEXT, maxMerges: MAX_MERGES });
  const trainedSize = bpe.tokens.length + SPECIAL_TOKENS.length;
  if (vocabSize !== undefined) integerIn('vocabSize', vocabSize, trainedSize, MAX_VOCAB_SIZE);
  const padding = Array.from(
    { length: (vocabSize ?? trainedSize) - trainedSize },
    (_, index) => `<|unused_${index}|>`,
  );
  const tokens = [...bpe.tokens, ...SPECIAL_TOKENS, ...padding];
  const tokenTypes = tokens.map((_, id) =>
    id < bpe.tokens.length ? TOKEN_TYPE_NORMAL : id < trainedSize ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_UNUSED,
  );
  validateSize({ dim, layers, kvDim, ff, vocabSize: tokens.length });
  const specialTokens: TestModelSpecialTokens = {
    endOfText: bpe.tokens.length,
    imStart: bpe.tokens.length + 1,
    imEnd: bpe.tokens.length + 2,
    fimPrefix: bpe.tokens.length + 3,
    fimSuffix: bpe.tokens.length + 4,
    fimMiddle: bpe.tokens.length + 5,
  };
  const logitBias = tokenLogitBiases({ tokens: bpe.tokens, counts: bpe.tokenCounts, meanReplyTokens });

  const metadata: GgufMetadata = {
    'general.architecture': gguf.string('llama'),
    'general.type': gguf.string('model'),
    'general.name': gguf.string(name),
    'general.description': gguf.string(
      'Random weights generated by Atelier for tests and benchmarks: its text is noise.',
    ),
    'general.file_type': gguf.uint32(weightType === 'f16' ? 1 : 0),
    'llama.vocab_size': gguf.uint32(tokens.length),
    'llama.context_length': gguf.uint32(context),
    'llama.embedding_length': gguf.uint32(dim),
    'llama.block_count': gguf.uint32(layers),
    'llama.feed_forward_length': gguf.uint32(ff),
    'llama.attention.head_count': gguf.uint32(heads),
    'llama.attention.head_count_kv': gguf.uint32(kvHeads),
    'llama.rope.dimension_count': gguf.uint32(headDim),
    'llama.rope.freq_base': gguf.float32(10_000),
    'llama.attention.layer_norm_rms_epsilon': gguf.float32(1e-5),
    'tokenizer.ggml.model': gguf.string('gpt2'),
    // Qwen2's split (digits one by one) and, unlike "default"/"gpt-2", no clean-up of spaces
    // before punctuation on detokenization, so detokenize(tokenize(s)) === s.
    'tokenizer.ggml.pre': gguf.string('qwen2'),
    'tokenizer.ggml.tokens': gguf.strings(tokens),
    'tokenizer.ggml.token_type': gguf.int32s(tokenTypes),
    'tokenizer.ggml.merges': gguf.strings(bpe.merges),
    // As Qwen2 files do: <|endoftext|> serves as BOS/padding, but no BOS is added to prompts.
    'tokenizer.ggml.bos_token_id': gguf.uint32(specialTokens.endOfText),
    'tokenizer.ggml.eos_token_id': gguf.uint32(specialTokens.imEnd),
    'tokenizer.ggml.padding_token_id': gguf.uint32(specialTokens.endOfText),
    'tokenizer.ggml.fim_pre_token_id': gguf.uint32(specialTokens.fimPrefix),
    'tokenizer.ggml.fim_suf_token_id': gguf.uint32(specialTokens.fimSuffix),
    'tokenizer.ggml.fim_mid_token_id': gguf.uint32(specialTokens.fimMiddle),
    'tokenizer.ggml.add_bos_token': gguf.bool(false),
    'tokenizer.chat_template': gguf.string(CHATML_TEMPLATE),
  };

  const biasChannel = dim - 1;
  // Pre-norm blocks read RMS-normalised input, so fan-in scaling keeps activations near unit
  // size; the GPT-2 style 1/√(2·layers) on output projections keeps the residual stream, and
  // with it the bias channel's share, nearly the same at any depth.
  const inputScale = 1 / Math.sqrt(dim);
  const residualScale = 1 / Math.sqrt(2 * layers);
  const biasReadout = Math.sqrt(dim / (2 + LAYER_ENERGY));
  const outputNoise = LOGIT_NOISE * Math.sqrt((2 + LAYER_ENERGY) / ((1 + LAYER_ENERGY) * dim));

  const matrix = (
    tensorName: string,
    inputs: number,
    outputs: number,
    fillRow: (row: Float32Array, index: number, random: SeededRandom) => void,
  ): GgufTensor => ({
    name: tensorName,
    shape: [inputs, outputs],
    type: weightType,
    data: () => rows({ seed, stream: tensorName, rowLength: inputs, rowCount: outputs, fillRow }),
  });
  const ones = (tensorName: string): GgufTensor => ({
    name: tensorName,
    shape: [dim],
    type: 'f32',
    data: () => [new Float32Array(dim).fill(1)],
  });
  // Reads the normalised stream but not the bias channel, so the channel stays invisible to layers.
  const reader = (tensorName: string, outputs: number) =>
    matrix(tensorName, dim, outputs, (row, _index, random) => {
      gaussianFill(row, random, inputScale);
      row[biasChannel] = 0;
    });
  // Writes into the residual stream everywhere except the bias channel.
  const writer = (tensorName: string, inputs: number) =>
    matrix(tensorName, inputs, dim, (row, index, random) => {
      if (index === biasChannel) row.fill(0);
      else gaussianFill(row, random, residualScale / Math.sqrt(inputs));
    });

  const tensors: GgufTensor[] = [
    matrix('token_embd.weight', dim, tokens.length, (row, _index, random) => {
      gaussianFill(row, random, 1);
      // Holds half the stream's energy, which makes its normalised value nearly constant.
      row[biasChannel] = Math.sqrt(dim - 1);
    }),
  ];
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `blk.${layer}`;
    tensors.push(
      ones(`${prefix}.attn_norm.weight`),
      reader(`${prefix}.attn_q.weight`, dim),
      reader(`${prefix}.attn_k.weight`, kvDim),
      reader(`${prefix}.attn_v.weight`, kvDim),
      writer(`${prefix}.attn_output.weight`, dim),
      ones(`${prefix}.ffn_norm.weight`),
      reader(`${prefix}.ffn_gate.weight`, ff),
      reader(`${prefix}.ffn_up.weight`, ff),
      writer(`${prefix}.ffn_down.weight`, ff),
    );
  }
  tensors.push(
    ones('output_norm.weight'),
    matrix('output.weight', dim, tokens.length, (row, index, random) => {
      gaussianFill(row, random, outputNoise);
      row[biasChannel] = (logitBias[index] ?? NEVER) / biasReadout;
    }),
  );

  const absolutePath = resolve(path);
  await mkdir(dirname(absolutePath), { recursive: true });
  const written = await writeGguf({ path: absolutePath, metadata, tensors, alignment: 32 });
  return {
    path: written.path,
    bytes: written.bytes,
    sha256: written.sha256,
    name,
    seed,
    dim,
    layers,
    heads,
    kvHeads,
    ff,
    context,
    weightType,
    vocabSize: tokens.length,
    mergeCount: bpe.merges.length,
    parameterCount: parameterCount({ dim, layers, kvDim, ff, vocabSize: tokens.length }),
    specialTokens,
  };
}

/**
 * The logit each token gets regardless of context: a unigram model of the training text over
 * tokens that decode to printable ASCII (so samples look like jumbled English and are valid
 * UTF-8), never for other bytes or the structural specials, and for <|im_end|> the value that
 * makes it the sampled token with probability 1/meanReplyTokens per step.
 */
function tokenLogitBiases({
  tokens,
  counts,
  meanReplyTokens,
}: {
  tokens: readonly string[];
  counts: readonly number[];
  meanReplyTokens: number;
}): number[] {
  const byteOf = new Map(bytesToUnicode().map((symbol, byte) => [symbol, byte]));
  const printable = tokens.map((token) =>
    [...token].every((symbol) => {
      const byte = byteOf.get(symbol) ?? -1;
      return (byte >= 0x20 && byte <= 0x7e) || byte === 0x0a;
    }),
  );
  const smoothing = 0.5;
  let total = 0;
  tokens.forEach((_, id) => {
    if (printable[id]) total += (counts[id] ?? 0) + smoothing;
  });
  const biases = tokens.map((_, id) =>
    printable[id] ? Math.log(((counts[id] ?? 0) + smoothing) / total) : NEVER,
  );
  // Printable tokens carry probability mass 1 in total, so odds q / (1 - q) give <|im_end|> share q.
  const stopShare = 1 / meanReplyTokens;
  const endOfReply = Number.isFinite(meanReplyTokens) ? Math.log(stopShare / (1 - stopShare)) : NEVER;
  return [...biases, NEVER, NEVER, endOfReply]; // anything after (padding) is NEVER too
}

/** Rows of a matrix in storage order, a few at a time, each from the tensor's own random stream. */
function* rows({
  seed,
  stream,
  rowLength,
  rowCount,
  fillRow,
}: {
  seed: number;
  stream: string;
  rowLength: number;
  rowCount: number;
  fillRow: (row: Float32Array, index: number, random: SeededRandom) => void;
}): Generator<Float32Array> {
  const random = new SeededRandom(seed, stream);
  const rowsPerChunk = Math.max(1, Math.floor((1 << 16) / rowLength));
  for (let first = 0; first < rowCount; first += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, rowCount - first);
    const chunk = new Float32Array(count * rowLength);
    for (let offset = 0; offset < count; offset++) {
      fillRow(chunk.subarray(offset * rowLength, (offset + 1) * rowLength), first + offset, random);
    }
    yield chunk;
  }
}

function gaussianFill(row: Float32Array, random: SeededRandom, scale: number): void {
  for (let index = 0; index < row.length; index++) row[index] = random.nextGaussian() * scale;
}

function parameterCount({
  dim,
  layers,
  kvDim,
  ff,
  vocabSize,
}: {
  dim: number;
  layers: number;
  kvDim: number;
  ff: number;
  vocabSize: number;
}): number {
  const perLayer = 2 * dim + 2 * dim * dim + 2 * dim * kvDim + 3 * dim * ff;
  return 2 * vocabSize * dim + dim + layers * perLayer;
}

function validateOptions(options: Required<Omit<MakeTestModelOptions, 'vocabSize'>>): void {
  const { path, seed, dim, layers, heads, kvHeads, ff, context, name, weightType, meanReplyTokens } = options;
  if (typeof path !== 'string' || path.length === 0) invalid('path', 'path must be a non-empty string');
  if (!Number.isSafeInteger(seed) || seed < 0)
    invalid('seed', `seed must be a non-negative integer, got ${seed}`);
  integerIn('dim', dim, 8, 16_384);
  integerIn('layers', layers, 1, 256);
  integerIn('heads', heads, 1, 256);
  integerIn('kvHeads', kvHeads, 1, 256);
  integerIn('ff', ff, 1, 131_072);
  integerIn('context', context, 16, 1 << 20);
  if (dim % heads !== 0) invalid('dim', `dim (${dim}) must be divisible by heads (${heads})`);
  // RoPE rotates pairs of coordinates, so each head needs an even size.
  if ((dim / heads) % 2 !== 0)
    invalid('heads', `dim / heads (${dim / heads}) must be even for rotary embeddings`);
  if (heads % kvHeads !== 0) invalid('kvHeads', `heads (${heads}) must be divisible by kvHeads (${kvHeads})`);
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 256) {
    invalid('name', 'name must be a non-empty string of at most 256 characters');
  }
  if (weightType !== 'f16' && weightType !== 'f32')
    invalid('weightType', `weightType must be "f16" or "f32"`);
  if (typeof meanReplyTokens !== 'number' || Number.isNaN(meanReplyTokens) || meanReplyTokens <= 1) {
    invalid('meanReplyTokens', 'meanReplyTokens must be a number greater than 1 (or Infinity)');
  }
}

function validateSize(shape: Parameters<typeof parameterCount>[0]): void {
  const parameters = parameterCount(shape);
  if (parameters > MAX_PARAMETERS) {
    invalid(
      'dim',
      `the model would have ${parameters.toExponential(2)} parameters; the limit is ${MAX_PARAMETERS}`,
    );
  }
}

function integerIn(param: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    invalid(param, `${param} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function invalid(param: string, message: string): never {
  throw new InvalidRequestError(`Invalid test model options: ${message}`, {
    param,
    code: 'invalid_test_model_options',
  });
}
