// The Assistants vocabulary shared by the repositories, the run engine and the HTTP layer:
// tools, tool resources, run options, message content and tool calls, in camelCase and in one
// spelling for both API generations (v1's `retrieval` is `file_search` here; v1 `file_ids` on
// messages are attachments usable by both built-in tools).

export interface FunctionSpec {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly strict?: boolean | null;
}

export interface FileSearchOptions {
  readonly maxNumResults?: number;
  readonly rankingOptions?: { readonly ranker?: string; readonly scoreThreshold: number };
}

export type AssistantTool =
  | { readonly type: 'function'; readonly function: FunctionSpec }
  | { readonly type: 'code_interpreter' }
  | { readonly type: 'file_search'; readonly fileSearch?: FileSearchOptions };

export type BuiltInToolType = 'code_interpreter' | 'file_search';

export interface ToolResources {
  readonly codeInterpreter?: { readonly fileIds: readonly string[] };
  readonly fileSearch?: { readonly vectorStoreIds: readonly string[] };
}

export type ResponseFormatOption =
  | 'auto'
  | 'none'
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly jsonSchema: {
        readonly name: string;
        readonly description?: string;
        readonly schema?: Readonly<Record<string, unknown>>;
        readonly strict?: boolean | null;
      };
    };

export type ToolChoiceOption =
  | 'none'
  | 'auto'
  | 'required'
  | { readonly type: 'function'; readonly name: string }
  | { readonly type: BuiltInToolType };

export interface TruncationStrategy {
  readonly type: 'auto' | 'last_messages';
  readonly lastMessages: number | null;
}

export type Annotation =
  | {
      readonly type: 'file_citation';
      readonly text: string;
      readonly fileId: string;
      readonly quote: string;
      readonly startIndex: number;
      readonly endIndex: number;
    }
  | {
      readonly type: 'file_path';
      readonly text: string;
      readonly fileId: string;
      readonly startIndex: number;
      readonly endIndex: number;
    };

export type ImageDetail = 'auto' | 'low' | 'high';

export type MessageContent =
  | { readonly type: 'text'; readonly text: string; readonly annotations: readonly Annotation[] }
  | { readonly type: 'image_file'; readonly fileId: string; readonly detail?: ImageDetail }
  | { readonly type: 'image_url'; readonly url: string; readonly detail?: ImageDetail };

export interface Attachment {
  readonly fileId: string;
  readonly tools: readonly BuiltInToolType[];
}

export type MessageStatus = 'in_progress' | 'incomplete' | 'completed';
export type MessageIncompleteReason =
  | 'content_filter'
  | 'max_tokens'
  | 'run_cancelled'
  | 'run_expired'
  | 'run_failed';

export type CodeInterpreterOutput =
  | { readonly type: 'logs'; readonly logs: string }
  | { readonly type: 'image'; readonly fileId: string };

export interface FileSearchResult {
  readonly fileId: string;
  readonly fileName: string;
  readonly score: number;
  readonly text: string;
  /**
   * Found in a GPT's knowledge that lives in another workspace than the run's: the model reads it,
   * the run's steps never list it (users of a GPT do not get its knowledge files).
   */
  readonly private?: true;
}

/**
 * A tool call of a run step. `output` is what the model was given back (for built-in tools the
 * engine writes it; for functions the client submits it).
 */
export type ToolCall =
  | {
      readonly type: 'function';
      readonly id: string;
      readonly name: string;
      readonly arguments: string;
      readonly output: string | null;
    }
  | {
      readonly type: 'code_interpreter';
      readonly id: string;
      readonly input: string;
      readonly outputs: readonly CodeInterpreterOutput[];
      readonly output: string | null;
    }
  | {
      readonly type: 'file_search';
      readonly id: string;
      readonly query: string;
      readonly results: readonly FileSearchResult[];
      readonly output: string | null;
    };

/**
 * A call the server did not make because a person must answer first: allow sending data to the
 * action's domain (`consent`), or sign in to it (`oauth`).
 */
export interface PendingAction {
  readonly type: 'consent' | 'oauth';
  readonly actionId: string;
  readonly operation: string;
  readonly domain: string;
  /** Consent only: whether "Always allow" may be offered (false for consequential operations). */
  readonly canAlwaysAllow: boolean;
  /** Consent only: what would be sent (method, URL, body as the model wrote it; never credentials). */
  readonly preview: unknown;
  readonly message: string;
}

/** A run's call of a function the server runs itself, held back until the person answers. */
export interface HeldCall {
  readonly toolCallId: string;
  readonly name: string;
  readonly arguments: string;
  /** Unix seconds: an answer given after this one is an answer to this call. */
  readonly heldAt: number;
  readonly pending: PendingAction;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface LastError {
  readonly code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  readonly message: string;
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

export type RunIncompleteReason = 'max_completion_tokens' | 'max_prompt_tokens';

export type RunStepStatus = 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired';

export type StepDetails =
  | { readonly type: 'message_creation'; readonly messageId: string }
  | { readonly type: 'tool_calls'; readonly toolCalls: readonly ToolCall[] };

/** What a run's last model turn was sent: how the thread was fitted into the context window. */
export interface ContextRecord {
  readonly model: string;
  readonly contextLength: number;
  /** Prompt tokens the assembly aimed to stay under. */
  readonly budgetTokens: number;
  /** Its estimate of the prompt it built, and what the model reported. */
  readonly estimatedPromptTokens: number;
  readonly promptTokens: number | null;
  readonly threadMessages: number;
  readonly includedMessages: number;
  readonly droppedMessages: number;
  readonly firstIncludedMessageId: string | null;
  /** Messages whose text alone exceeded the budget and was cut in the middle. */
  readonly shortenedMessageIds: readonly string[];
  readonly truncation: TruncationStrategy;
  readonly summary: {
    readonly throughMessageCount: number;
    readonly tokens: number;
  } | null;
}
