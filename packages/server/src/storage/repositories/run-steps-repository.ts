// Run steps: each message a run wrote and each round of tool calls it made, in order. A run's
// durable progress is its steps: after a restart the engine rebuilds the tool loop from them.

import type { Kysely, Selectable } from 'kysely';
import type { LastError, RunStepStatus, StepDetails, TokenUsage } from '../assistants-domain.js';
import type { RunStepsTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { fromJson, toJson } from '../json-value.js';
import { type Page, planPage, readPage } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';
import type { ListParams } from './assistants-repository.js';

export interface RunStep {
  readonly id: string;
  readonly runId: string;
  readonly threadId: string;
  readonly workspaceId: string;
  readonly assistantId: string;
  readonly createdAt: number;
  readonly seq: number;
  readonly type: 'message_creation' | 'tool_calls';
  readonly status: RunStepStatus;
  readonly details: StepDetails;
  readonly lastError:
    | (Omit<LastError, 'code'> & { readonly code: 'server_error' | 'rate_limit_exceeded' })
    | null;
  readonly expiredAt: number | null;
  readonly cancelledAt: number | null;
  readonly failedAt: number | null;
  readonly completedAt: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly usage: TokenUsage | null;
}

export interface RunStepCreateParams {
  readonly runId: string;
  readonly threadId: string;
  readonly workspaceId: string;
  readonly assistantId: string;
  readonly details: StepDetails;
}

export interface RunStepChanges {
  readonly status?: RunStepStatus;
  readonly details?: StepDetails;
  readonly lastError?: RunStep['lastError'];
  readonly usage?: TokenUsage | null;
}

export interface RunStepsRepository {
  create(params: RunStepCreateParams): Promise<RunStep>;
  find(workspaceId: string, threadId: string, runId: string, id: string): Promise<RunStep | null>;
  list(
    params: ListParams & { readonly workspaceId: string; readonly threadId: string; readonly runId: string },
  ): Promise<Page<RunStep>>;
  /** All of a run's steps, oldest first. */
  forRun(runId: string): Promise<RunStep[]>;
  /** Changes a step still in progress (a finished step never changes); null when it was not. */
  update(id: string, changes: RunStepChanges): Promise<RunStep | null>;
  remove(id: string): Promise<void>;
}

export function createRunStepsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): RunStepsRepository {
  return {
    async create({ runId, threadId, workspaceId, assistantId, details }) {
      const { id, seq } = newSortableId('runStep');
      const row: RunStepsTable = {
        id,
        run_id: runId,
        thread_id: threadId,
        workspace_id: workspaceId,
        assistant_id: assistantId,
        created_at: now(),
        seq,
        type: details.type,
        status: 'in_progress',
        step_details: toJson(details),
        last_error: null,
        expired_at: null,
        cancelled_at: null,
        failed_at: null,
        completed_at: null,
        metadata: toJson({}),
        prompt_tokens: null,
        completion_tokens: null,
      };
      await db.insertInto('run_steps').values(row).execute();
      return toRunStep(row);
    },

    async find(workspaceId, threadId, runId, id) {
      const row = await db
        .selectFrom('run_steps')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('run_id', '=', runId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRunStep(row) : null;
    },

    async list({ workspaceId, threadId, runId, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('runStep', after, 'after'),
        beforeSeq: cursorSequence('runStep', before, 'before'),
      });
      const query = db
        .selectFrom('run_steps')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('run_id', '=', runId);
      const page = await readPage(query, plan);
      return { data: page.data.map(toRunStep), hasMore: page.hasMore };
    },

    async forRun(runId) {
      const rows = await db
        .selectFrom('run_steps')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('seq')
        .orderBy('id')
        .execute();
      return rows.map(toRunStep);
    },

    async update(id, { status, details, lastError, usage }) {
      const at = now();
      const columns: { -readonly [Key in keyof RunStepsTable]?: RunStepsTable[Key] } = {};
      if (status !== undefined) {
        columns.status = status;
        if (status === 'completed') columns.completed_at = at;
        if (status === 'failed') columns.failed_at = at;
        if (status === 'cancelled') columns.cancelled_at = at;
        if (status === 'expired') columns.expired_at = at;
      }
      if (details !== undefined) columns.step_details = toJson(details);
      if (lastError !== undefined) columns.last_error = lastError === null ? null : toJson(lastError);
      if (usage !== undefined) {
        columns.prompt_tokens = usage?.promptTokens ?? null;
        columns.completion_tokens = usage?.completionTokens ?? null;
      }
      const row = await db
        .updateTable('run_steps')
        .set(columns)
        .where('id', '=', id)
        .where('status', '=', 'in_progress')
        .returningAll()
        .executeTakeFirst();
      return row ? toRunStep(row) : null;
    },

    async remove(id) {
      await db.deleteFrom('run_steps').where('id', '=', id).execute();
    },
  };
}

function toRunStep(row: Selectable<RunStepsTable>): RunStep {
  return {
    id: row.id,
    runId: row.run_id,
    threadId: row.thread_id,
    workspaceId: row.workspace_id,
    assistantId: row.assistant_id,
    createdAt: row.created_at,
    seq: row.seq,
    type: row.type,
    status: row.status as RunStepStatus,
    details: fromJson<StepDetails>(row.step_details, { type: 'tool_calls', toolCalls: [] }),
    lastError: fromJson<RunStep['lastError']>(row.last_error, null),
    expiredAt: row.expired_at,
    cancelledAt: row.cancelled_at,
    failedAt: row.failed_at,
    completedAt: row.completed_at,
    metadata: fromJson<Record<string, string>>(row.metadata, {}),
    usage:
      row.prompt_tokens === null || row.completion_tokens === null
        ? null
        : { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
  };
}
