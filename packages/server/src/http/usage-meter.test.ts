import { describe, expect, it } from 'vitest';
import { UpstreamUsage } from './usage-meter.js';

const request = Buffer.from(
  JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(40) }] }),
);

/** Feeds `text` cut into pieces of `size` bytes. */
function seen(text: string, size = 7): UpstreamUsage {
  const usage = new UpstreamUsage();
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) usage.inspect(bytes.subarray(at, at + size));
  return usage;
}

const event = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\n\n`;

describe('UpstreamUsage', () => {
  it("reads the upstream's usage from the end, however the pieces fell", () => {
    const stream =
      event({ choices: [{ delta: { content: 'say "usage": {"prompt_tokens": 999}' } }], usage: null }) +
      event({
        choices: [],
        usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } },
      }) +
      'data: [DONE]\n\n';
    for (const size of [1, 5, 64, 4096]) {
      expect(seen(stream, size).tokens({ requestBody: request })).toEqual({
        inputTokens: 12,
        cachedInputTokens: 4,
        outputTokens: 3,
        estimated: false,
      });
    }
    const json = JSON.stringify({
      choices: [{ message: { content: '"usage":{}' } }],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    });
    expect(seen(json).tokens({ requestBody: request })).toMatchObject({
      inputTokens: 5,
      outputTokens: 2,
      estimated: false,
    });
  });

  it('estimates an answer without usage: a token per text event, at least a quarter of the characters', () => {
    const stream = [' one', ' two', ' three']
      .map((text) => event({ choices: [{ delta: { content: text } }] }))
      .join('');
    expect(seen(`${stream}data: [DONE]\n\n`).tokens({ requestBody: request })).toEqual({
      inputTokens: 10,
      cachedInputTokens: 0,
      outputTokens: 4,
      estimated: true,
    });
    const long = event({ choices: [{ delta: { content: 'y'.repeat(400) } }] });
    expect(seen(long).tokens({ requestBody: request }).outputTokens).toBe(100);
  });

  it('keeps only the last MiB of a long answer, and scales the estimate', () => {
    const piece = Buffer.from(event({ choices: [{ delta: { content: 'z'.repeat(1000) } }] }));
    const usage = new UpstreamUsage();
    for (let index = 0; index < 3000; index++) usage.inspect(piece);
    const { outputTokens, estimated } = usage.tokens({ requestBody: request });
    expect(estimated).toBe(true);
    expect(outputTokens).toBeGreaterThan(740_000);
    expect(outputTokens).toBeLessThan(760_000);
  });
});
