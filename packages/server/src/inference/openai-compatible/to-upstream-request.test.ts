// What the engine asks an upstream for: `parallel_tool_calls` goes with the tools only when the
// run or request turned parallel calls off (OpenAI's default is on; some servers reject the key).
import { describe, expect, it } from 'vitest';
import { chatRequest } from '../../test-support/chat-request.js';
import { toUpstreamRequest } from './to-upstream-request.js';

const text = 'Weather in Oslo and Bergen?';

describe('toUpstreamRequest parallel_tool_calls', () => {
  it('is sent as false when parallel calls are off', () => {
    const { body } = toUpstreamRequest({
      request: chatRequest({ text, parallelToolCalls: false }),
      model: 'gpt',
    });
    expect(body).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false });
  });

  it('is left out when parallel calls are on, or when there are no tools', () => {
    for (const built of [
      chatRequest({ text, parallelToolCalls: true }),
      chatRequest({ text, tools: [], parallelToolCalls: false }),
    ]) {
      const { body } = toUpstreamRequest({ request: built, model: 'gpt' });
      expect(body).not.toHaveProperty('parallel_tool_calls');
    }
  });
});

describe('toUpstreamRequest strict function tools', () => {
  it('passes `strict` on as the client gave it, and leaves it out when the client did', () => {
    const parameters = { type: 'object', properties: {}, additionalProperties: false };
    const { body } = toUpstreamRequest({
      request: chatRequest({
        text,
        tools: [
          { name: 'strict_one', parameters, strict: true },
          { name: 'loose_one', parameters, strict: false },
          { name: 'plain_one', parameters },
        ],
      }),
      model: 'gpt',
    });
    expect(body['tools']).toEqual([
      { type: 'function', function: { name: 'strict_one', parameters, strict: true } },
      { type: 'function', function: { name: 'loose_one', parameters, strict: false } },
      { type: 'function', function: { name: 'plain_one', parameters } },
    ]);
  });
});
