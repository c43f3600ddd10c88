// Assistants, scoped to a workspace, with their v1 files (each attached at its own time).

import type { Kysely, Selectable } from 'kysely';
import type { AssistantTool, ResponseFormatOption, ToolResources } from '../assistants-domain.js';
import type { AssistantsTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { inTransaction } from '../in-transaction.js';
import { fromJson, toJson } from '../json-value.js';
import { finishPage, type Page, planPage, readPage, type SortOrder } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';

export interface Assistant {
  readonly id: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  readonly name: string | null;
  readonly description: string | null;
  readonly model: string;
  readonly instructions: string | null;
  readonly tools: readonly AssistantTool[];
  readonly toolResources: ToolResources;
  /** v1 `file_ids`, oldest first. */
  readonly fileIds: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly responseFormat: ResponseFormatOption;
}

export interface AssistantFields {
  readonly name: string | null;
  readonly description: string | null;
  readonly model: string;
  readonly instructions: string | null;
  readonly tools: readonly AssistantTool[];
  readonly toolResources: ToolResources;
  readonly metadata: Readonly<Record<string, string>>;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly responseFormat: ResponseFormatOption;
}

export interface AssistantCreateParams extends AssistantFields {
  readonly workspaceId: string;
  readonly fileIds?: readonly string[];
}

/** Fields left undefined keep their value; `fileIds` replaces the v1 file list. */
export type AssistantUpdateParams = Partial<AssistantFields> & { readonly fileIds?: readonly string[] };

export interface AssistantFile {
  readonly fileId: string;
  readonly assistantId: string;
  readonly createdAt: number;
}

export interface ListParams {
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

export interface AssistantsRepository {
  create(params: AssistantCreateParams): Promise<Assistant>;
  find(workspaceId: string, id: string): Promise<Assistant | null>;
  list(params: ListParams & { readonly workspaceId: string }): Promise<Page<Assistant>>;
  update(workspaceId: string, id: string, params: AssistantUpdateParams): Promise<Assistant | null>;
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Attaches a v1 file (no-op returning the existing one when it is attached already). */
  addFile(params: { assistantId: string; fileId: string }): Promise<AssistantFile>;
  findFile(params: { assistantId: string; fileId: string }): Promise<AssistantFile | null>;
  listFiles(params: ListParams & { readonly assistantId: string }): Promise<Page<AssistantFile>>;
  removeFile(params: { assistantId: string; fileId: string }): Promise<boolean>;
}

export function createAssistantsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): AssistantsRepository {
  async function hydrate(rows: readonly Selectable<AssistantsTable>[]): Promise<Assistant[]> {
    if (rows.length === 0) return [];
    const files = await db
      .selectFrom('assistant_files')
      .select(['assistant_id', 'file_id'])
      .where(
        'assistant_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('seq')
      .execute();
    return rows.map((row) =>
      toAssistant(
        row,
        files.filter((file) => file.assistant_id === row.id),
      ),
    );
  }

  async function findRow(trx: Kysely<DatabaseSchema>, workspaceId: string, id: string) {
    return trx
      .selectFrom('assistants')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async function replaceFiles(trx: Kysely<DatabaseSchema>, assistantId: string, fileIds: readonly string[]) {
    await trx.deleteFrom('assistant_files').where('assistant_id', '=', assistantId).execute();
    const at = now();
    const unique = [...new Set(fileIds)];
    if (unique.length === 0) return;
    await trx
      .insertInto('assistant_files')
      .values(
        unique.map((fileId) => ({
          assistant_id: assistantId,
          file_id: fileId,
          created_at: at,
          seq: newSortableId('file').seq,
        })),
      )
      .execute();
  }

  return {
    async create({ workspaceId, fileIds = [], ...fields }) {
      const { id, seq } = newSortableId('assistant');
      const row: AssistantsTable = {
        id,
        workspace_id: workspaceId,
        created_at: now(),
        seq,
        ...toColumns(fields),
      };
      await inTransaction(db, async (trx) => {
        await trx.insertInto('assistants').values(row).execute();
        await replaceFiles(trx, id, fileIds);
      });
      return toAssistant(
        row,
        [...new Set(fileIds)].map((fileId) => ({ assistant_id: id, file_id: fileId })),
      );
    },

    async find(workspaceId, id) {
      const row = await findRow(db, workspaceId, id);
      return row ? (await hydrate([row]))[0]! : null;
    },

    async list({ workspaceId, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('assistant', after, 'after'),
        beforeSeq: cursorSequence('assistant', before, 'before'),
      });
      const query = db.selectFrom('assistants').selectAll().where('workspace_id', '=', workspaceId);
      const page = await readPage(query, plan);
      return { data: await hydrate(page.data), hasMore: page.hasMore };
    },

    async update(workspaceId, id, { fileIds, ...fields }) {
      return inTransaction(db, async (trx) => {
        const row = await findRow(trx, workspaceId, id);
        if (!row) return null;
        const current = toAssistant(row, []);
        const merged: AssistantFields = {
          name: fields.name !== undefined ? fields.name : current.name,
          description: fields.description !== undefined ? fields.description : current.description,
          model: fields.model ?? current.model,
          instructions: fields.instructions !== undefined ? fields.instructions : current.instructions,
          tools: fields.tools ?? current.tools,
          toolResources: fields.toolResources ?? current.toolResources,
          metadata: fields.metadata ?? current.metadata,
          temperature: fields.temperature !== undefined ? fields.temperature : current.temperature,
          topP: fields.topP !== undefined ? fields.topP : current.topP,
          responseFormat: fields.responseFormat ?? current.responseFormat,
        };
        await trx
          .updateTable('assistants')
          .set(toColumns(merged))
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .execute();
        if (fileIds !== undefined) await replaceFiles(trx, id, fileIds);
        const updated = await findRow(trx, workspaceId, id);
        const files = await trx
          .selectFrom('assistant_files')
          .select(['assistant_id', 'file_id'])
          .where('assistant_id', '=', id)
          .orderBy('seq')
          .execute();
        return toAssistant(updated!, files);
      });
    },

    async delete(workspaceId, id) {
      const result = await db
        .deleteFrom('assistants')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async addFile({ assistantId, fileId }) {
      return inTransaction(db, async (trx) => {
        const existing = await trx
          .selectFrom('assistant_files')
          .selectAll()
          .where('assistant_id', '=', assistantId)
          .where('file_id', '=', fileId)
          .executeTakeFirst();
        if (existing) return toAssistantFile(existing);
        const row = {
          assistant_id: assistantId,
          file_id: fileId,
          created_at: now(),
          seq: newSortableId('file').seq,
        };
        await trx.insertInto('assistant_files').values(row).execute();
        return toAssistantFile(row);
      });
    },

    async findFile({ assistantId, fileId }) {
      const row = await db
        .selectFrom('assistant_files')
        .selectAll()
        .where('assistant_id', '=', assistantId)
        .where('file_id', '=', fileId)
        .executeTakeFirst();
      return row ? toAssistantFile(row) : null;
    },

    async listFiles({ assistantId, limit, order, after, before }) {
      // The list is in the order files were attached: a cursor is looked up in it first.
      const seqOf = async (fileId: string | undefined, param: 'after' | 'before') => {
        if (fileId === undefined) return undefined;
        const row = await db
          .selectFrom('assistant_files')
          .select('seq')
          .where('assistant_id', '=', assistantId)
          .where('file_id', '=', fileId)
          .executeTakeFirst();
        // Detached since the last page: its own id still says roughly where it was (a 400 when it is no file id).
        return row?.seq ?? cursorSequence('file', fileId, param);
      };
      const plan = planPage({
        limit,
        order,
        afterSeq: await seqOf(after, 'after'),
        beforeSeq: await seqOf(before, 'before'),
      });
      let query = db.selectFrom('assistant_files').selectAll().where('assistant_id', '=', assistantId);
      if (plan.greaterThan !== undefined) query = query.where('seq', '>', plan.greaterThan);
      if (plan.lessThan !== undefined) query = query.where('seq', '<', plan.lessThan);
      const rows = await query
        .orderBy('seq', plan.direction)
        .orderBy('file_id', plan.direction)
        .limit(plan.take)
        .execute();
      const page = finishPage(rows, plan);
      return { data: page.data.map(toAssistantFile), hasMore: page.hasMore };
    },

    async removeFile({ assistantId, fileId }) {
      const result = await db
        .deleteFrom('assistant_files')
        .where('assistant_id', '=', assistantId)
        .where('file_id', '=', fileId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toColumns(fields: AssistantFields) {
  return {
    name: fields.name,
    description: fields.description,
    model: fields.model,
    instructions: fields.instructions,
    tools: toJson(fields.tools),
    tool_resources: toJson(fields.toolResources),
    metadata: toJson(fields.metadata),
    temperature: fields.temperature,
    top_p: fields.topP,
    response_format: toJson(fields.responseFormat),
  };
}

function toAssistant(
  row: Selectable<AssistantsTable>,
  files: readonly { assistant_id: string; file_id: string }[],
): Assistant {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    name: row.name,
    description: row.description,
    model: row.model,
    instructions: row.instructions,
    tools: fromJson<AssistantTool[]>(row.tools, []),
    toolResources: fromJson<ToolResources>(row.tool_resources, {}),
    fileIds: files.map((file) => file.file_id),
    metadata: fromJson<Record<string, string>>(row.metadata, {}),
    temperature: row.temperature,
    topP: row.top_p,
    responseFormat: fromJson<ResponseFormatOption>(row.response_format, 'auto'),
  };
}

function toAssistantFile(row: { assistant_id: string; file_id: string; created_at: number }): AssistantFile {
  return { fileId: row.file_id, assistantId: row.assistant_id, createdAt: row.created_at };
}
