// GPTs: each is a row with its draft's face and sharing settings, the backing assistant (its
// draft's instructions, model, tools and tool resources, kept in `assistants`), frozen published
// versions, and the builder's Create conversation kept with the draft. Who may see or change one
// is the platform's rule (platform/gpts-*.ts): this stores and finds, unscoped.

import type { Kysely, Selectable } from 'kysely';
import { ConflictError } from '../../errors.js';
import type { AssistantTool, ResponseFormatOption, ToolResources } from '../assistants-domain.js';
import type { AssistantsTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import type { GptConversationsTable, GptsTable, GptVersionsTable } from '../gpts-schema.js';
import { inTransaction } from '../in-transaction.js';
import { fromJson, toJson } from '../json-value.js';
import { finishPage, type Page, planPage } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { newSortableId, nextSequence } from '../sortable-id.js';

export type GptVisibility = GptsTable['visibility'];

export interface GptCapabilitySet {
  readonly browsing: boolean;
  readonly imageGeneration: boolean;
  readonly codeInterpreter: boolean;
}

/** What users see of a GPT. */
export interface GptFace {
  readonly name: string;
  readonly description: string;
  readonly avatarFileId: string | null;
  readonly conversationStarters: readonly string[];
  readonly capabilities: GptCapabilitySet;
  readonly knowledgeFileIds: readonly string[];
  readonly actionIds: readonly string[];
}

/** What the backing assistant holds. */
export interface GptAssistantConfig {
  readonly instructions: string;
  readonly model: string;
  readonly tools: readonly AssistantTool[];
  readonly toolResources: ToolResources;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly responseFormat: ResponseFormatOption;
}

/** A GPT's draft, or one published version: its face and its assistant's configuration. */
export interface GptConfig extends GptFace, GptAssistantConfig {}

export interface GptVersion {
  readonly gptId: string;
  readonly version: number;
  readonly config: GptConfig;
  readonly publishedAt: number;
  readonly publishedBy: string | null;
}

export interface Gpt {
  readonly id: string;
  readonly workspaceId: string;
  readonly builderAccountId: string;
  readonly builderName: string;
  readonly assistantId: string;
  readonly draft: GptConfig;
  readonly draftVectorStoreId: string | null;
  readonly publishedVectorStoreId: string | null;
  readonly visibility: GptVisibility;
  readonly category: string | null;
  readonly allowTraining: boolean;
  readonly linkTokenHash: string;
  readonly linkTokenSealed: string;
  readonly createdAt: number;
  /** Last change to the draft or the settings. */
  readonly updatedAt: number;
  /** The latest published version; null until the first publish. */
  readonly published: GptVersion | null;
}

export interface GptCreateParams {
  readonly id: string;
  readonly workspaceId: string;
  readonly builderAccountId: string;
  readonly face: GptFace;
  readonly assistant: GptAssistantConfig;
  readonly visibility: GptVisibility;
  readonly category: string | null;
  readonly allowTraining: boolean;
  readonly linkTokenHash: string;
  readonly linkTokenSealed: string;
}

export interface GptDraftUpdate {
  readonly face?: Partial<GptFace>;
  readonly assistant?: Partial<GptAssistantConfig>;
  readonly draftVectorStoreId?: string | null;
}

export interface GptSharingUpdate {
  readonly visibility?: GptVisibility;
  readonly category?: string | null;
  readonly allowTraining?: boolean;
  /** A new share link: the old one stops working, and so do the grants it gave. */
  readonly link?: { readonly hash: string; readonly sealed: string };
}

export interface GptConversation {
  readonly gptId: string;
  readonly conversationId: string;
  readonly kind: 'chat' | 'thread';
  readonly accountId: string | null;
  readonly workspaceId: string;
  readonly version: number | null;
  readonly allowTraining: boolean;
  readonly createdAt: number;
}

export interface GptBuilderToolCall {
  readonly id: string;
  readonly name: string;
  /** JSON text, as the model wrote it. */
  readonly arguments: string;
}

/** What one builder tool call changed, as the Create tab showed it. */
export interface GptBuilderChange {
  readonly field: string;
  readonly value: string;
}

/** One message of the builder's Create conversation, as the builder assistant saw it. */
export type GptBuilderChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | {
      readonly role: 'assistant';
      readonly content: string | null;
      readonly toolCalls: readonly GptBuilderToolCall[];
    }
  | {
      readonly role: 'tool';
      readonly toolCallId: string;
      readonly content: string;
      readonly changes: readonly GptBuilderChange[];
    };

export interface GptBuilderChat {
  readonly gptId: string;
  readonly messages: readonly GptBuilderChatMessage[];
  /** null: nothing said yet. */
  readonly updatedAt: number | null;
}

export interface GptListPage {
  readonly limit: number;
  /** A GPT id from the previous page. */
  readonly after?: string | undefined;
}

export interface GptsRepository {
  create(params: GptCreateParams): Promise<Gpt>;
  find(id: string): Promise<Gpt | null>;
  findByAssistantId(assistantId: string): Promise<Gpt | null>;
  findByLinkTokenHash(hash: string): Promise<Gpt | null>;
  updateDraft(id: string, changes: GptDraftUpdate): Promise<Gpt | null>;
  updateSharing(id: string, changes: GptSharingUpdate): Promise<Gpt | null>;
  /**
   * Freezes `config` as the next version (1, 2, …) and makes it the latest. ConflictError when
   * another publish of the same GPT won the race.
   */
  publish(params: {
    id: string;
    config: GptConfig;
    publishedBy: string | null;
    publishedVectorStoreId: string | null;
  }): Promise<Gpt | null>;
  /** Newest first. */
  versions(id: string): Promise<readonly GptVersion[]>;
  /** The builder's GPTs, newest first. */
  listForBuilder(params: GptListPage & { readonly builderAccountId: string }): Promise<Page<Gpt>>;
  /** Published GPTs shared with any of these workspaces (`workspace`), or with everyone (`public`). */
  listShared(
    params: GptListPage &
      (
        | { readonly scope: 'workspace'; readonly workspaceIds: readonly string[] }
        | { readonly scope: 'public' }
      ),
  ): Promise<Page<Gpt>>;
  /**
   * Every GPT `accountId` builds, and the published ones shared with it: `public` ones, `workspace`
   * ones of `workspaceIds`, and `link` ones the account opened through their link (so a `link` GPT
   * here is always one its viewer holds the link of). Newest first.
   */
  listReachable(params: {
    readonly accountId: string | null;
    readonly workspaceIds: readonly string[];
  }): Promise<readonly Gpt[]>;
  /** Deletes the GPT with its backing assistant, versions, grants, builder chat and conversation records. */
  delete(id: string): Promise<boolean>;
  addLinkGrant(gptId: string, accountId: string): Promise<void>;
  hasLinkGrant(gptId: string, accountId: string): Promise<boolean>;
  /**
   * Records that a conversation is with this GPT, under the given training choice. The first
   * record of a conversation stays: the choice in effect when it started.
   */
  recordConversation(params: {
    gptId: string;
    conversation: { readonly kind: 'chat' | 'thread'; readonly id: string };
    accountId: string | null;
    workspaceId: string;
    version: number | null;
    allowTraining: boolean;
  }): Promise<GptConversation>;
  conversationsOf(conversationId: string): Promise<readonly GptConversation[]>;
  /** How many conversations and distinct people used the GPT. */
  usage(gptId: string): Promise<{ readonly conversations: number; readonly users: number }>;
  /** The builder's Create conversation (no messages when none was kept). */
  builderChat(gptId: string): Promise<GptBuilderChat>;
  /** Replaces the builder's Create conversation; null when the GPT is gone. */
  saveBuilderChat(params: {
    gptId: string;
    messages: readonly GptBuilderChatMessage[];
  }): Promise<GptBuilderChat | null>;
}

type GptRow = Selectable<GptsTable> & {
  readonly builder_name: string;
  readonly assistant: Selectable<AssistantsTable> | undefined;
  readonly latest: Selectable<GptVersionsTable> | undefined;
};

export function createGptsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): GptsRepository {
  /** Joins what a GPT is made of: its builder's name, backing assistant and latest version. */
  async function hydrate(
    trx: Kysely<DatabaseSchema>,
    rows: readonly (Selectable<GptsTable> & { builder_name: string })[],
  ): Promise<Gpt[]> {
    if (rows.length === 0) return [];
    const assistants = await trx
      .selectFrom('assistants')
      .selectAll()
      .where(
        'id',
        'in',
        rows.map((row) => row.assistant_id),
      )
      .execute();
    const published = rows.filter((row) => row.published_version !== null);
    const versions =
      published.length === 0
        ? []
        : await trx
            .selectFrom('gpt_versions')
            .selectAll()
            .where((eb) =>
              eb.or(
                published.map((row) =>
                  eb.and([eb('gpt_id', '=', row.id), eb('version', '=', row.published_version!)]),
                ),
              ),
            )
            .execute();
    return rows.map((row) =>
      toGpt({
        ...row,
        assistant: assistants.find((assistant) => assistant.id === row.assistant_id),
        latest: versions.find((version) => version.gpt_id === row.id),
      }),
    );
  }

  const selectGpts = (trx: Kysely<DatabaseSchema>) =>
    trx
      .selectFrom('gpts')
      .innerJoin('accounts', 'accounts.id', 'gpts.builder_account_id')
      .selectAll('gpts')
      .select('accounts.name as builder_name');

  async function findWhere(
    trx: Kysely<DatabaseSchema>,
    column: 'gpts.id' | 'gpts.assistant_id' | 'gpts.link_token_hash',
    value: string,
  ): Promise<Gpt | null> {
    const row = await selectGpts(trx).where(column, '=', value).executeTakeFirst();
    return row ? (await hydrate(trx, [row]))[0]! : null;
  }

  /** A page of GPTs newest first, `after` being a GPT id of the previous page. */
  async function page(
    filter: (query: ReturnType<typeof selectGpts>) => ReturnType<typeof selectGpts>,
    { limit, after = undefined }: GptListPage,
  ): Promise<Page<Gpt>> {
    let afterSeq: number | undefined;
    if (after !== undefined) {
      // Looked up in the list itself: a GPT outside it places nothing, so a page tells nothing of it.
      const cursor = await filter(selectGpts(db)).where('gpts.id', '=', after).executeTakeFirst();
      // A cursor that is gone (deleted) or foreign: nothing after it that we can place.
      if (!cursor) return { data: [], hasMore: false };
      afterSeq = cursor.seq;
    }
    const plan = planPage({ limit, order: 'desc', afterSeq });
    let query = filter(selectGpts(db));
    if (plan.lessThan !== undefined) query = query.where('gpts.seq', '<', plan.lessThan);
    const rows = await query
      .orderBy('gpts.seq', 'desc')
      .orderBy('gpts.id', 'desc')
      .limit(plan.take)
      .execute();
    const trimmed = finishPage(rows, plan);
    return { data: await hydrate(db, trimmed.data), hasMore: trimmed.hasMore };
  }

  return {
    async create(params) {
      const at = now();
      const assistantRow: AssistantsTable = {
        ...newSortableId('assistant'),
        workspace_id: params.workspaceId,
        created_at: at,
        ...assistantColumns(
          { name: params.face.name, description: params.face.description },
          params.assistant,
        ),
        metadata: toJson({ atelier_gpt_id: params.id }),
      };
      const row: GptsTable = {
        id: params.id,
        workspace_id: params.workspaceId,
        builder_account_id: params.builderAccountId,
        assistant_id: assistantRow.id,
        ...faceColumns(params.face),
        draft_vector_store_id: null,
        published_vector_store_id: null,
        visibility: params.visibility,
        category: params.category,
        allow_training: params.allowTraining ? 1 : 0,
        link_token_hash: params.linkTokenHash,
        link_token_sealed: params.linkTokenSealed,
        created_at: at,
        updated_at: at,
        seq: nextSequence(),
        published_version: null,
        published_at: null,
      };
      return inTransaction(db, async (trx) => {
        await trx.insertInto('assistants').values(assistantRow).execute();
        await trx.insertInto('gpts').values(row).execute();
        return (await findWhere(trx, 'gpts.id', row.id))!;
      });
    },

    find: (id) => findWhere(db, 'gpts.id', id),
    findByAssistantId: (assistantId) => findWhere(db, 'gpts.assistant_id', assistantId),
    findByLinkTokenHash: (hash) => findWhere(db, 'gpts.link_token_hash', hash),

    updateDraft(id, { face = {}, assistant = {}, draftVectorStoreId = undefined }) {
      return inTransaction(db, async (trx) => {
        const current = await findWhere(trx, 'gpts.id', id);
        if (!current) return null;
        const nextFace: GptFace = { ...current.draft, ...definedOnly(face) };
        const nextAssistant: GptAssistantConfig = { ...current.draft, ...definedOnly(assistant) };
        await trx
          .updateTable('gpts')
          .set({
            ...faceColumns(nextFace),
            ...(draftVectorStoreId !== undefined ? { draft_vector_store_id: draftVectorStoreId } : {}),
            updated_at: now(),
          })
          .where('id', '=', id)
          .execute();
        await trx
          .updateTable('assistants')
          .set(assistantColumns(nextFace, nextAssistant))
          .where('id', '=', current.assistantId)
          .execute();
        return findWhere(trx, 'gpts.id', id);
      });
    },

    updateSharing(id, { visibility, category, allowTraining, link }) {
      return inTransaction(db, async (trx) => {
        const result = await trx
          .updateTable('gpts')
          .set({
            ...(visibility !== undefined ? { visibility } : {}),
            ...(category !== undefined ? { category } : {}),
            ...(allowTraining !== undefined ? { allow_training: allowTraining ? 1 : 0 } : {}),
            ...(link !== undefined ? { link_token_hash: link.hash, link_token_sealed: link.sealed } : {}),
            updated_at: now(),
          })
          .where('id', '=', id)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return null;
        if (link !== undefined) await trx.deleteFrom('gpt_link_grants').where('gpt_id', '=', id).execute();
        return findWhere(trx, 'gpts.id', id);
      });
    },

    async publish({ id, config, publishedBy, publishedVectorStoreId }) {
      try {
        return await inTransaction(db, async (trx) => {
          const current = await trx
            .selectFrom('gpts')
            .select('published_version')
            .where('id', '=', id)
            .executeTakeFirst();
          if (!current) return null;
          const version = (current.published_version ?? 0) + 1;
          const at = now();
          await trx
            .insertInto('gpt_versions')
            .values({
              gpt_id: id,
              version,
              config: toJson(config),
              published_at: at,
              published_by: publishedBy,
            })
            .execute();
          const moved = await trx
            .updateTable('gpts')
            .set({
              published_version: version,
              published_at: at,
              published_vector_store_id: publishedVectorStoreId,
            })
            .where('id', '=', id)
            .where((eb) =>
              current.published_version === null
                ? eb('published_version', 'is', null)
                : eb('published_version', '=', current.published_version),
            )
            .executeTakeFirst();
          if (moved.numUpdatedRows === 0n) throw publishRace();
          return findWhere(trx, 'gpts.id', id);
        });
      } catch (error) {
        if (constraintViolation(error) === 'unique') throw publishRace();
        throw error;
      }
    },

    async versions(id) {
      const rows = await db
        .selectFrom('gpt_versions')
        .selectAll()
        .where('gpt_id', '=', id)
        .orderBy('version', 'desc')
        .execute();
      return rows.map(toVersion);
    },

    listForBuilder({ builderAccountId, ...paging }) {
      return page((query) => query.where('gpts.builder_account_id', '=', builderAccountId), paging);
    },

    async listReachable({ accountId, workspaceIds }) {
      const rows = await selectGpts(db)
        .where((eb) => {
          const shared = [eb('gpts.visibility', '=', 'public')];
          if (workspaceIds.length > 0) {
            shared.push(
              eb.and([
                eb('gpts.visibility', '=', 'workspace'),
                eb('gpts.workspace_id', 'in', [...workspaceIds]),
              ]),
            );
          }
          if (accountId !== null) {
            shared.push(
              eb.and([
                eb('gpts.visibility', '=', 'link'),
                eb.exists(
                  eb
                    .selectFrom('gpt_link_grants')
                    .select('gpt_link_grants.gpt_id')
                    .whereRef('gpt_link_grants.gpt_id', '=', 'gpts.id')
                    .where('gpt_link_grants.account_id', '=', accountId),
                ),
              ]),
            );
          }
          const published = eb.and([eb('gpts.published_version', 'is not', null), eb.or(shared)]);
          return accountId === null
            ? published
            : eb.or([eb('gpts.builder_account_id', '=', accountId), published]);
        })
        .orderBy('gpts.seq', 'desc')
        .orderBy('gpts.id', 'desc')
        .execute();
      return hydrate(db, rows);
    },

    listShared(params) {
      return page((query) => {
        const shared = query.where('gpts.published_version', 'is not', null);
        if (params.scope === 'public') return shared.where('gpts.visibility', '=', 'public');
        if (params.workspaceIds.length === 0) return shared.where('gpts.id', '=', '');
        return shared
          .where('gpts.visibility', '=', 'workspace')
          .where('gpts.workspace_id', 'in', [...params.workspaceIds]);
      }, params);
    },

    delete(id) {
      return inTransaction(db, async (trx) => {
        const row = await trx
          .selectFrom('gpts')
          .select('assistant_id')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!row) return false;
        // The GPT row and what hangs on it go with its assistant (on delete cascade).
        await trx.deleteFrom('assistants').where('id', '=', row.assistant_id).execute();
        return true;
      });
    },

    async addLinkGrant(gptId, accountId) {
      await db
        .insertInto('gpt_link_grants')
        .values({ gpt_id: gptId, account_id: accountId, created_at: now() })
        .onConflict((conflict) => conflict.columns(['gpt_id', 'account_id']).doNothing())
        .execute();
    },

    async hasLinkGrant(gptId, accountId) {
      const row = await db
        .selectFrom('gpt_link_grants')
        .select('gpt_id')
        .where('gpt_id', '=', gptId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row !== undefined;
    },

    async recordConversation({ gptId, conversation, accountId, workspaceId, version, allowTraining }) {
      await db
        .insertInto('gpt_conversations')
        .values({
          gpt_id: gptId,
          conversation_id: conversation.id,
          chat_id: conversation.kind === 'chat' ? conversation.id : null,
          thread_id: conversation.kind === 'thread' ? conversation.id : null,
          account_id: accountId,
          workspace_id: workspaceId,
          version,
          allow_training: allowTraining ? 1 : 0,
          created_at: now(),
        })
        .onConflict((conflict) => conflict.columns(['gpt_id', 'conversation_id']).doNothing())
        .execute();
      const row = await db
        .selectFrom('gpt_conversations')
        .selectAll()
        .where('gpt_id', '=', gptId)
        .where('conversation_id', '=', conversation.id)
        .executeTakeFirstOrThrow();
      return toConversation(row);
    },

    async conversationsOf(conversationId) {
      const rows = await db
        .selectFrom('gpt_conversations')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('created_at')
        .execute();
      return rows.map(toConversation);
    },

    async usage(gptId) {
      const row = await db
        .selectFrom('gpt_conversations')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('conversations'),
          eb.fn.count<number | string>('account_id').distinct().as('users'),
        ])
        .where('gpt_id', '=', gptId)
        // A web chat with the GPT counts once: its threads (one per branch) are recorded too.
        .where((eb) =>
          eb.or([
            eb('thread_id', 'is', null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('threads')
                  .select('threads.id')
                  .whereRef('threads.id', '=', 'gpt_conversations.thread_id')
                  .where('threads.metadata', 'like', '%"atelier_chat_id"%'),
              ),
            ),
          ]),
        )
        .executeTakeFirst();
      return { conversations: Number(row?.conversations ?? 0), users: Number(row?.users ?? 0) };
    },

    async builderChat(gptId) {
      const row = await db
        .selectFrom('gpt_builder_chats')
        .selectAll()
        .where('gpt_id', '=', gptId)
        .executeTakeFirst();
      return {
        gptId,
        messages: row ? fromJson<GptBuilderChatMessage[]>(row.messages, []) : [],
        updatedAt: row ? Number(row.updated_at) : null,
      };
    },

    async saveBuilderChat({ gptId, messages }) {
      const row = { gpt_id: gptId, messages: toJson(messages), updated_at: now() };
      try {
        await db
          .insertInto('gpt_builder_chats')
          .values(row)
          .onConflict((conflict) =>
            conflict.column('gpt_id').doUpdateSet({ messages: row.messages, updated_at: row.updated_at }),
          )
          .execute();
      } catch (error) {
        // The GPT was deleted meanwhile.
        if (constraintViolation(error) === 'foreign_key') return null;
        throw error;
      }
      return { gptId, messages, updatedAt: row.updated_at };
    },
  };
}

function publishRace(): ConflictError {
  return new ConflictError('This GPT was published by another request at the same time. Try again.', {
    code: 'publish_conflict',
  });
}

/** Partial updates: a key present with `undefined` keeps the current value. */
function definedOnly<Value extends object>(value: Value): Partial<Value> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<Value>;
}

function faceColumns(face: GptFace) {
  return {
    name: face.name,
    description: face.description,
    avatar_file_id: face.avatarFileId,
    conversation_starters: toJson(face.conversationStarters),
    capabilities: toJson(face.capabilities),
    knowledge_file_ids: toJson(face.knowledgeFileIds),
    action_ids: toJson(face.actionIds),
  };
}

function assistantColumns(face: Pick<GptFace, 'name' | 'description'>, config: GptAssistantConfig) {
  return {
    name: face.name || null,
    description: face.description || null,
    model: config.model,
    instructions: config.instructions,
    tools: toJson(config.tools),
    tool_resources: toJson(config.toolResources),
    temperature: config.temperature,
    top_p: config.topP,
    response_format: toJson(config.responseFormat),
  };
}

const NO_CAPABILITIES: GptCapabilitySet = { browsing: false, imageGeneration: false, codeInterpreter: false };

function toFace(row: Selectable<GptsTable>): GptFace {
  return {
    name: row.name,
    description: row.description,
    avatarFileId: row.avatar_file_id,
    conversationStarters: fromJson<string[]>(row.conversation_starters, []),
    capabilities: { ...NO_CAPABILITIES, ...fromJson<Partial<GptCapabilitySet>>(row.capabilities, {}) },
    knowledgeFileIds: fromJson<string[]>(row.knowledge_file_ids, []),
    actionIds: fromJson<string[]>(row.action_ids, []),
  };
}

function toAssistantConfig(row: Selectable<AssistantsTable> | undefined): GptAssistantConfig {
  return {
    instructions: row?.instructions ?? '',
    model: row?.model ?? '',
    tools: fromJson<AssistantTool[]>(row?.tools ?? null, []),
    toolResources: fromJson<ToolResources>(row?.tool_resources ?? null, {}),
    temperature: row?.temperature ?? null,
    topP: row?.top_p ?? null,
    responseFormat: fromJson<ResponseFormatOption>(row?.response_format ?? null, 'auto'),
  };
}

function toVersion(row: Selectable<GptVersionsTable>): GptVersion {
  const config = fromJson<Partial<GptConfig>>(row.config, {});
  return {
    gptId: row.gpt_id,
    version: Number(row.version),
    config: {
      name: config.name ?? '',
      description: config.description ?? '',
      avatarFileId: config.avatarFileId ?? null,
      conversationStarters: config.conversationStarters ?? [],
      capabilities: { ...NO_CAPABILITIES, ...config.capabilities },
      knowledgeFileIds: config.knowledgeFileIds ?? [],
      actionIds: config.actionIds ?? [],
      instructions: config.instructions ?? '',
      model: config.model ?? '',
      tools: config.tools ?? [],
      toolResources: config.toolResources ?? {},
      temperature: config.temperature ?? null,
      topP: config.topP ?? null,
      responseFormat: config.responseFormat ?? 'auto',
    },
    publishedAt: Number(row.published_at),
    publishedBy: row.published_by,
  };
}

function toGpt(row: GptRow): Gpt {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    builderAccountId: row.builder_account_id,
    builderName: row.builder_name,
    assistantId: row.assistant_id,
    draft: { ...toFace(row), ...toAssistantConfig(row.assistant) },
    draftVectorStoreId: row.draft_vector_store_id,
    publishedVectorStoreId: row.published_vector_store_id,
    visibility: row.visibility,
    category: row.category,
    allowTraining: Number(row.allow_training) === 1,
    linkTokenHash: row.link_token_hash,
    linkTokenSealed: row.link_token_sealed,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    published: row.latest ? toVersion(row.latest) : null,
  };
}

function toConversation(row: Selectable<GptConversationsTable>): GptConversation {
  return {
    gptId: row.gpt_id,
    conversationId: row.conversation_id,
    kind: row.chat_id !== null ? 'chat' : 'thread',
    accountId: row.account_id,
    workspaceId: row.workspace_id,
    version: row.version === null ? null : Number(row.version),
    allowTraining: Number(row.allow_training) === 1,
    createdAt: Number(row.created_at),
  };
}
