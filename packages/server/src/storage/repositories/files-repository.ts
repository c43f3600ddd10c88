// Uploaded files' records, scoped to a workspace: an id from another workspace is simply not
// found. The bytes are in the blob store under `sha256`.

import type { Kysely, Selectable } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { FilesTable } from '../files-vector-stores-schema.js';
import { finishPage, type Page, planPage, type SortOrder } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';

export interface StoredFile {
  readonly id: string;
  readonly workspaceId: string;
  readonly filename: string;
  readonly purpose: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType: string | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
}

export interface FileCreateParams {
  readonly workspaceId: string;
  readonly filename: string;
  readonly purpose: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType?: string | null;
  /** Seconds after creation when the file is deleted. */
  readonly expiresAfterSeconds?: number | null;
}

export interface FileListParams {
  readonly workspaceId: string;
  readonly purpose?: string | undefined;
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

export interface FilesRepository {
  create(params: FileCreateParams): Promise<StoredFile>;
  /** Null when missing, expired, or in another workspace. */
  find(workspaceId: string, id: string): Promise<StoredFile | null>;
  /** The workspace's files among `ids` (missing and expired ones left out). */
  findMany(workspaceId: string, ids: readonly string[]): Promise<readonly StoredFile[]>;
  list(params: FileListParams): Promise<Page<StoredFile>>;
  /** Deletes the record (and, by cascade, its text, vector-store entries and chunks). */
  delete(workspaceId: string, id: string): Promise<StoredFile | null>;
  /** Whether any record still points at this blob. */
  isBlobReferenced(sha256: string): Promise<boolean>;
  /** The subset of `sha256s` that some record points at. */
  referencedBlobs(sha256s: readonly string[]): Promise<ReadonlySet<string>>;
  /** Files whose expiry passed, oldest first (any workspace), for the sweeper. */
  listExpired(limit: number): Promise<readonly StoredFile[]>;
}

export function createFilesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): FilesRepository {
  const live = () => {
    const at = now();
    return db
      .selectFrom('files')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]));
  };

  return {
    async create({
      workspaceId,
      filename,
      purpose,
      bytes,
      sha256,
      contentType = null,
      expiresAfterSeconds = null,
    }) {
      const { id, seq } = newSortableId('file');
      const createdAt = now();
      const row: FilesTable = {
        id,
        workspace_id: workspaceId,
        filename,
        purpose,
        bytes,
        sha256,
        content_type: contentType,
        created_at: createdAt,
        expires_at: expiresAfterSeconds === null ? null : createdAt + expiresAfterSeconds,
        seq,
      };
      await db.insertInto('files').values(row).execute();
      return toStoredFile(row);
    },

    async find(workspaceId, id) {
      const row = await live()
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toStoredFile(row) : null;
    },

    async findMany(workspaceId, ids) {
      if (ids.length === 0) return [];
      const rows = await live()
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', [...ids])
        .execute();
      return rows.map(toStoredFile);
    },

    async list({ workspaceId, purpose, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('file', after, 'after'),
        beforeSeq: cursorSequence('file', before, 'before'),
      });
      let query = live().where('workspace_id', '=', workspaceId);
      if (purpose !== undefined) query = query.where('purpose', '=', purpose);
      if (plan.greaterThan !== undefined) query = query.where('seq', '>', plan.greaterThan);
      if (plan.lessThan !== undefined) query = query.where('seq', '<', plan.lessThan);
      const rows = await query
        .orderBy('seq', plan.direction)
        .orderBy('id', plan.direction)
        .limit(plan.take)
        .execute();
      return finishPage(rows.map(toStoredFile), plan);
    },

    async delete(workspaceId, id) {
      const row = await db
        .deleteFrom('files')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toStoredFile(row) : null;
    },

    async isBlobReferenced(sha256) {
      const row = await db.selectFrom('files').select('id').where('sha256', '=', sha256).executeTakeFirst();
      return row !== undefined;
    },

    async referencedBlobs(sha256s) {
      if (sha256s.length === 0) return new Set();
      const rows = await db
        .selectFrom('files')
        .select('sha256')
        .distinct()
        .where('sha256', 'in', [...sha256s])
        .execute();
      return new Set(rows.map((row) => row.sha256));
    },

    async listExpired(limit) {
      const rows = await db
        .selectFrom('files')
        .selectAll()
        .where('expires_at', '<=', now())
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      return rows.map(toStoredFile);
    },
  };
}

function toStoredFile(row: Selectable<FilesTable>): StoredFile {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    filename: row.filename,
    purpose: row.purpose,
    bytes: row.bytes,
    sha256: row.sha256,
    contentType: row.content_type,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
