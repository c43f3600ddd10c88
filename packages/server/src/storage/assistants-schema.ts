// The Assistants tables (migration 003) as Kysely sees them; `DatabaseSchema` extends this.
// JSON values are TEXT; `seq` orders lists; booleans are 0/1 integers on both dialects.

import type { UnixSeconds } from './schema.js';

export interface AssistantsTable {
  readonly id: string;
  readonly workspace_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly name: string | null;
  readonly description: string | null;
  readonly model: string;
  readonly instructions: string | null;
  readonly tools: string;
  readonly tool_resources: string;
  readonly metadata: string;
  readonly temperature: number | null;
  readonly top_p: number | null;
  readonly response_format: string;
}

export interface AssistantFilesTable {
  readonly assistant_id: string;
  readonly file_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
}

export interface ThreadsTable {
  readonly id: string;
  readonly workspace_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly tool_resources: string;
  readonly metadata: string;
}

export interface MessagesTable {
  readonly id: string;
  readonly thread_id: string;
  readonly workspace_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly status: 'in_progress' | 'incomplete' | 'completed';
  readonly incomplete_reason: string | null;
  readonly completed_at: UnixSeconds | null;
  readonly incomplete_at: UnixSeconds | null;
  readonly assistant_id: string | null;
  readonly run_id: string | null;
  readonly attachments: string;
  readonly metadata: string;
}

export interface RunsTable {
  readonly id: string;
  readonly thread_id: string;
  readonly workspace_id: string;
  readonly assistant_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly status: string;
  readonly required_action: string | null;
  readonly last_error: string | null;
  readonly expires_at: UnixSeconds | null;
  readonly started_at: UnixSeconds | null;
  readonly cancelled_at: UnixSeconds | null;
  readonly failed_at: UnixSeconds | null;
  readonly completed_at: UnixSeconds | null;
  readonly incomplete_reason: string | null;
  readonly model: string;
  readonly instructions: string;
  readonly tools: string;
  readonly tool_resources: string;
  readonly file_ids: string;
  readonly metadata: string;
  readonly temperature: number | null;
  readonly top_p: number | null;
  readonly max_prompt_tokens: number | null;
  readonly max_completion_tokens: number | null;
  readonly truncation_strategy: string;
  readonly tool_choice: string;
  readonly response_format: string;
  readonly parallel_tool_calls: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly claimed_by: string | null;
  /** Milliseconds since the epoch. */
  readonly lease_expires_at: number | null;
  readonly attempts: number;
  readonly turns: number;
  readonly context: string | null;
  /** The person who created the run (migration 009); null for a workspace's API key. */
  readonly account_id: string | null;
  /** JSON of the calls held back for that person's answer (HeldCall[]), or null. */
  readonly pending_actions: string | null;
  /** The API key that created the run (migration 011); null for a web session. */
  readonly api_key_id: string | null;
}

export interface RunStepsTable {
  readonly id: string;
  readonly run_id: string;
  readonly thread_id: string;
  readonly workspace_id: string;
  readonly assistant_id: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly type: 'message_creation' | 'tool_calls';
  readonly status: string;
  readonly step_details: string;
  readonly last_error: string | null;
  readonly expired_at: UnixSeconds | null;
  readonly cancelled_at: UnixSeconds | null;
  readonly failed_at: UnixSeconds | null;
  readonly completed_at: UnixSeconds | null;
  readonly metadata: string;
  readonly prompt_tokens: number | null;
  readonly completion_tokens: number | null;
}

export interface ThreadSummariesTable {
  readonly thread_id: string;
  readonly text: string;
  readonly through_seq: number;
  readonly message_count: number;
  readonly model: string;
  readonly updated_at: UnixSeconds;
}

export interface AssistantsSchema {
  readonly assistants: AssistantsTable;
  readonly assistant_files: AssistantFilesTable;
  readonly threads: ThreadsTable;
  readonly messages: MessagesTable;
  readonly runs: RunsTable;
  readonly run_steps: RunStepsTable;
  readonly thread_summaries: ThreadSummariesTable;
}
