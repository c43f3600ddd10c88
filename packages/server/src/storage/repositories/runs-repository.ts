// Runs: the API's view (create, find, list, metadata) and the durable queue the run workers
// share. A worker claims a run atomically (Postgres: FOR UPDATE SKIP LOCKED; SQLite: a conditional
// UPDATE, SQLite serializing writers), holds it under a lease it renews, and every write it makes
// afterwards is conditional on still holding it, so a run is never executed by two workers.

import { type Kysely, PostgresAdapter, type Selectable } from 'kysely';
import { InvalidRequestError } from '../../errors.js';
import type {
  AssistantTool,
  ContextRecord,
  HeldCall,
  LastError,
  ResponseFormatOption,
  RunIncompleteReason,
  RunStatus,
  ToolChoiceOption,
  ToolResources,
  TruncationStrategy,
} from '../assistants-domain.js';
import type { RunsTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import { inTransaction } from '../in-transaction.js';
import { fromJson, toJson } from '../json-value.js';
import { type Page, planPage, readPage } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';
import type { ListParams } from './assistants-repository.js';

export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'in_progress',
  'requires_action',
  'cancelling',
];

export interface RequiredToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface RunConfiguration {
  readonly model: string;
  readonly instructions: string;
  readonly tools: readonly AssistantTool[];
  /** The assistant's tool resources when the run was created (the thread's are read live). */
  readonly toolResources: ToolResources;
  /** v1: the assistant's `file_ids` when the run was created. */
  readonly fileIds: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly maxPromptTokens: number | null;
  readonly maxCompletionTokens: number | null;
  readonly truncationStrategy: TruncationStrategy;
  readonly toolChoice: ToolChoiceOption;
  readonly responseFormat: ResponseFormatOption;
  readonly parallelToolCalls: boolean;
}

export interface Run extends RunConfiguration {
  readonly id: string;
  readonly workspaceId: string;
  readonly threadId: string;
  readonly assistantId: string;
  readonly createdAt: number;
  readonly seq: number;
  readonly status: RunStatus;
  readonly requiredAction: { readonly toolCalls: readonly RequiredToolCall[] } | null;
  readonly lastError: LastError | null;
  readonly expiresAt: number | null;
  readonly startedAt: number | null;
  readonly cancelledAt: number | null;
  readonly failedAt: number | null;
  readonly completedAt: number | null;
  readonly incompleteReason: RunIncompleteReason | null;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly claimedBy: string | null;
  readonly leaseExpiresAt: number | null;
  readonly attempts: number;
  readonly turns: number;
  readonly context: ContextRecord | null;
  /** The person who created the run (a session's or personal key's account); null for a workspace key. */
  readonly accountId: string | null;
  /** Calls of server-run functions (a GPT's actions) held back for that person's answer. */
  readonly pendingActions: readonly HeldCall[];
  /** The API key that created the run; null for a web session. Its model turns count against it. */
  readonly apiKeyId: string | null;
}

export interface RunCreateParams extends RunConfiguration {
  readonly workspaceId: string;
  readonly threadId: string;
  readonly assistantId: string;
  readonly expiresAt: number | null;
  readonly accountId?: string | null;
  readonly apiKeyId?: string | null;
  /** An id made beforehand (so a stream can subscribe to the run before it exists). */
  readonly identity?: { readonly id: string; readonly seq: number };
}

export interface RunChanges {
  readonly status?: RunStatus;
  readonly requiredAction?: Run['requiredAction'];
  readonly lastError?: LastError | null;
  readonly expiresAt?: number | null;
  readonly startedAt?: number | null;
  readonly cancelledAt?: number | null;
  readonly failedAt?: number | null;
  readonly completedAt?: number | null;
  readonly incompleteReason?: RunIncompleteReason | null;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** null releases the run. */
  readonly claimedBy?: string | null;
  readonly leaseExpiresAt?: number | null;
  readonly turns?: number;
  readonly context?: ContextRecord | null;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly pendingActions?: readonly HeldCall[];
}

export interface ClaimedRun {
  readonly run: Run;
  /** The run was in progress under a lease that expired: its worker stopped (crash, restart). */
  readonly resumed: boolean;
}

export interface RunsRepository {
  /** Throws a 400 when the thread already has an active run. */
  create(params: RunCreateParams): Promise<Run>;
  find(workspaceId: string, threadId: string, id: string): Promise<Run | null>;
  findById(id: string): Promise<Run | null>;
  list(params: ListParams & { readonly workspaceId: string; readonly threadId: string }): Promise<Page<Run>>;
  updateMetadata(
    workspaceId: string,
    threadId: string,
    id: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<Run | null>;
  /** The thread's queued, in-progress, requires-action or cancelling run, if any. */
  activeRun(threadId: string): Promise<Run | null>;
  /**
   * Applies `changes` only when the run is in one of `from` (and, with `claimedBy`, still held by
   * that worker); returns the updated run, or null when the condition did not hold.
   */
  transition(params: {
    id: string;
    from: readonly RunStatus[];
    claimedBy?: string;
    changes: RunChanges;
  }): Promise<Run | null>;
  /** Takes the oldest claimable run (queued, or in progress under an expired lease) for `workerId`. */
  claim(params: { workerId: string; leaseMs: number; nowMs: number }): Promise<ClaimedRun | null>;
  /** Extends the lease; returns the run's status, or null when the worker no longer holds it. */
  renewLease(params: {
    id: string;
    workerId: string;
    leaseMs: number;
    nowMs: number;
  }): Promise<RunStatus | null>;
  /**
   * Makes every held run claimable now. Only for a database one process owns (SQLite): at start,
   * its previous life's claims belong to nobody.
   */
  releaseAllClaims(): Promise<number>;
  /** Runs waiting for tool outputs past their `expires_at`. */
  expiredActions(params: { now: number; limit: number }): Promise<Run[]>;
  /** How many runs wait in the queue (for metrics and tests). */
  countByStatus(status: RunStatus): Promise<number>;
}

const CLAIM_CANDIDATES = 8;

export function createRunsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): RunsRepository {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  async function findById(id: string): Promise<Run | null> {
    const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async function activeRun(trx: Kysely<DatabaseSchema>, threadId: string): Promise<Run | null> {
    const row = await trx
      .selectFrom('runs')
      .selectAll()
      .where('thread_id', '=', threadId)
      .where('status', 'in', ACTIVE_RUN_STATUSES)
      .executeTakeFirst();
    return row ? toRun(row) : null;
  }

  /** Conditional claim of one candidate; null when another worker got there first. */
  async function claimRow(
    trx: Kysely<DatabaseSchema>,
    candidate: Pick<RunsTable, 'id' | 'status'>,
    { workerId, leaseMs, nowMs }: { workerId: string; leaseMs: number; nowMs: number },
  ): Promise<ClaimedRun | null> {
    const at = Math.floor(nowMs / 1000);
    const fresh = candidate.status === 'queued';
    let query = trx
      .updateTable('runs')
      .set((eb) => ({
        claimed_by: workerId,
        lease_expires_at: nowMs + leaseMs,
        // Claims in a row of one stretch of work: a fresh claim starts again at 1.
        attempts: fresh ? 1 : eb('attempts', '+', 1),
        ...(fresh ? { status: 'in_progress', started_at: eb.fn.coalesce('started_at', eb.val(at)) } : {}),
      }))
      .where('id', '=', candidate.id)
      .where('status', '=', candidate.status);
    if (!fresh) {
      query = query.where((eb) =>
        eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowMs)]),
      );
    }
    const row = await query.returningAll().executeTakeFirst();
    return row ? { run: toRun(row), resumed: !fresh } : null;
  }

  return {
    async create(params) {
      const { id, seq } = params.identity ?? newSortableId('run');
      const row: RunsTable = {
        id,
        thread_id: params.threadId,
        workspace_id: params.workspaceId,
        assistant_id: params.assistantId,
        created_at: now(),
        seq,
        status: 'queued',
        required_action: null,
        last_error: null,
        expires_at: params.expiresAt,
        started_at: null,
        cancelled_at: null,
        failed_at: null,
        completed_at: null,
        incomplete_reason: null,
        ...configurationColumns(params),
        prompt_tokens: 0,
        completion_tokens: 0,
        claimed_by: null,
        lease_expires_at: null,
        attempts: 0,
        turns: 0,
        context: null,
        account_id: params.accountId ?? null,
        pending_actions: null,
        api_key_id: params.apiKeyId ?? null,
      };
      return inTransaction(db, async (trx) => {
        const active = await activeRun(trx, params.threadId);
        if (active) throw threadBusy(params.threadId, active.id);
        try {
          await trx.insertInto('runs').values(row).execute();
        } catch (error) {
          // Two creates raced past the check: the partial unique index decides.
          if (constraintViolation(error) === 'unique') throw threadBusy(params.threadId, null);
          throw error;
        }
        return toRun(row);
      });
    },

    async find(workspaceId, threadId, id) {
      const row = await db
        .selectFrom('runs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRun(row) : null;
    },

    findById,

    async list({ workspaceId, threadId, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('run', after, 'after'),
        beforeSeq: cursorSequence('run', before, 'before'),
      });
      const query = db
        .selectFrom('runs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId);
      const page = await readPage(query, plan);
      return { data: page.data.map(toRun), hasMore: page.hasMore };
    },

    async updateMetadata(workspaceId, threadId, id, metadata) {
      const row = await db
        .updateTable('runs')
        .set({ metadata: toJson(metadata) })
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toRun(row) : null;
    },

    activeRun: (threadId) => activeRun(db, threadId),

    async transition({ id, from, claimedBy, changes }) {
      let query = db
        .updateTable('runs')
        .set(toChangeColumns(changes))
        .where('id', '=', id)
        .where('status', 'in', [...from]);
      if (claimedBy !== undefined) query = query.where('claimed_by', '=', claimedBy);
      const row = await query.returningAll().executeTakeFirst();
      return row ? toRun(row) : null;
    },

    async claim(options) {
      const claimable = (trx: Kysely<DatabaseSchema>) =>
        trx
          .selectFrom('runs')
          .select(['id', 'status'])
          .where((eb) =>
            eb.or([
              eb('status', '=', 'queued'),
              eb.and([
                eb('status', 'in', ['in_progress', 'cancelling']),
                eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', options.nowMs)]),
              ]),
            ]),
          )
          .orderBy('seq')
          .limit(CLAIM_CANDIDATES);
      if (postgres) {
        // Locked rows are being claimed by another worker right now: skip them, don't queue up.
        return db.transaction().execute(async (trx) => {
          const candidate = await claimable(trx).forUpdate().skipLocked().limit(1).executeTakeFirst();
          return candidate ? claimRow(trx, candidate, options) : null;
        });
      }
      // SQLite runs one writer at a time, so the conditional UPDATE is the lock; a candidate that
      // another process took meanwhile simply matches no row and the next one is tried.
      for (const candidate of await claimable(db).execute()) {
        const claimed = await claimRow(db, candidate, options);
        if (claimed) return claimed;
      }
      return null;
    },

    async renewLease({ id, workerId, leaseMs, nowMs }) {
      const row = await db
        .updateTable('runs')
        .set({ lease_expires_at: nowMs + leaseMs })
        .where('id', '=', id)
        .where('claimed_by', '=', workerId)
        .returning('status')
        .executeTakeFirst();
      return row ? (row.status as RunStatus) : null;
    },

    async releaseAllClaims() {
      const result = await db
        .updateTable('runs')
        .set({ lease_expires_at: 0 })
        .where('status', 'in', ['in_progress', 'cancelling'])
        .where('claimed_by', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async expiredActions({ now: at, limit }) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('status', '=', 'requires_action')
        .where('expires_at', '<=', at)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toRun);
    },

    async countByStatus(status) {
      const row = await db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('status', '=', status)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },
  };
}

function threadBusy(threadId: string, runId: string | null): InvalidRequestError {
  return new InvalidRequestError(`Thread ${threadId} already has an active run${runId ? ` ${runId}` : ''}.`, {
    param: 'thread_id',
  });
}

function configurationColumns(configuration: RunConfiguration) {
  return {
    model: configuration.model,
    instructions: configuration.instructions,
    tools: toJson(configuration.tools),
    tool_resources: toJson(configuration.toolResources),
    file_ids: toJson(configuration.fileIds),
    metadata: toJson(configuration.metadata),
    temperature: configuration.temperature,
    top_p: configuration.topP,
    max_prompt_tokens: configuration.maxPromptTokens,
    max_completion_tokens: configuration.maxCompletionTokens,
    truncation_strategy: toJson(configuration.truncationStrategy),
    tool_choice: toJson(configuration.toolChoice),
    response_format: toJson(configuration.responseFormat),
    parallel_tool_calls: configuration.parallelToolCalls ? 1 : 0,
  };
}

function toChangeColumns(changes: RunChanges) {
  const columns: { -readonly [Key in keyof RunsTable]?: RunsTable[Key] } = {};
  if (changes.status !== undefined) columns.status = changes.status;
  if (changes.requiredAction !== undefined)
    columns.required_action = changes.requiredAction === null ? null : toJson(changes.requiredAction);
  if (changes.lastError !== undefined)
    columns.last_error = changes.lastError === null ? null : toJson(changes.lastError);
  if (changes.expiresAt !== undefined) columns.expires_at = changes.expiresAt;
  if (changes.startedAt !== undefined) columns.started_at = changes.startedAt;
  if (changes.cancelledAt !== undefined) columns.cancelled_at = changes.cancelledAt;
  if (changes.failedAt !== undefined) columns.failed_at = changes.failedAt;
  if (changes.completedAt !== undefined) columns.completed_at = changes.completedAt;
  if (changes.incompleteReason !== undefined) columns.incomplete_reason = changes.incompleteReason;
  if (changes.promptTokens !== undefined) columns.prompt_tokens = changes.promptTokens;
  if (changes.completionTokens !== undefined) columns.completion_tokens = changes.completionTokens;
  if (changes.claimedBy !== undefined) columns.claimed_by = changes.claimedBy;
  if (changes.leaseExpiresAt !== undefined) columns.lease_expires_at = changes.leaseExpiresAt;
  if (changes.turns !== undefined) columns.turns = changes.turns;
  if (changes.context !== undefined)
    columns.context = changes.context === null ? null : toJson(changes.context);
  if (changes.metadata !== undefined) columns.metadata = toJson(changes.metadata);
  if (changes.pendingActions !== undefined)
    columns.pending_actions = changes.pendingActions.length === 0 ? null : toJson(changes.pendingActions);
  return columns;
}

function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    threadId: row.thread_id,
    assistantId: row.assistant_id,
    createdAt: row.created_at,
    seq: row.seq,
    status: row.status as RunStatus,
    requiredAction: fromJson<Run['requiredAction']>(row.required_action, null),
    lastError: fromJson<LastError | null>(row.last_error, null),
    expiresAt: row.expires_at,
    startedAt: row.started_at,
    cancelledAt: row.cancelled_at,
    failedAt: row.failed_at,
    completedAt: row.completed_at,
    incompleteReason: row.incomplete_reason as RunIncompleteReason | null,
    model: row.model,
    instructions: row.instructions,
    tools: fromJson<AssistantTool[]>(row.tools, []),
    toolResources: fromJson<ToolResources>(row.tool_resources, {}),
    fileIds: fromJson<string[]>(row.file_ids, []),
    metadata: fromJson<Record<string, string>>(row.metadata, {}),
    temperature: row.temperature,
    topP: row.top_p,
    maxPromptTokens: row.max_prompt_tokens,
    maxCompletionTokens: row.max_completion_tokens,
    truncationStrategy: fromJson<TruncationStrategy>(row.truncation_strategy, {
      type: 'auto',
      lastMessages: null,
    }),
    toolChoice: fromJson<ToolChoiceOption>(row.tool_choice, 'auto'),
    responseFormat: fromJson<ResponseFormatOption>(row.response_format, 'auto'),
    parallelToolCalls: row.parallel_tool_calls !== 0,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    claimedBy: row.claimed_by,
    leaseExpiresAt: row.lease_expires_at,
    attempts: row.attempts,
    turns: row.turns,
    context: fromJson<ContextRecord | null>(row.context, null),
    accountId: row.account_id ?? null,
    pendingActions: fromJson<HeldCall[]>(row.pending_actions, []),
    apiKeyId: row.api_key_id ?? null,
  };
}
