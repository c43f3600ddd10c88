// The parts of the Assistants API (v2) the playground reads and writes, as the server sends them:
// the wire types of `@atelier/protocol` (types only: nothing of the package reaches the bundle),
// under the names the playground uses, plus what only the page needs (the form's parameters, a
// streamed tool call's pieces as the page reads them, a named stream event).
import type {
  AssistantsResponseFormat,
  AssistantToolV2,
  AssistantV2,
  FileSearchResultWire,
  FunctionToolWire,
  MessageV2,
  RunStepV2,
  RunToolCall,
  RunUsage,
  RunV2,
  ThreadV2,
  ToolCallV2,
  ToolChoiceV2,
  VectorStoreFileObject,
  VectorStoreObject,
  Attachment as WireAttachment,
  CodeInterpreterOutput as WireCodeInterpreterOutput,
  RunStepDelta as WireRunStepDelta,
  ToolResources as WireToolResources,
} from '@atelier/protocol';

export type {
  Annotation,
  FileObject,
  MessageDelta,
  RunStatus,
} from '@atelier/protocol';

export type FunctionDefinition = FunctionToolWire['function'];
export type AssistantTool = AssistantToolV2;
export type ToolResources = WireToolResources;
export type ResponseFormat = AssistantsResponseFormat;
export type Assistant = AssistantV2;
export type VectorStore = VectorStoreObject;
export type VectorStoreFile = VectorStoreFileObject;
export type Thread = ThreadV2;
export type MessageContent = MessageV2['content'][number];
export type Attachment = WireAttachment;
export type AttachmentTool = Attachment['tools'][number]['type'];
export type Message = MessageV2;
export type Usage = RunUsage;
export type RequiredToolCall = RunToolCall;
export type ToolChoice = ToolChoiceV2;
export type Run = RunV2;
export type CodeInterpreterOutput = WireCodeInterpreterOutput;
export type FileSearchResult = FileSearchResultWire;
export type ToolCall = ToolCallV2;
export type RunStep = RunStepV2;

/** What create and update send (update: the same fields, all of them, as the form holds them). */
export interface AssistantParams {
  readonly model: string;
  readonly name: string | null;
  readonly description: string | null;
  readonly instructions: string | null;
  readonly tools: readonly AssistantTool[];
  readonly tool_resources: {
    readonly code_interpreter: { readonly file_ids: readonly string[] };
    readonly file_search: { readonly vector_store_ids: readonly string[] };
  };
  readonly temperature: number | null;
  readonly top_p: number | null;
  readonly response_format: ResponseFormat;
}

/** A streamed tool call's piece: `index` places it in the step; the first piece has id and type. */
export interface ToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly type: string;
  readonly function?: {
    readonly name?: string;
    readonly arguments?: string;
    readonly output?: string | null;
  };
  readonly code_interpreter?: {
    readonly input?: string;
    readonly outputs?: readonly (CodeInterpreterOutput & { readonly index: number })[];
  };
  readonly file_search?: { readonly results?: readonly FileSearchResult[] };
}

export interface RunStepDelta extends Omit<WireRunStepDelta, 'delta'> {
  readonly delta: {
    readonly step_details?: { readonly type: string; readonly tool_calls?: readonly ToolCallDelta[] };
  };
}

/**
 * One named event of a run's stream (`event: thread.run.created` …, `error`, `done`); `data` is
 * the parsed JSON, read according to the name by thread-state.ts.
 */
export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}
