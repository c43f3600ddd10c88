// Domain → wire for tools, tool resources and run options, in the generation the client speaks.
import type {
  AssistantsResponseFormat,
  AssistantToolV1,
  AssistantToolV2,
  FunctionToolWire,
  ToolChoiceV1,
  ToolChoiceV2,
  ToolResources as WireToolResources,
  TruncationStrategy as WireTruncationStrategy,
} from '@atelier/protocol';
import type {
  AssistantTool,
  FunctionSpec,
  ResponseFormatOption,
  ToolChoiceOption,
  ToolResources,
  TruncationStrategy,
} from '../storage/assistants-domain.js';
import type { AssistantsVersion } from './assistants-version.js';

export function toWireToolsV1(tools: readonly AssistantTool[]): AssistantToolV1[] {
  return tools.map((tool): AssistantToolV1 => {
    if (tool.type === 'file_search') return { type: 'retrieval' };
    if (tool.type === 'code_interpreter') return { type: 'code_interpreter' };
    return { type: 'function', function: toWireFunction(tool.function) };
  });
}

export function toWireToolsV2(tools: readonly AssistantTool[]): AssistantToolV2[] {
  return tools.map((tool): AssistantToolV2 => {
    if (tool.type === 'code_interpreter') return { type: 'code_interpreter' };
    if (tool.type === 'function') return { type: 'function', function: toWireFunction(tool.function) };
    if (!tool.fileSearch) return { type: 'file_search' };
    return {
      type: 'file_search',
      file_search: {
        ...(tool.fileSearch.maxNumResults !== undefined
          ? { max_num_results: tool.fileSearch.maxNumResults }
          : {}),
        ...(tool.fileSearch.rankingOptions
          ? {
              ranking_options: {
                ...(tool.fileSearch.rankingOptions.ranker
                  ? { ranker: tool.fileSearch.rankingOptions.ranker }
                  : {}),
                score_threshold: tool.fileSearch.rankingOptions.scoreThreshold,
              },
            }
          : {}),
      },
    };
  });
}

function toWireFunction(spec: FunctionSpec): FunctionToolWire['function'] {
  return {
    name: spec.name,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.parameters !== undefined ? { parameters: { ...spec.parameters } } : {}),
    ...(spec.strict !== undefined ? { strict: spec.strict } : {}),
  };
}

export function toWireToolResources(resources: ToolResources): WireToolResources {
  return {
    ...(resources.codeInterpreter
      ? { code_interpreter: { file_ids: [...resources.codeInterpreter.fileIds] } }
      : {}),
    ...(resources.fileSearch
      ? { file_search: { vector_store_ids: [...resources.fileSearch.vectorStoreIds] } }
      : {}),
  };
}

export function toWireResponseFormat(format: ResponseFormatOption): AssistantsResponseFormat {
  if (typeof format === 'string') return format;
  if (format.type !== 'json_schema') return { type: format.type };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.jsonSchema.name,
      ...(format.jsonSchema.description !== undefined ? { description: format.jsonSchema.description } : {}),
      ...(format.jsonSchema.schema !== undefined ? { schema: { ...format.jsonSchema.schema } } : {}),
      ...(format.jsonSchema.strict !== undefined ? { strict: format.jsonSchema.strict } : {}),
    },
  };
}

export function toWireToolChoice(
  choice: ToolChoiceOption,
  version: AssistantsVersion,
): ToolChoiceV1 | ToolChoiceV2 {
  if (typeof choice === 'string') return version === 'v1' && choice === 'required' ? 'auto' : choice;
  if (choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  if (choice.type === 'file_search' && version === 'v1') return { type: 'retrieval' };
  return { type: choice.type };
}

export function toWireTruncation(strategy: TruncationStrategy): WireTruncationStrategy {
  return { type: strategy.type, last_messages: strategy.lastMessages };
}
