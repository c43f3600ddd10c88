// Run steps: a message the assistant wrote, or the tool calls it made (function, code
// interpreter, and retrieval in v1 / file_search in v2), with their streamed deltas.
import type { RunUsage } from './runs.js';

export interface FunctionToolCallWire {
  id: string;
  type: 'function';
  function: { name: string; arguments: string; output: string | null };
}

export type CodeInterpreterOutput =
  | { type: 'logs'; logs: string }
  | { type: 'image'; image: { file_id: string } };

export interface CodeInterpreterToolCallWire {
  id: string;
  type: 'code_interpreter';
  code_interpreter: { input: string; outputs: CodeInterpreterOutput[] };
}

export interface FileSearchResultWire {
  file_id: string;
  file_name: string;
  score: number;
  content?: { type: 'text'; text: string }[];
}

export interface FileSearchToolCallWire {
  id: string;
  type: 'file_search';
  file_search: {
    ranking_options?: { ranker: string; score_threshold: number };
    results?: FileSearchResultWire[];
  };
}

export interface RetrievalToolCallWire {
  id: string;
  type: 'retrieval';
  retrieval: Record<string, never>;
}

export type ToolCallV1 = FunctionToolCallWire | CodeInterpreterToolCallWire | RetrievalToolCallWire;
export type ToolCallV2 = FunctionToolCallWire | CodeInterpreterToolCallWire | FileSearchToolCallWire;

export type RunStepStatus = 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired';

export interface RunStep<ToolCall = ToolCallV2> {
  id: string;
  object: 'thread.run.step';
  created_at: number;
  assistant_id: string;
  thread_id: string;
  run_id: string;
  type: 'message_creation' | 'tool_calls';
  status: RunStepStatus;
  step_details:
    | { type: 'message_creation'; message_creation: { message_id: string } }
    | { type: 'tool_calls'; tool_calls: ToolCall[] };
  last_error: { code: 'server_error' | 'rate_limit_exceeded'; message: string } | null;
  expired_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  metadata: Record<string, string>;
  usage: RunUsage | null;
}
export type RunStepV1 = RunStep<ToolCallV1>;
export type RunStepV2 = RunStep<ToolCallV2>;

/** A tool call's delta: `index` places it; the first delta of a call carries its id and type. */
export type ToolCallDelta = { index: number; id?: string; type: string } & Record<string, unknown>;

export interface RunStepDelta {
  id: string;
  object: 'thread.run.step.delta';
  delta: {
    step_details?:
      | { type: 'message_creation'; message_creation?: { message_id?: string } }
      | { type: 'tool_calls'; tool_calls?: ToolCallDelta[] };
  };
}
