// GPTs as the product handles them: a builder creates one in a workspace they belong to, edits
// its draft (autosaved: every change is stored at once), previews the draft, publishes numbered
// versions (users always get the latest), chooses who may use it and whether chats with it may
// improve models, and deletes it. Every read and write goes through gpts-permissions.ts; a GPT
// someone may not see reads as missing (404), one they may see but not change is a 403.
//
// The draft's instructions, model and tools live in the GPT's backing assistant; its knowledge is
// indexed in two vector stores the server keeps for it (not listed): one for the draft (the
// builder's preview searches it) and one for the latest published version (users' chats do).
// The builder's Create conversation is kept with the draft, for its builders only.

import { createHash } from 'node:crypto';
import { GPT_BUILDER_CHAT_LIMITS, newGptId, randomBase62 } from '@atelier/protocol';
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from '../errors.js';
import type { ModelCapabilities, ModelInfo } from '../inference/spec.js';
import type { AssistantTool, ToolResources } from '../storage/assistants-domain.js';
import type {
  Gpt,
  GptBuilderChat,
  GptBuilderChatMessage,
  GptCapabilitySet,
  GptConfig,
  GptConversation,
  GptFace,
  GptVersion,
  GptVisibility,
} from '../storage/repositories/gpts-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { SecretBox } from '../storage/secret-box.js';
import type { ActionsService } from './actions-service.js';
import type { FilesService } from './files-service.js';
import { type GptAccess, type GptRole, type GptViewer, gptPermissions, gptRole } from './gpts-permissions.js';
import type { VectorStoresService } from './vector-stores-service.js';

/** A GPT as one viewer may see it. */
export interface GptSeen {
  readonly gpt: Gpt;
  readonly role: GptRole;
  readonly access: GptAccess;
  /** Only for those who may see its instructions (its builder). */
  readonly editor?: {
    readonly linkToken: string;
    readonly usage: { readonly conversations: number; readonly users: number };
  };
}

/** What a chat with a GPT runs with: one version (or the draft) and where its knowledge is. */
export interface GptChatTarget {
  readonly gpt: Gpt;
  /** null: the draft (the builder's preview). */
  readonly version: number | null;
  readonly config: GptConfig;
  /** The knowledge lives in the GPT's workspace, whoever chats. */
  readonly knowledge: { readonly workspaceId: string; readonly vectorStoreIds: readonly string[] };
  readonly allowTraining: boolean;
}

/** A GPT as a model of `/v1/models`: its face, never its instructions or the model it runs on. */
export interface GptModel {
  readonly gptId: string;
  /** `gpt-<id>:draft`: the builder's draft. */
  readonly draft: boolean;
  readonly name: string;
  readonly description: string;
  readonly builderName: string;
  /** Unix seconds: when the GPT was made. */
  readonly createdAt: number;
  /** The published version chats get; null: the draft (never published, or `:draft`). */
  readonly version: number | null;
  /** What the model it runs on can do; null when that model is not served now. */
  readonly capabilities: ModelCapabilities | null;
}

export interface GptDraftChanges {
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly instructions?: string | undefined;
  readonly model?: string | undefined;
  readonly avatarFileId?: string | null | undefined;
  readonly conversationStarters?: readonly string[] | undefined;
  readonly capabilities?: Partial<GptCapabilitySet> | undefined;
  readonly knowledgeFileIds?: readonly string[] | undefined;
  readonly actionIds?: readonly string[] | undefined;
}

export interface GptSharingChanges {
  readonly visibility?: GptVisibility | undefined;
  readonly category?: string | null | undefined;
  readonly allowTraining?: boolean | undefined;
}

export type GptListScope = 'mine' | 'workspace' | 'public';

export interface GptsService {
  /** The viewer behind a session or key: the person and the workspaces they belong to. */
  viewer(params: { accountId: string | null; workspaceId: string | null }): Promise<GptViewer>;
  create(params: {
    viewer: GptViewer;
    workspaceId: string;
    draft: GptDraftChanges;
    sharing: GptSharingChanges;
  }): Promise<GptSeen>;
  get(params: { viewer: GptViewer; gptId: string }): Promise<GptSeen>;
  /** Opening the share link: a signed-in person keeps access to a `link` GPT until the link changes. */
  getByLinkToken(params: { viewer: GptViewer; token: string }): Promise<GptSeen>;
  list(params: {
    viewer: GptViewer;
    scope: GptListScope;
    limit: number;
    after?: string | undefined;
  }): Promise<{ readonly data: readonly GptSeen[]; readonly hasMore: boolean }>;
  updateDraft(params: { viewer: GptViewer; gptId: string; changes: GptDraftChanges }): Promise<GptSeen>;
  updateSharing(params: { viewer: GptViewer; gptId: string; changes: GptSharingChanges }): Promise<GptSeen>;
  /** A new share link; the old one (and the access it gave) stops working. */
  rotateLink(params: { viewer: GptViewer; gptId: string }): Promise<GptSeen>;
  publish(params: { viewer: GptViewer; gptId: string }): Promise<GptSeen>;
  versions(params: { viewer: GptViewer; gptId: string }): Promise<readonly GptVersion[]>;
  delete(params: { viewer: GptViewer; gptId: string }): Promise<void>;
  /** The avatar's bytes, for whoever may view the GPT. */
  avatar(params: { viewer: GptViewer; gptId: string }): Promise<Awaited<ReturnType<FilesService['content']>>>;
  /**
   * What a chat with the GPT runs with, or null when the viewer may not chat with it (or, for the
   * draft, may not edit it): callers answer that as "no such model / assistant".
   */
  chatTarget(params: { viewer: GptViewer; gptId: string; draft: boolean }): Promise<GptChatTarget | null>;
  /**
   * The GPTs the viewer may chat with, as models (newest first): exactly those whose `gpt-<id>`
   * chat completions accept from them. Drafts (`:draft`) are not listed.
   */
  chatModels(params: { viewer: GptViewer }): Promise<readonly GptModel[]>;
  /** One GPT as a model (`draft`: its `:draft`), or null when the viewer may not chat with it. */
  chatModel(params: { viewer: GptViewer; gptId: string; draft: boolean }): Promise<GptModel | null>;
  /** The builder's Create conversation, for those who may edit the GPT. */
  builderChat(params: { viewer: GptViewer; gptId: string }): Promise<GptBuilderChat>;
  /** Replaces the builder's Create conversation (kept with the draft until the GPT is deleted). */
  saveBuilderChat(params: {
    viewer: GptViewer;
    gptId: string;
    messages: readonly GptBuilderChatMessage[];
  }): Promise<GptBuilderChat>;
  /** Stores the training choice in effect with a conversation that talks to the GPT. */
  recordConversation(params: {
    target: GptChatTarget;
    conversation: { readonly kind: 'chat' | 'thread'; readonly id: string };
    accountId: string | null;
    workspaceId: string;
  }): Promise<GptConversation>;
}

export interface GptsServiceOptions {
  readonly repositories: Repositories;
  /** The chat models a GPT may run on. */
  readonly models: { find(id: string): ModelInfo | undefined; list(): readonly ModelInfo[] };
  readonly vectorStores: VectorStoresService;
  readonly files: Pick<FilesService, 'content'>;
  readonly secrets: SecretBox;
  /** Checks a draft's `action_ids` (actions of the GPT's workspace) and sharing (privacy policy URLs). */
  readonly actions?: Pick<ActionsService, 'get' | 'assertShareable'> | undefined;
}

const NO_CAPABILITIES: GptCapabilitySet = { browsing: false, imageGeneration: false, codeInterpreter: false };

export function createGptsService({
  repositories,
  models,
  vectorStores,
  files,
  secrets,
  actions = undefined,
}: GptsServiceOptions): GptsService {
  const linkContext = (gptId: string) => `gpt-link:${gptId}`;
  const newLink = (gptId: string) => {
    const token = randomBase62(32);
    return { token, hash: hashToken(token), sealed: secrets.seal(token, { context: linkContext(gptId) }) };
  };

  const notFound = (gptId: string) =>
    new NotFoundError(`No GPT found with id '${gptId}'.`, { param: 'gpt_id' });

  async function hasLinkGrant(gpt: Gpt, viewer: GptViewer): Promise<boolean> {
    if (gpt.visibility !== 'link' || viewer.accountId === null) return false;
    return repositories.gpts.hasLinkGrant(gpt.id, viewer.accountId);
  }

  async function see(gpt: Gpt, viewer: GptViewer, { viaLink = false } = {}): Promise<GptSeen> {
    const role = gptRole(gpt, viewer);
    const hasLink = viaLink || (role !== 'builder' && (await hasLinkGrant(gpt, viewer)));
    const access = gptPermissions({
      visibility: gpt.visibility,
      role,
      hasLink,
      published: gpt.published !== null,
    });
    // The builder's view holds the instructions, knowledge and actions: only for who may see them.
    if (!access.seeInstructions) return { gpt, role, access };
    return {
      gpt,
      role,
      access,
      editor: {
        linkToken: secrets.open(gpt.linkTokenSealed as Parameters<SecretBox['open']>[0], {
          context: linkContext(gpt.id),
        }),
        usage: await repositories.gpts.usage(gpt.id),
      },
    };
  }

  /** The GPT when the viewer may see it; a 404 otherwise, so its existence does not leak. */
  async function visible(viewer: GptViewer, gptId: string): Promise<GptSeen> {
    const gpt = await repositories.gpts.find(gptId);
    if (!gpt) throw notFound(gptId);
    const seen = await see(gpt, viewer);
    if (!seen.access.view) throw notFound(gptId);
    return seen;
  }

  async function editable(viewer: GptViewer, gptId: string): Promise<GptSeen> {
    const seen = await visible(viewer, gptId);
    if (!seen.access.edit) {
      throw new PermissionDeniedError('Only the builder of this GPT can change it.', {
        code: 'not_gpt_builder',
      });
    }
    return seen;
  }

  function checkModel(id: string): string {
    const info = models.find(id);
    if (!info?.capabilities.chat) {
      throw new InvalidRequestError(
        `The model '${id}' does not exist or cannot chat: choose one of /v1/models.`,
        {
          param: 'model',
          code: 'model_not_found',
        },
      );
    }
    return id;
  }

  function defaultModel(): string {
    const chat = models.list().find((info) => info.capabilities.chat);
    if (!chat) {
      throw new InvalidRequestError('This server has no chat model for a GPT to run on.', {
        param: 'model',
        code: 'model_not_found',
      });
    }
    return chat.id;
  }

  async function checkFiles(workspaceId: string, ids: readonly string[], param: string): Promise<void> {
    if (ids.length === 0) return;
    const found = new Set(
      (await repositories.files.findMany(workspaceId, [...new Set(ids)])).map((file) => file.id),
    );
    const index = ids.findIndex((id) => !found.has(id));
    if (index >= 0) {
      throw new NotFoundError(`No file found with id '${ids[index]}' in the GPT's workspace.`, {
        param: ids.length === 1 && !param.endsWith('_ids') ? param : `${param}[${index}]`,
      });
    }
  }

  /**
   * Makes the GPT's knowledge store for `which` hold exactly `fileIds` (created on first use,
   * deleted when empty); returns its id or null. Files already indexed stay as they are.
   */
  async function syncKnowledge(
    gpt: { readonly id: string; readonly workspaceId: string },
    which: 'draft' | 'published',
    fileIds: readonly string[],
    current: string | null,
  ): Promise<string | null> {
    if (fileIds.length === 0) {
      if (current) await vectorStores.delete(gpt.workspaceId, current).catch(ignoreNotFound);
      return null;
    }
    const store = await repositories.vectorStores.ensureInternal({
      workspaceId: gpt.workspaceId,
      key: `gpt:${gpt.id}:${which}`,
      name: `Knowledge of GPT ${gpt.id} (${which})`,
    });
    const attached = await vectorStores.listFiles(gpt.workspaceId, store.id, {
      limit: 100,
      order: 'asc',
    });
    const present = new Set(attached.data.map((file) => file.fileId));
    const wanted = new Set(fileIds);
    const missing = [...wanted].filter((id) => !present.has(id));
    if (missing.length > 0) {
      await vectorStores.createBatch(
        gpt.workspaceId,
        store.id,
        missing.map((fileId) => ({ fileId })),
      );
    }
    for (const id of present) {
      if (!wanted.has(id)) await vectorStores.detachFile(gpt.workspaceId, store.id, id).catch(ignoreNotFound);
    }
    return store.id;
  }

  /** The backing assistant's tools and resources follow from the capabilities and knowledge. */
  function assistantTools(
    face: GptFace,
    storeId: string | null,
  ): {
    tools: AssistantTool[];
    toolResources: ToolResources;
  } {
    const tools: AssistantTool[] = [];
    if (storeId) tools.push({ type: 'file_search' });
    if (face.capabilities.codeInterpreter) tools.push({ type: 'code_interpreter' });
    // Browsing and image generation become tools when the server offers them (gpts-chat.ts);
    // actions become function tools through the actions module.
    return { tools, toolResources: storeId ? { fileSearch: { vectorStoreIds: [storeId] } } : {} };
  }

  async function checkDraft(workspaceId: string, changes: GptDraftChanges): Promise<void> {
    if (changes.model !== undefined) checkModel(changes.model);
    if (changes.avatarFileId) await checkFiles(workspaceId, [changes.avatarFileId], 'avatar_file_id');
    if (changes.knowledgeFileIds) {
      const unique = new Set(changes.knowledgeFileIds);
      if (unique.size !== changes.knowledgeFileIds.length) {
        throw new InvalidRequestError('A knowledge file is listed twice.', { param: 'knowledge_file_ids' });
      }
      await checkFiles(workspaceId, changes.knowledgeFileIds, 'knowledge_file_ids');
    }
    if (changes.actionIds && actions) {
      for (const [index, actionId] of changes.actionIds.entries()) {
        await actions.get({ workspaceId, actionId }).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
          throw new InvalidRequestError(`No action with id '${actionId}' in this GPT's workspace.`, {
            param: `action_ids[${index}]`,
            code: 'action_not_found',
          });
        });
      }
    }
  }

  /** Beyond "only me", every action needs a privacy policy URL (400 privacy_policy_required). */
  async function checkShareable(
    workspaceId: string,
    visibility: GptVisibility,
    actionIds: readonly string[],
  ): Promise<void> {
    if (!actions || visibility === 'private' || actionIds.length === 0) return;
    const found = [];
    for (const actionId of new Set(actionIds)) {
      // A deleted action offers no tools any more: it cannot keep the GPT private.
      const action = await actions.get({ workspaceId, actionId }).catch(ignoreNotFound);
      if (action) found.push(action);
    }
    actions.assertShareable(found);
  }

  function faceChanges(changes: GptDraftChanges, current: GptCapabilitySet): Partial<GptFace> {
    return {
      name: changes.name?.trim(),
      description: changes.description,
      avatarFileId: changes.avatarFileId,
      conversationStarters: changes.conversationStarters,
      capabilities: changes.capabilities ? { ...current, ...definedOnly(changes.capabilities) } : undefined,
      knowledgeFileIds: changes.knowledgeFileIds ? [...changes.knowledgeFileIds] : undefined,
      actionIds: changes.actionIds ? [...new Set(changes.actionIds)] : undefined,
    };
  }

  function toModel(target: Pick<GptChatTarget, 'gpt' | 'version' | 'config'>, draft: boolean): GptModel {
    return {
      gptId: target.gpt.id,
      draft,
      name: target.config.name,
      description: target.config.description,
      builderName: target.gpt.builderName,
      createdAt: target.gpt.createdAt,
      version: target.version,
      capabilities: models.find(target.config.model)?.capabilities ?? null,
    };
  }

  /** The chat target behind a model name, or null (the rule is chat's, or edit's for `:draft`). */
  async function chatTarget(viewer: GptViewer, gptId: string, draft: boolean): Promise<GptChatTarget | null> {
    const gpt = await repositories.gpts.find(gptId);
    if (!gpt) return null;
    const { access } = await see(gpt, viewer);
    if (draft) {
      if (!access.edit) return null;
      return {
        gpt,
        version: null,
        config: gpt.draft,
        knowledge: {
          workspaceId: gpt.workspaceId,
          vectorStoreIds: knowledgeStores(gpt.draft.toolResources),
        },
        allowTraining: gpt.allowTraining,
      };
    }
    if (!access.chat) return null;
    // Users get the latest published version; a builder who never published gets the draft.
    const version = gpt.published;
    const config = version?.config ?? gpt.draft;
    return {
      gpt,
      version: version?.version ?? null,
      config,
      knowledge: { workspaceId: gpt.workspaceId, vectorStoreIds: knowledgeStores(config.toolResources) },
      allowTraining: gpt.allowTraining,
    };
  }

  return {
    async viewer({ accountId, workspaceId }) {
      const workspaceIds = new Set<string>(workspaceId ? [workspaceId] : []);
      if (accountId) {
        for (const membership of await repositories.workspaces.listForAccount(accountId)) {
          workspaceIds.add(membership.workspace.id);
        }
      }
      return { accountId, workspaceIds, signedIn: true };
    },

    async create({ viewer, workspaceId, draft, sharing }) {
      if (!viewer.signedIn || viewer.accountId === null) {
        throw new PermissionDeniedError('Sign in to build a GPT.', { code: 'not_signed_in' });
      }
      const memberships = await repositories.workspaces.listForAccount(viewer.accountId);
      if (!memberships.some((membership) => membership.workspace.id === workspaceId)) {
        throw new NotFoundError(`No workspace with id '${workspaceId}' that you belong to.`, {
          param: 'workspace_id',
        });
      }
      await checkDraft(workspaceId, draft);
      await checkShareable(workspaceId, sharing.visibility ?? 'private', draft.actionIds ?? []);
      const id = newGptId();
      const face: GptFace = {
        name: '',
        description: '',
        avatarFileId: null,
        conversationStarters: [],
        capabilities: NO_CAPABILITIES,
        knowledgeFileIds: [],
        actionIds: [],
        ...definedOnly(faceChanges(draft, NO_CAPABILITIES)),
      };
      const link = newLink(id);
      const created = await repositories.gpts.create({
        id,
        workspaceId,
        builderAccountId: viewer.accountId,
        face,
        assistant: {
          instructions: draft.instructions ?? '',
          model: draft.model ?? defaultModel(),
          ...assistantTools(face, null),
          temperature: null,
          topP: null,
          responseFormat: 'auto',
        },
        visibility: sharing.visibility ?? 'private',
        category: sharing.category ?? null,
        allowTraining: sharing.allowTraining ?? false,
        linkTokenHash: link.hash,
        linkTokenSealed: link.sealed,
      });
      let gpt = created;
      if (face.knowledgeFileIds.length > 0) {
        const storeId = await syncKnowledge(created, 'draft', face.knowledgeFileIds, null);
        gpt =
          (await repositories.gpts.updateDraft(id, {
            assistant: assistantTools(face, storeId),
            draftVectorStoreId: storeId,
          })) ?? created;
      }
      return see(gpt, viewer);
    },

    get: ({ viewer, gptId }) => visible(viewer, gptId),

    async getByLinkToken({ viewer, token }) {
      const gone = new NotFoundError('No GPT is shared at this link.', { param: 'token' });
      if (!/^[0-9A-Za-z]{16,64}$/.test(token)) throw gone;
      const gpt = await repositories.gpts.findByLinkTokenHash(hashToken(token));
      if (!gpt) throw gone;
      // The link opens `link` and `public` GPTs; the others stay as private as they are.
      const viaLink = gpt.visibility === 'link' || gpt.visibility === 'public';
      const seen = await see(gpt, viewer, { viaLink });
      if (!seen.access.view) throw gone;
      if (gpt.visibility === 'link' && seen.role !== 'builder' && viewer.accountId !== null) {
        await repositories.gpts.addLinkGrant(gpt.id, viewer.accountId);
      }
      return seen;
    },

    async list({ viewer, scope, limit, after = undefined }) {
      let page: Awaited<ReturnType<Repositories['gpts']['listForBuilder']>>;
      if (scope === 'mine') {
        if (viewer.accountId === null) return { data: [], hasMore: false };
        page = await repositories.gpts.listForBuilder({ builderAccountId: viewer.accountId, limit, after });
      } else if (scope === 'workspace') {
        page = await repositories.gpts.listShared({
          scope: 'workspace',
          workspaceIds: [...viewer.workspaceIds],
          limit,
          after,
        });
      } else {
        page = await repositories.gpts.listShared({ scope: 'public', limit, after });
      }
      const data: GptSeen[] = [];
      for (const gpt of page.data) {
        const seen = await see(gpt, viewer);
        if (seen.access.view) data.push(seen);
      }
      return { data, hasMore: page.hasMore };
    },

    async updateDraft({ viewer, gptId, changes }) {
      const { gpt } = await editable(viewer, gptId);
      await checkDraft(gpt.workspaceId, changes);
      if (changes.actionIds) await checkShareable(gpt.workspaceId, gpt.visibility, changes.actionIds);
      const face = { ...gpt.draft, ...definedOnly(faceChanges(changes, gpt.draft.capabilities)) };
      const storeId =
        changes.knowledgeFileIds !== undefined
          ? await syncKnowledge(gpt, 'draft', face.knowledgeFileIds, gpt.draftVectorStoreId)
          : gpt.draftVectorStoreId;
      const updated = await repositories.gpts.updateDraft(gptId, {
        face,
        assistant: {
          instructions: changes.instructions,
          model: changes.model,
          ...assistantTools(face, storeId),
        },
        draftVectorStoreId: storeId,
      });
      if (!updated) throw notFound(gptId);
      return see(updated, viewer);
    },

    async updateSharing({ viewer, gptId, changes }) {
      const { gpt } = await editable(viewer, gptId);
      if (changes.visibility) {
        await checkShareable(gpt.workspaceId, changes.visibility, [
          ...gpt.draft.actionIds,
          ...(gpt.published?.config.actionIds ?? []),
        ]);
      }
      const updated = await repositories.gpts.updateSharing(gptId, {
        visibility: changes.visibility,
        category: changes.category,
        allowTraining: changes.allowTraining,
      });
      if (!updated) throw notFound(gptId);
      return see(updated, viewer);
    },

    async rotateLink({ viewer, gptId }) {
      await editable(viewer, gptId);
      const link = newLink(gptId);
      const updated = await repositories.gpts.updateSharing(gptId, {
        link: { hash: link.hash, sealed: link.sealed },
      });
      if (!updated) throw notFound(gptId);
      return see(updated, viewer);
    },

    async publish({ viewer, gptId }) {
      const { gpt } = await editable(viewer, gptId);
      const draft = gpt.draft;
      if (draft.name.trim() === '') {
        throw new InvalidRequestError('Give the GPT a name before publishing it.', {
          param: 'name',
          code: 'gpt_name_required',
        });
      }
      checkModel(draft.model);
      await checkFiles(gpt.workspaceId, draft.knowledgeFileIds, 'knowledge_file_ids');
      await checkShareable(gpt.workspaceId, gpt.visibility, draft.actionIds);
      const storeId = await syncKnowledge(
        gpt,
        'published',
        draft.knowledgeFileIds,
        gpt.publishedVectorStoreId,
      );
      const config: GptConfig = { ...draft, ...assistantTools(draft, storeId) };
      const published = await repositories.gpts.publish({
        id: gptId,
        config,
        publishedBy: viewer.accountId,
        publishedVectorStoreId: storeId,
      });
      if (!published) throw notFound(gptId);
      return see(published, viewer);
    },

    async versions({ viewer, gptId }) {
      await editable(viewer, gptId);
      return repositories.gpts.versions(gptId);
    },

    async delete({ viewer, gptId }) {
      const { gpt } = await editable(viewer, gptId);
      for (const storeId of [gpt.draftVectorStoreId, gpt.publishedVectorStoreId]) {
        if (storeId) await vectorStores.delete(gpt.workspaceId, storeId).catch(ignoreNotFound);
      }
      await repositories.gpts.delete(gptId);
    },

    async avatar({ viewer, gptId }) {
      const seen = await visible(viewer, gptId);
      const face = seen.access.edit ? seen.gpt.draft : (seen.gpt.published?.config ?? seen.gpt.draft);
      if (!face.avatarFileId) throw new NotFoundError('This GPT has no avatar.', { param: 'gpt_id' });
      return files.content(seen.gpt.workspaceId, face.avatarFileId);
    },

    chatTarget: ({ viewer, gptId, draft }) => chatTarget(viewer, gptId, draft),

    async chatModels({ viewer }) {
      if (!viewer.signedIn) return [];
      const reachable = await repositories.gpts.listReachable({
        accountId: viewer.accountId,
        workspaceIds: [...viewer.workspaceIds],
      });
      const listed: GptModel[] = [];
      for (const gpt of reachable) {
        const access = gptPermissions({
          visibility: gpt.visibility,
          role: gptRole(gpt, viewer),
          // The repository returns a `link` GPT only to its builder or to whoever opened its link.
          hasLink: gpt.visibility === 'link',
          published: gpt.published !== null,
        });
        if (!access.chat) continue;
        const version = gpt.published;
        listed.push(
          toModel({ gpt, version: version?.version ?? null, config: version?.config ?? gpt.draft }, false),
        );
      }
      return listed;
    },

    async chatModel({ viewer, gptId, draft }) {
      const target = await chatTarget(viewer, gptId, draft);
      return target ? toModel(target, draft) : null;
    },

    async builderChat({ viewer, gptId }) {
      await editable(viewer, gptId);
      return repositories.gpts.builderChat(gptId);
    },

    async saveBuilderChat({ viewer, gptId, messages }) {
      await editable(viewer, gptId);
      const characters = messages.reduce((sum, message) => sum + builderMessageLength(message), 0);
      if (characters > GPT_BUILDER_CHAT_LIMITS.total) {
        throw new InvalidRequestError(
          `The builder conversation is too long to keep (${characters} characters; at most ${GPT_BUILDER_CHAT_LIMITS.total}): send fewer of its oldest messages.`,
          { param: 'messages', code: 'builder_chat_too_long' },
        );
      }
      const saved = await repositories.gpts.saveBuilderChat({ gptId, messages });
      if (!saved) throw notFound(gptId);
      return saved;
    },

    recordConversation({ target, conversation, accountId, workspaceId }) {
      return repositories.gpts.recordConversation({
        gptId: target.gpt.id,
        conversation,
        accountId,
        workspaceId,
        version: target.version,
        allowTraining: target.allowTraining,
      });
    },
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function builderMessageLength(message: GptBuilderChatMessage): number {
  switch (message.role) {
    case 'user':
      return message.content.length;
    case 'assistant':
      return (
        (message.content?.length ?? 0) +
        message.toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0)
      );
    case 'tool':
      return message.content.length + message.changes.reduce((sum, change) => sum + change.value.length, 0);
  }
}

function knowledgeStores(resources: ToolResources): string[] {
  return [...(resources.fileSearch?.vectorStoreIds ?? [])];
}

function ignoreNotFound(error: unknown): undefined {
  if (!(error instanceof NotFoundError)) throw error;
  return undefined;
}

function definedOnly<Value extends object>(value: Value): Partial<Value> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<Value>;
}
