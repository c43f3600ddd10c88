// The anchor of bench/inference.ts: the same model, context and threads driven straight through
// node-llama-cpp, in its own process. Prints one JSON line per round.
import { getLlama, LlamaLogLevel, type Token, TokenBias } from 'node-llama-cpp';

const [modelPath, streamsText, tokensText, roundsText, threadsText, contextText] = process.argv.slice(2);
const streams = Number(streamsText);
const maxTokens = Number(tokensText);
const rounds = Number(roundsText);

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: modelPath! });
const context = await model.createContext({
  contextSize: Number(contextText),
  sequences: 4,
  threads: Number(threadsText),
  batchSize: Math.min(512, Number(contextText)),
});
const sequences = Array.from({ length: 4 }, () => context.getSequence());
const prompt = model.tokenize('The quick brown fox jumps over the lazy dog. Once upon a time', false);
const bias = TokenBias.for(model);
for (const token of [model.tokens.eos, model.tokens.eot])
  if (token !== null) bias.set(token as Token, 'never');

async function generate(index: number, seed: number): Promise<number> {
  const sequence = sequences[index]!;
  await sequence.clearHistory();
  let count = 0;
  for await (const _token of sequence.evaluate(prompt, {
    // The server's sampling for top_p 1: no top-k, no top-p.
    temperature: 1,
    topK: 0,
    topP: 1,
    seed,
    tokenBias: bias,
    yieldEogToken: true,
  })) {
    count += 1;
    if (count >= maxTokens) break;
  }
  return count;
}

for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: streams }, (_, index) => generate(index, 1000 + round * 10 + index)),
  );
  const seconds = (performance.now() - started) / 1000;
  const tokens = counts.reduce((sum, count) => sum + count, 0);
  process.stdout.write(`${JSON.stringify({ tokens, seconds })}\n`);
}
await context.dispose();
await model.dispose();
