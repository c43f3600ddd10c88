// Vector stores, scoped to a workspace. Status, file counts and usage are derived from the
// store's files when read, so they can never drift from what ingestion actually did.

import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { VectorStoresTable } from '../files-vector-stores-schema.js';
import { fromJsonColumn, toJsonColumn } from '../json-column.js';
import { type Page, planPage, readPage, type SortOrder } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';

export interface FileCounts {
  readonly inProgress: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly total: number;
}

export type VectorStoreStatus = 'expired' | 'in_progress' | 'completed';

export interface VectorStore {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly lastActiveAt: number;
  /** `expires_after.days` (anchored at last_active_at); null: never expires. */
  readonly expiresAfterDays: number | null;
  readonly expiresAt: number | null;
  readonly status: VectorStoreStatus;
  readonly fileCounts: FileCounts;
  readonly usageBytes: number;
}

export interface VectorStoreCreateParams {
  readonly workspaceId: string;
  readonly name?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly expiresAfterDays?: number | null;
}

export interface VectorStoreUpdateParams {
  readonly name?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** null removes the expiry; undefined leaves it. */
  readonly expiresAfterDays?: number | null | undefined;
}

export interface VectorStoreListParams {
  readonly workspaceId: string;
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

export interface VectorStoresRepository {
  create(params: VectorStoreCreateParams): Promise<VectorStore>;
  find(workspaceId: string, id: string): Promise<VectorStore | null>;
  /** The workspace's stores among `ids`, in no particular order. */
  findMany(workspaceId: string, ids: readonly string[]): Promise<readonly VectorStore[]>;
  /**
   * Which of `ids` are the workspace's stores, and whether each has expired: what a search needs,
   * without the file counts (counting a store's files costs milliseconds on every search).
   */
  findExpiry(
    workspaceId: string,
    ids: readonly string[],
  ): Promise<ReadonlyMap<string, { readonly expired: boolean }>>;
  list(params: VectorStoreListParams): Promise<Page<VectorStore>>;
  update(workspaceId: string, id: string, params: VectorStoreUpdateParams): Promise<VectorStore | null>;
  /** Deletes the store with its file entries, batches and chunks; the files themselves stay. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Records use (a search, a file added): pushes `expires_at` forward. */
  touch(id: string): Promise<void>;
  /**
   * The store the server keeps for itself under `key` in the workspace, created on first use
   * (once, even when several callers race). Such stores never expire and are not listed.
   */
  ensureInternal(params: { workspaceId: string; key: string; name: string }): Promise<VectorStore>;
}

const DAY = 86_400;

export function createVectorStoresRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): VectorStoresRepository {
  async function hydrate(rows: readonly Selectable<VectorStoresTable>[]): Promise<VectorStore[]> {
    if (rows.length === 0) return [];
    const stats = await db
      .selectFrom('vector_store_files')
      .select([
        'vector_store_id',
        'status',
        sql<number>`count(*)`.as('count'),
        sql<number>`coalesce(sum(usage_bytes), 0)`.as('usage'),
      ])
      .where(
        'vector_store_id',
        'in',
        rows.map((row) => row.id),
      )
      .groupBy(['vector_store_id', 'status'])
      .execute();
    const at = now();
    return rows.map((row) => {
      const counts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
      let usageBytes = 0;
      for (const stat of stats) {
        if (stat.vector_store_id !== row.id) continue;
        counts[stat.status] += Number(stat.count);
        usageBytes += Number(stat.usage);
      }
      const expiresAt =
        row.expires_after_days === null ? null : row.last_active_at + row.expires_after_days * DAY;
      const status: VectorStoreStatus =
        expiresAt !== null && expiresAt <= at
          ? 'expired'
          : counts.in_progress > 0
            ? 'in_progress'
            : 'completed';
      return {
        id: row.id,
        workspaceId: row.workspace_id,
        name: row.name,
        metadata: fromJsonColumn<string>(row.metadata),
        createdAt: row.created_at,
        lastActiveAt: row.last_active_at,
        expiresAfterDays: row.expires_after_days,
        expiresAt,
        status,
        fileCounts: {
          inProgress: counts.in_progress,
          completed: counts.completed,
          failed: counts.failed,
          cancelled: counts.cancelled,
          total: counts.in_progress + counts.completed + counts.failed + counts.cancelled,
        },
        usageBytes,
      };
    });
  }

  async function findRow(workspaceId: string, id: string) {
    return db
      .selectFrom('vector_stores')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  return {
    async create({ workspaceId, name = '', metadata = {}, expiresAfterDays = null }) {
      const { id, seq } = newSortableId('vectorStore');
      const at = now();
      const row: VectorStoresTable = {
        id,
        workspace_id: workspaceId,
        name,
        metadata: toJsonColumn(metadata),
        created_at: at,
        last_active_at: at,
        expires_after_days: expiresAfterDays,
        seq,
        internal_key: null,
      };
      await db.insertInto('vector_stores').values(row).execute();
      return (await hydrate([row]))[0]!;
    },

    async ensureInternal({ workspaceId, key, name }) {
      const existing = () =>
        db
          .selectFrom('vector_stores')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('internal_key', '=', key)
          .executeTakeFirst();
      let row = await existing();
      if (!row) {
        const { id, seq } = newSortableId('vectorStore');
        const at = now();
        await db
          .insertInto('vector_stores')
          .values({
            id,
            workspace_id: workspaceId,
            name,
            metadata: toJsonColumn({}),
            created_at: at,
            last_active_at: at,
            expires_after_days: null,
            seq,
            internal_key: key,
          })
          .onConflict((conflict) => conflict.columns(['workspace_id', 'internal_key']).doNothing())
          .execute();
        row = await existing();
      }
      return (await hydrate([row!]))[0]!;
    },

    async find(workspaceId, id) {
      const row = await findRow(workspaceId, id);
      return row ? (await hydrate([row]))[0]! : null;
    },

    async findMany(workspaceId, ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('vector_stores')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', [...ids])
        .execute();
      return hydrate(rows);
    },

    async findExpiry(workspaceId, ids) {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('vector_stores')
        .select(['id', 'last_active_at', 'expires_after_days'])
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', [...ids])
        .execute();
      const at = now();
      return new Map(
        rows.map((row) => [
          row.id,
          {
            expired:
              row.expires_after_days !== null && row.last_active_at + row.expires_after_days * DAY <= at,
          },
        ]),
      );
    },

    async list({ workspaceId, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('vectorStore', after, 'after'),
        beforeSeq: cursorSequence('vectorStore', before, 'before'),
      });
      const query = db
        .selectFrom('vector_stores')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('internal_key', 'is', null);
      const page = await readPage(query, plan);
      return { data: await hydrate(page.data), hasMore: page.hasMore };
    },

    async update(workspaceId, id, { name, metadata, expiresAfterDays }) {
      const changes: { name?: string; metadata?: string; expires_after_days?: number | null } = {};
      if (name !== undefined) changes.name = name;
      if (metadata !== undefined) changes.metadata = toJsonColumn(metadata);
      if (expiresAfterDays !== undefined) changes.expires_after_days = expiresAfterDays;
      if (Object.keys(changes).length > 0) {
        await db
          .updateTable('vector_stores')
          .set(changes)
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .execute();
      }
      const row = await findRow(workspaceId, id);
      return row ? (await hydrate([row]))[0]! : null;
    },

    async delete(workspaceId, id) {
      // Chunks, file entries and batches go by cascade (and their index rows by trigger/cascade).
      const result = await db
        .deleteFrom('vector_stores')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async touch(id) {
      await db
        .updateTable('vector_stores')
        .set({ last_active_at: now() })
        .where('id', '=', id)
        .where('last_active_at', '<', now())
        .execute();
    },
  };
}
