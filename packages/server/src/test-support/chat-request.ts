// A chat request as the engine hands it to a model, for the tests of the model adapters: one
// user turn, the weather tool, sampling at OpenAI's defaults and no output constraint.

import { defaultSampling } from '../inference/sampling.js';
import type { GenerateRequest, ToolDefinition, ToolMode } from '../inference/spec.js';

/** The tool those tests offer: a city's weather. */
export const WEATHER_TOOL: ToolDefinition = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

export function chatRequest({
  text,
  tools = [WEATHER_TOOL],
  toolMode = { type: 'auto' },
  parallelToolCalls = true,
}: {
  text: string;
  tools?: readonly ToolDefinition[];
  toolMode?: ToolMode;
  parallelToolCalls?: boolean;
}): GenerateRequest {
  return {
    input: {
      type: 'chat',
      messages: [{ role: 'user', content: [{ type: 'text', text }] }],
      tools,
      toolMode,
      parallelToolCalls,
    },
    sampling: defaultSampling(),
    constraint: { type: 'none' },
  };
}
