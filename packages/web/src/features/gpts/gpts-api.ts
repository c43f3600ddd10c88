// What the GPT pages ask of the server: the builder's API under /api/gpts (docs/architecture/
// gpts.md), files and models from /v1, all signed in by the session cookie + CSRF header. The
// shapes mirror the server's `gpt` (the builder's view) and `gpt.view` (a user's: never the
// instructions, model, knowledge or actions).
import { api, authHeaders, SIGNED_OUT_EVENT, toApiError } from '../../api/http';
import type { ListPage, Model } from '../../api/types';
import type { GptIntro } from '../chat/chat-api';
import type { ChangedField } from './builder-tools';
import type { ToolCall } from './chat-completions';

export type GptVisibility = 'private' | 'link' | 'workspace' | 'public';
export const GPT_VISIBILITIES: readonly GptVisibility[] = ['private', 'link', 'workspace', 'public'];

/** The server's limits (packages/protocol/src/gpts.ts), checked here before a save fails. */
export const GPT_LIMITS = {
  name: 128,
  description: 512,
  instructions: 32_000,
  conversationStarters: 10,
  conversationStarter: 512,
  knowledgeFiles: 20,
  actions: 20,
  category: 64,
} as const;

export interface GptCapabilities {
  readonly browsing: boolean;
  readonly image_generation: boolean;
  readonly code_interpreter: boolean;
}

export type CapabilityName = keyof GptCapabilities;

export interface GptConfig {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly model: string;
  readonly avatar_file_id: string | null;
  readonly conversation_starters: readonly string[];
  readonly capabilities: GptCapabilities;
  readonly knowledge_file_ids: readonly string[];
  readonly action_ids: readonly string[];
}

export interface GptPermissions {
  readonly view: boolean;
  readonly chat: boolean;
  readonly edit: boolean;
  readonly see_instructions: boolean;
}

/** A GPT as its builder sees it. */
export interface Gpt {
  readonly id: string;
  readonly object: 'gpt';
  readonly workspace_id: string;
  readonly builder: { readonly id: string; readonly name: string };
  readonly created_at: number;
  readonly updated_at: number;
  readonly visibility: GptVisibility;
  readonly category: string | null;
  readonly allow_training: boolean;
  readonly link_token: string;
  /** Its name as a chat-completions model: `gpt-<id>`. */
  readonly model: string;
  readonly draft: GptConfig & { readonly updated_at: number };
  readonly published: (GptConfig & { readonly version: number; readonly published_at: number }) | null;
  readonly has_unpublished_changes: boolean;
  readonly usage: { readonly conversations: number; readonly users: number };
  readonly permissions: GptPermissions;
}

/** A GPT as its users see it: the latest published version's face. */
export interface GptView {
  readonly id: string;
  readonly object: 'gpt.view';
  readonly name: string;
  readonly description: string;
  readonly avatar_file_id: string | null;
  readonly conversation_starters: readonly string[];
  readonly capabilities: GptCapabilities;
  readonly category: string | null;
  readonly visibility: GptVisibility;
  readonly builder: { readonly name: string };
  readonly version: number | null;
  readonly published_at: number | null;
  readonly model: string;
  readonly permissions: GptPermissions;
}

/** What a GPT shows to whoever looks at it (a card, the top of its chat). */
export interface GptFace {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly avatarFileId: string | null;
  readonly starters: readonly string[];
  readonly builderName: string;
  readonly model: string;
  readonly capabilities: GptCapabilities;
  readonly canChat: boolean;
  readonly canEdit: boolean;
}

/** The face users get: the published version's, or the draft's while nothing is published. */
export function faceOf(gpt: Gpt | GptView): GptFace {
  if (gpt.object === 'gpt.view') {
    return {
      id: gpt.id,
      name: gpt.name,
      description: gpt.description,
      avatarFileId: gpt.avatar_file_id,
      starters: gpt.conversation_starters,
      builderName: gpt.builder.name,
      model: gpt.model,
      capabilities: gpt.capabilities,
      canChat: gpt.permissions.chat,
      canEdit: gpt.permissions.edit,
    };
  }
  const config = gpt.published ?? gpt.draft;
  return {
    id: gpt.id,
    name: config.name,
    description: config.description,
    // The avatar route gives the builder the draft's avatar.
    avatarFileId: gpt.draft.avatar_file_id,
    starters: config.conversation_starters,
    builderName: gpt.builder.name,
    model: gpt.model,
    capabilities: config.capabilities,
    canChat: gpt.permissions.chat,
    canEdit: gpt.permissions.edit,
  };
}

/** The draft fields the builder edits (any subset is a PATCH). */
export interface DraftChanges {
  name?: string;
  description?: string;
  instructions?: string;
  model?: string;
  avatar_file_id?: string | null;
  conversation_starters?: readonly string[];
  capabilities?: Partial<GptCapabilities>;
  knowledge_file_ids?: readonly string[];
  action_ids?: readonly string[];
}

export interface SharingChanges {
  visibility?: GptVisibility;
  category?: string | null;
  allow_training?: boolean;
}

export type GptScope = 'mine' | 'workspace' | 'public';

const gptPath = (gptId: string, ...rest: readonly string[]) =>
  ['/api/gpts', ...[gptId, ...rest].map(encodeURIComponent)].join('/');

export interface GptPage<Item> {
  readonly data: readonly Item[];
  readonly has_more: boolean;
  readonly last_id: string | null;
}

export function listGpts(scope: 'mine', after?: string): Promise<GptPage<Gpt>>;
export function listGpts(scope: GptScope, after?: string): Promise<GptPage<Gpt | GptView>>;
export function listGpts(scope: GptScope, after?: string): Promise<GptPage<Gpt | GptView>> {
  const query = new URLSearchParams({ scope, limit: '50' });
  if (after) query.set('after', after);
  return api(`/api/gpts?${query}`);
}

export const getGpt = (gptId: string) => api<Gpt | GptView>(gptPath(gptId));

export const getSharedGpt = (token: string) =>
  api<Gpt | GptView>(`/api/gpts/shared/${encodeURIComponent(token)}`);

/** A GPT's page (`/g/<id>` or its share link), as a new chat with it shows it. */
export async function getGptIntro({
  gptId,
  linkToken,
}: {
  gptId: string | null;
  linkToken: string | null;
}): Promise<GptIntro> {
  const face = faceOf(await (linkToken ? getSharedGpt(linkToken) : getGpt(gptId ?? '')));
  return {
    id: face.id,
    name: face.name,
    avatarUrl: face.avatarFileId ? avatarUrl(face.id, face.avatarFileId) : null,
    available: face.canChat,
    description: face.description,
    builderName: face.builderName,
    starters: face.starters,
    canEdit: face.canEdit,
  };
}

/**
 * What a chat with the GPT may carry besides documents (which its file search reads): images when
 * the model it runs on can see (its `/v1/models` entry says so, never naming that model), data
 * files when it has the code interpreter.
 */
export async function getGptAttachments(
  gptId: string,
): Promise<{ images: boolean; codeInterpreter: boolean }> {
  const [gpt, model] = await Promise.all([
    getGpt(gptId),
    api<{ atelier?: { capabilities?: { vision?: boolean } } }>(`/v1/models/gpt-${encodeURIComponent(gptId)}`),
  ]);
  return {
    images: model.atelier?.capabilities?.vision === true,
    codeInterpreter: faceOf(gpt).capabilities.code_interpreter,
  };
}

export const createGpt = (changes: DraftChanges) => api<Gpt>('/api/gpts', { method: 'POST', body: changes });

export const updateDraft = (gptId: string, changes: DraftChanges) =>
  api<Gpt>(gptPath(gptId), { method: 'PATCH', body: changes });

export const updateSharing = (gptId: string, changes: SharingChanges) =>
  api<Gpt>(gptPath(gptId, 'sharing'), { method: 'PATCH', body: changes });

export const publishGpt = (gptId: string) => api<Gpt>(gptPath(gptId, 'publish'), { method: 'POST' });

export const newShareLink = (gptId: string) => api<Gpt>(gptPath(gptId, 'link'), { method: 'POST' });

export const deleteGpt = (gptId: string) => api<{ deleted: boolean }>(gptPath(gptId), { method: 'DELETE' });

/** One message of the builder's Create conversation, as the builder assistant saw it. */
export type BuilderChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string | null; readonly tool_calls?: readonly ToolCall[] }
  | {
      readonly role: 'tool';
      readonly tool_call_id: string;
      readonly content: string;
      /** What the call changed, as the page showed it. */
      readonly changes?: readonly { readonly field: ChangedField; readonly value: string }[];
    };

/** The builder's Create conversation, kept with the draft (only its builders read it). */
export interface BuilderChat {
  readonly object: 'gpt.builder_chat';
  readonly gpt_id: string;
  readonly messages: readonly BuilderChatMessage[];
  readonly updated_at: number | null;
}

export const getBuilderChat = (gptId: string) => api<BuilderChat>(gptPath(gptId, 'builder-chat'));

/** Replaces the kept conversation with `messages`. */
export const saveBuilderChat = (gptId: string, messages: readonly BuilderChatMessage[]) =>
  api<BuilderChat>(gptPath(gptId, 'builder-chat'), { method: 'PUT', body: { messages } });

/** The avatar's address; the file id in the query makes a new avatar a new URL. */
export const avatarUrl = (gptId: string, avatarFileId: string) =>
  `${gptPath(gptId, 'avatar')}?v=${encodeURIComponent(avatarFileId)}`;

/** The address that opens a GPT for whoever has it (`link` GPTs need it). */
export const shareLinkUrl = (token: string) =>
  `${window.location.origin}/g/shared/${encodeURIComponent(token)}`;

export interface FileInfo {
  readonly id: string;
  readonly filename: string;
  readonly bytes: number;
}

/** Uploads into the session's workspace (the GPT's, for GPTs made in the web app). */
export async function uploadFile(file: File, purpose: 'assistants' | 'vision'): Promise<FileInfo> {
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', file, file.name || 'upload');
  const response = await fetch('/v1/files', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...authHeaders() },
    body: form,
  });
  if (!response.ok) {
    const error = await toApiError(response);
    if (error.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw error;
  }
  const uploaded = (await response.json()) as FileInfo;
  return { id: uploaded.id, filename: uploaded.filename, bytes: uploaded.bytes };
}

export const getFile = (fileId: string) => api<FileInfo>(`/v1/files/${encodeURIComponent(fileId)}`);

export interface ModelChoice {
  readonly id: string;
  readonly tools: boolean;
}

export interface ModelCatalog {
  readonly chat: readonly ModelChoice[];
  /** Some model makes images: the image generation capability can work. */
  readonly imageModel: boolean;
}

/** What `/v1/models` offers a GPT: chat models, and whether any model draws images. */
export async function loadModelCatalog(): Promise<ModelCatalog> {
  const page = await api<ListPage<Model>>('/v1/models');
  return modelCatalog(page.data);
}

/** `/v1/models` lists the GPTs one may chat with too (`gpt-g-…`): they are not models to build on. */
export function isGptModel(model: Model): boolean {
  return model.atelier?.provider === 'gpt' || /^gpt-g-/.test(model.id);
}

export function modelCatalog(models: readonly Model[]): ModelCatalog {
  const capabilities = (model: Model) =>
    (model.atelier?.capabilities ?? {}) as Readonly<Record<string, boolean | undefined>>;
  return {
    chat: models
      // A GPT runs on a real model, never on another GPT.
      .filter((model) => capabilities(model)['chat'] !== false && !isGptModel(model))
      .map((model) => ({ id: model.id, tools: capabilities(model)['tools'] !== false })),
    // The registry names image models by an `images` (or `image_generation`) capability; none
    // of today's providers has one, so the capability stays off until one is configured.
    imageModel: models.some(
      (model) => capabilities(model)['images'] === true || capabilities(model)['image_generation'] === true,
    ),
  };
}
