// Wire → domain for what assistants, threads and runs share: tools (v1 `retrieval` becomes
// `file_search`), tool resources, response format, tool choice and truncation strategy.
import type {
  AssistantsResponseFormat,
  AssistantToolV1Param,
  AssistantToolV2Param,
  ToolChoiceV1,
  ToolChoiceV2,
  ToolResourcesCreateParam,
  ToolResourcesUpdateParam,
} from '@atelier/protocol';
import { InvalidRequestError } from '../errors.js';
import { checkStrictFunction, checkStrictSchema } from '../inference/structured-output/grammar-schema.js';
import type {
  AssistantTool,
  ResponseFormatOption,
  ToolChoiceOption,
  ToolResources,
  TruncationStrategy,
} from '../storage/assistants-domain.js';
import type { FileSearchTool } from '../tools/spec.js';

export function fromWireTools(
  tools: readonly (AssistantToolV1Param | AssistantToolV2Param)[],
): AssistantTool[] {
  return tools.map((tool, index) => fromWireTool(tool, index));
}

function fromWireTool(tool: AssistantToolV1Param | AssistantToolV2Param, index: number): AssistantTool {
  switch (tool.type) {
    case 'function':
      // Structured Outputs for function calling: refused when the assistant or run is created.
      if (tool.function.strict === true && tool.function.parameters !== undefined) {
        checkStrictFunction(tool.function.parameters, {
          param: `tools[${index}].function.parameters`,
          name: tool.function.name,
        });
      }
      return {
        type: 'function',
        function: {
          name: tool.function.name,
          ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
          ...(tool.function.parameters !== undefined ? { parameters: tool.function.parameters } : {}),
          ...(tool.function.strict !== undefined && tool.function.strict !== null
            ? { strict: tool.function.strict }
            : {}),
        },
      };
    case 'code_interpreter':
      return { type: 'code_interpreter' };
    case 'retrieval':
      return { type: 'file_search' };
    case 'file_search': {
      const options = tool.file_search;
      if (!options) return { type: 'file_search' };
      return {
        type: 'file_search',
        fileSearch: {
          ...(options.max_num_results !== undefined ? { maxNumResults: options.max_num_results } : {}),
          ...(options.ranking_options
            ? {
                rankingOptions: {
                  ...(options.ranking_options.ranker ? { ranker: options.ranking_options.ranker } : {}),
                  scoreThreshold: options.ranking_options.score_threshold,
                },
              }
            : {}),
        },
      };
    }
  }
}

/**
 * `tool_resources` → domain. The `vector_stores` helper creates a store through the retrieval
 * backend; without one that can, it is a clear 400.
 */
export async function fromWireToolResources(
  resources: ToolResourcesCreateParam | ToolResourcesUpdateParam | null | undefined,
  {
    workspaceId,
    fileSearch,
    param = 'tool_resources',
  }: { workspaceId: string; fileSearch: FileSearchTool | undefined; param?: string },
): Promise<ToolResources> {
  if (!resources) return {};
  const result: { codeInterpreter?: { fileIds: string[] }; fileSearch?: { vectorStoreIds: string[] } } = {};
  if (resources.code_interpreter)
    result.codeInterpreter = { fileIds: [...(resources.code_interpreter.file_ids ?? [])] };
  if (resources.file_search) {
    const ids = [...(resources.file_search.vector_store_ids ?? [])];
    const helpers =
      'vector_stores' in resources.file_search ? (resources.file_search.vector_stores ?? []) : [];
    for (const helper of helpers) {
      if (!fileSearch?.createVectorStore) {
        throw new InvalidRequestError(
          'Creating a vector store inside tool_resources is not available on this server yet: create it with POST /v1/vector_stores and pass its id in vector_store_ids.',
          { param: `${param}.file_search.vector_stores` },
        );
      }
      ids.push(
        await fileSearch.createVectorStore({
          workspaceId,
          fileIds: helper.file_ids ?? [],
          metadata: helper.metadata ?? {},
          ...(helper.chunking_strategy ? { chunkingStrategy: helper.chunking_strategy } : {}),
        }),
      );
    }
    result.fileSearch = { vectorStoreIds: ids };
  }
  return result;
}

export function fromWireResponseFormat(format: AssistantsResponseFormat): ResponseFormatOption {
  if (typeof format === 'string') return format;
  if (format.type === 'json_schema') {
    // Structured Outputs: refused when the assistant or run is created, not when a run generates.
    if (format.json_schema.strict === true) {
      checkStrictSchema(format.json_schema.schema ?? { type: 'object' }, {
        param: 'response_format',
        name: format.json_schema.name,
      });
    }
    return {
      type: 'json_schema',
      jsonSchema: {
        name: format.json_schema.name,
        ...(format.json_schema.description !== undefined
          ? { description: format.json_schema.description }
          : {}),
        ...(format.json_schema.schema !== undefined ? { schema: format.json_schema.schema } : {}),
        ...(format.json_schema.strict !== undefined ? { strict: format.json_schema.strict } : {}),
      },
    };
  }
  return { type: format.type };
}

export function fromWireToolChoice(choice: ToolChoiceV1 | ToolChoiceV2): ToolChoiceOption {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', name: choice.function.name };
  if (choice.type === 'retrieval') return { type: 'file_search' };
  return { type: choice.type };
}

export function fromWireTruncation(strategy: {
  type: 'auto' | 'last_messages';
  last_messages?: number | null | undefined;
}): TruncationStrategy {
  return { type: strategy.type, lastMessages: strategy.last_messages ?? null };
}
