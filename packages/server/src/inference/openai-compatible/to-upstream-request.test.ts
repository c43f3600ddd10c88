// What the engine asks an upstream for: `parallel_tool_calls` goes with the tools only when the
// run or request turned parallel calls off (OpenAI's default is on; some servers reject the key).
import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec.js';
import { toUpstreamRequest } from './to-upstream-request.js';

function request({
  parallelToolCalls,
  withTools = true,
}: {
  parallelToolCalls: boolean;
  withTools?: boolean;
}): GenerateRequest {
  return {
    input: {
      type: 'chat',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Bergen?' }] }],
      tools: withTools ? [{ name: 'get_weather', parameters: { type: 'object' } }] : [],
      toolMode: { type: 'auto' },
      parallelToolCalls,
    },
    sampling: {
      temperature: 1,
      topP: 1,
      stop: [],
      presencePenalty: 0,
      frequencyPenalty: 0,
      logitBias: new Map(),
    },
    constraint: { type: 'none' },
  };
}

describe('toUpstreamRequest parallel_tool_calls', () => {
  it('is sent as false when parallel calls are off', () => {
    const { body } = toUpstreamRequest({ request: request({ parallelToolCalls: false }), model: 'gpt' });
    expect(body).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false });
  });

  it('is left out when parallel calls are on, or when there are no tools', () => {
    for (const built of [
      request({ parallelToolCalls: true }),
      request({ parallelToolCalls: false, withTools: false }),
    ]) {
      const { body } = toUpstreamRequest({ request: built, model: 'gpt' });
      expect(body).not.toHaveProperty('parallel_tool_calls');
    }
  });
});
