// The assistant form's state: what the person is editing, made from a stored assistant and turned
// back into create/update parameters; and the `tool_choice` a run may ask for, given its tools.
import { type Checked, checkResponseSchema, EXAMPLE_RESPONSE_SCHEMA } from './function-definition';
import type {
  Assistant,
  AssistantParams,
  AssistantTool,
  FunctionDefinition,
  ResponseFormat,
  ToolChoice,
} from './playground-types';

export type ResponseFormatKind = 'auto' | 'text' | 'json_object' | 'json_schema';

export interface AssistantDraft {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly model: string;
  readonly codeInterpreter: boolean;
  readonly fileSearch: boolean;
  readonly functions: readonly FunctionDefinition[];
  /** Files the code interpreter gets at /mnt/data (`tool_resources.code_interpreter`). */
  readonly codeFileIds: readonly string[];
  /** The vector store file_search reads (`tool_resources.file_search`); created on first upload. */
  readonly vectorStoreId: string | null;
  readonly temperature: number;
  readonly topP: number;
  readonly responseFormat: ResponseFormatKind;
  /** The `json_schema` of the response format, as JSON text. */
  readonly responseSchema: string;
}

const EXAMPLE_SCHEMA_TEXT = JSON.stringify(EXAMPLE_RESPONSE_SCHEMA, null, 2);

export function newDraft(model: string): AssistantDraft {
  return {
    name: '',
    description: '',
    instructions: '',
    model,
    codeInterpreter: false,
    fileSearch: false,
    functions: [],
    codeFileIds: [],
    vectorStoreId: null,
    temperature: 1,
    topP: 1,
    responseFormat: 'auto',
    responseSchema: EXAMPLE_SCHEMA_TEXT,
  };
}

export function draftFromAssistant(assistant: Assistant): AssistantDraft {
  const format = assistant.response_format;
  const kind: ResponseFormatKind = typeof format === 'string' ? 'auto' : format.type;
  return {
    name: assistant.name ?? '',
    description: assistant.description ?? '',
    instructions: assistant.instructions ?? '',
    model: assistant.model,
    codeInterpreter: assistant.tools.some((tool) => tool.type === 'code_interpreter'),
    fileSearch: assistant.tools.some((tool) => tool.type === 'file_search'),
    functions: assistant.tools.flatMap((tool) => (tool.type === 'function' ? [tool.function] : [])),
    codeFileIds: assistant.tool_resources.code_interpreter?.file_ids ?? [],
    vectorStoreId: assistant.tool_resources.file_search?.vector_store_ids[0] ?? null,
    temperature: assistant.temperature ?? 1,
    topP: assistant.top_p ?? 1,
    responseFormat: kind,
    responseSchema:
      typeof format !== 'string' && format.type === 'json_schema'
        ? JSON.stringify(format.json_schema, null, 2)
        : EXAMPLE_SCHEMA_TEXT,
  };
}

export function draftToParams(draft: AssistantDraft): Checked<AssistantParams> {
  const tools: AssistantTool[] = [];
  if (draft.codeInterpreter) tools.push({ type: 'code_interpreter' });
  if (draft.fileSearch) tools.push({ type: 'file_search' });
  for (const definition of draft.functions) tools.push({ type: 'function', function: definition });
  let responseFormat: ResponseFormat = 'auto';
  if (draft.responseFormat === 'text' || draft.responseFormat === 'json_object') {
    responseFormat = { type: draft.responseFormat };
  } else if (draft.responseFormat === 'json_schema') {
    const schema = checkResponseSchema(draft.responseSchema);
    if (!schema.ok) return schema;
    responseFormat = { type: 'json_schema', json_schema: schema.value };
  }
  const orNull = (text: string) => (text.trim() ? text : null);
  return {
    ok: true,
    value: {
      model: draft.model,
      name: orNull(draft.name),
      description: orNull(draft.description),
      instructions: orNull(draft.instructions),
      tools,
      tool_resources: {
        code_interpreter: { file_ids: draft.codeFileIds },
        file_search: { vector_store_ids: draft.vectorStoreId ? [draft.vectorStoreId] : [] },
      },
      temperature: draft.temperature,
      top_p: draft.topP,
      response_format: responseFormat,
    },
  };
}

export interface ToolChoiceOption {
  /** The `<option>` value. */
  readonly value: string;
  readonly choice: ToolChoice;
}

/** auto, none, required, then one forced choice per tool of the assistant. */
export function toolChoiceOptions(tools: readonly AssistantTool[]): readonly ToolChoiceOption[] {
  const options: ToolChoiceOption[] = [
    { value: 'auto', choice: 'auto' },
    { value: 'none', choice: 'none' },
  ];
  if (tools.length > 0) options.push({ value: 'required', choice: 'required' });
  for (const tool of tools) {
    if (tool.type === 'function') {
      options.push({
        value: `function:${tool.function.name}`,
        choice: { type: 'function', function: { name: tool.function.name } },
      });
    } else {
      options.push({ value: tool.type, choice: { type: tool.type } });
    }
  }
  return options;
}
