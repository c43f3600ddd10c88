// A client's function (chat completions' `tools`/`functions`, an assistant's function tool) as the
// provider spec's ToolDefinition: what every path that hands functions to a model builds alike.
import type { ToolDefinition } from './spec.js';

export function toToolDefinition(fn: {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly parameters?: Record<string, unknown> | null | undefined;
  readonly strict?: boolean | null | undefined;
}): ToolDefinition {
  return {
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    // Without `parameters` a function takes none (under strict: exactly none).
    parameters: fn.parameters ?? {
      type: 'object',
      properties: {},
      ...(fn.strict === true ? { additionalProperties: false } : {}),
    },
    ...(typeof fn.strict === 'boolean' ? { strict: fn.strict } : {}),
  };
}
