// The parts of the Assistants API (v2) the playground reads and writes, as the server sends them
// (snake_case, field for field with OpenAI's). Types only: the playground trusts its own server's
// shapes as the chat does, and reads every optional part defensively.

export interface FunctionDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: Record<string, unknown>;
  readonly strict?: boolean | null;
}

export type AssistantTool =
  | { readonly type: 'function'; readonly function: FunctionDefinition }
  | { readonly type: 'code_interpreter' }
  | { readonly type: 'file_search'; readonly file_search?: { readonly max_num_results?: number } };

export interface ToolResources {
  readonly code_interpreter?: { readonly file_ids: readonly string[] };
  readonly file_search?: { readonly vector_store_ids: readonly string[] };
}

export type ResponseFormat =
  | 'auto'
  | 'none'
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly json_schema: {
        readonly name: string;
        readonly description?: string;
        readonly schema?: Record<string, unknown>;
        readonly strict?: boolean | null;
      };
    };

export interface Assistant {
  readonly id: string;
  readonly object: 'assistant';
  readonly created_at: number;
  readonly name: string | null;
  readonly description: string | null;
  readonly model: string;
  readonly instructions: string | null;
  readonly tools: readonly AssistantTool[];
  readonly tool_resources: ToolResources;
  readonly metadata: Readonly<Record<string, string>>;
  readonly temperature: number | null;
  readonly top_p: number | null;
  readonly response_format: ResponseFormat;
}

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

export interface FileObject {
  readonly id: string;
  readonly object: 'file';
  readonly bytes: number;
  readonly created_at: number;
  readonly filename: string;
  readonly purpose: string;
}

export interface VectorStore {
  readonly id: string;
  readonly object: 'vector_store';
  readonly name: string | null;
  readonly status: 'expired' | 'in_progress' | 'completed';
  readonly file_counts: {
    readonly in_progress: number;
    readonly completed: number;
    readonly failed: number;
    readonly cancelled: number;
    readonly total: number;
  };
}

export interface VectorStoreFile {
  readonly id: string;
  readonly object: 'vector_store.file';
  readonly status: 'in_progress' | 'completed' | 'failed' | 'cancelled';
  readonly last_error: { readonly code: string; readonly message: string } | null;
}

export interface Thread {
  readonly id: string;
  readonly object: 'thread';
  readonly created_at: number;
}

export interface Annotation {
  readonly type: 'file_citation' | 'file_path';
  readonly text: string;
  readonly start_index: number;
  readonly end_index: number;
  readonly file_citation?: { readonly file_id: string; readonly quote?: string };
  readonly file_path?: { readonly file_id: string };
}

export type MessageContent =
  | {
      readonly type: 'text';
      readonly text: { readonly value: string; readonly annotations: readonly Annotation[] };
    }
  | { readonly type: 'image_file'; readonly image_file: { readonly file_id: string } }
  | { readonly type: 'image_url'; readonly image_url: { readonly url: string } };

export type AttachmentTool = 'code_interpreter' | 'file_search';

export interface Attachment {
  readonly file_id: string;
  readonly tools: readonly { readonly type: AttachmentTool }[];
}

export interface Message {
  readonly id: string;
  readonly object: 'thread.message';
  readonly created_at: number;
  readonly thread_id: string;
  readonly status: 'in_progress' | 'incomplete' | 'completed';
  readonly role: 'user' | 'assistant';
  readonly content: readonly MessageContent[];
  readonly assistant_id: string | null;
  readonly run_id: string | null;
  readonly attachments: readonly Attachment[];
}

export type RunStatus =
  | 'queued'
  | 'in_progress'
  | 'requires_action'
  | 'cancelling'
  | 'cancelled'
  | 'failed'
  | 'completed'
  | 'incomplete'
  | 'expired';

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface RequiredToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

export type ToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { readonly type: 'function'; readonly function: { readonly name: string } }
  | { readonly type: 'code_interpreter' }
  | { readonly type: 'file_search' };

export interface Run {
  readonly id: string;
  readonly object: 'thread.run';
  readonly created_at: number;
  readonly thread_id: string;
  readonly assistant_id: string;
  readonly status: RunStatus;
  readonly required_action: {
    readonly type: 'submit_tool_outputs';
    readonly submit_tool_outputs: { readonly tool_calls: readonly RequiredToolCall[] };
  } | null;
  readonly last_error: { readonly code: string; readonly message: string } | null;
  readonly incomplete_details: { readonly reason: string } | null;
  readonly model: string;
  readonly usage: Usage | null;
  readonly tool_choice: ToolChoice;
}

export type CodeInterpreterOutput =
  | { readonly type: 'logs'; readonly logs: string }
  | { readonly type: 'image'; readonly image: { readonly file_id: string } };

export interface FileSearchResult {
  readonly file_id: string;
  readonly file_name: string;
  readonly score: number;
  readonly content?: readonly { readonly type: 'text'; readonly text: string }[];
}

export type ToolCall =
  | {
      readonly id: string;
      readonly type: 'function';
      readonly function: {
        readonly name: string;
        readonly arguments: string;
        readonly output: string | null;
      };
    }
  | {
      readonly id: string;
      readonly type: 'code_interpreter';
      readonly code_interpreter: {
        readonly input: string;
        readonly outputs: readonly CodeInterpreterOutput[];
      };
    }
  | {
      readonly id: string;
      readonly type: 'file_search';
      readonly file_search: { readonly results?: readonly FileSearchResult[] };
    };

export interface RunStep {
  readonly id: string;
  readonly object: 'thread.run.step';
  readonly created_at: number;
  readonly run_id: string;
  readonly type: 'message_creation' | 'tool_calls';
  readonly status: 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired';
  readonly step_details:
    | { readonly type: 'message_creation'; readonly message_creation: { readonly message_id: string } }
    | { readonly type: 'tool_calls'; readonly tool_calls: readonly ToolCall[] };
  readonly last_error: { readonly code: string; readonly message: string } | null;
  readonly usage: Usage | null;
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

export interface RunStepDelta {
  readonly id: string;
  readonly object: 'thread.run.step.delta';
  readonly delta: {
    readonly step_details?: { readonly type: string; readonly tool_calls?: readonly ToolCallDelta[] };
  };
}

export interface MessageDelta {
  readonly id: string;
  readonly object: 'thread.message.delta';
  readonly delta: {
    readonly content?: readonly (
      | {
          readonly index: number;
          readonly type: 'text';
          readonly text?: {
            readonly value?: string;
            readonly annotations?: readonly (Annotation & { index: number })[];
          };
        }
      | {
          readonly index: number;
          readonly type: 'image_file';
          readonly image_file?: { readonly file_id?: string };
        }
    )[];
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
