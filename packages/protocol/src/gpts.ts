// GPTs on the wire: the web app's `/api/gpts` requests and objects, and the names a GPT goes by in
// the OpenAI-compatible API (`model: "gpt-<id>"` in chat completions, its id as `assistant_id`).
import { z } from 'zod';
import { randomBase62 } from './ids.js';

/** GPT ids look like ChatGPT's: `g-` and 24 base62 characters. */
export const GPT_ID_PREFIX = 'g-';
/** The model name of a GPT in chat completions is this prefix followed by its id. */
export const GPT_MODEL_PREFIX = 'gpt-';
/** Appended to a GPT's model name or id: its draft, for its builder's preview. */
export const GPT_DRAFT_SUFFIX = ':draft';

const GPT_ID_PATTERN = /^g-[0-9A-Za-z]{24}$/;

export function newGptId(): string {
  return GPT_ID_PREFIX + randomBase62(24);
}

export function isGptId(id: string): boolean {
  return GPT_ID_PATTERN.test(id);
}

/** The model name clients use for a GPT (its published version). */
export function gptModelName(gptId: string): string {
  return `${GPT_MODEL_PREFIX}${gptId}`;
}

export interface GptReference {
  readonly gptId: string;
  /** `:draft` asked for the builder's draft instead of the published version. */
  readonly draft: boolean;
}

/** `gpt-g-…` or `gpt-g-…:draft` as a chat-completions model; null for any other name. */
export function parseGptModelName(model: string): GptReference | null {
  if (!model.startsWith(GPT_MODEL_PREFIX)) return null;
  return parseGptAssistantId(model.slice(GPT_MODEL_PREFIX.length));
}

/** `g-…` or `g-…:draft` as an `assistant_id`; null for any other id. */
export function parseGptAssistantId(id: string): GptReference | null {
  const draft = id.endsWith(GPT_DRAFT_SUFFIX);
  const gptId = draft ? id.slice(0, -GPT_DRAFT_SUFFIX.length) : id;
  return isGptId(gptId) ? { gptId, draft } : null;
}

export const GPT_VISIBILITIES = ['private', 'link', 'workspace', 'public'] as const;
export const GptVisibility = z.enum(GPT_VISIBILITIES);
export type GptVisibility = z.infer<typeof GptVisibility>;

export const GptCapabilities = z.strictObject({
  browsing: z.boolean(),
  image_generation: z.boolean(),
  code_interpreter: z.boolean(),
});
export type GptCapabilities = z.infer<typeof GptCapabilities>;

/** Limits on what a builder may write; the same as ChatGPT's where it has one. */
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

const FileId = z.string().min(1).max(128);

/** Draft fields: what the builder's Create and Configure tabs edit (every field optional). */
export const GptDraftParams = z.strictObject({
  name: z.string().max(GPT_LIMITS.name).optional(),
  description: z.string().max(GPT_LIMITS.description).optional(),
  instructions: z.string().max(GPT_LIMITS.instructions).optional(),
  /** The model the GPT runs on (one of `/v1/models`). */
  model: z.string().min(1).max(256).optional(),
  avatar_file_id: FileId.nullable().optional(),
  conversation_starters: z
    .array(z.string().trim().min(1).max(GPT_LIMITS.conversationStarter))
    .max(GPT_LIMITS.conversationStarters)
    .optional(),
  capabilities: GptCapabilities.partial().optional(),
  /** Files of the GPT's workspace (`/v1/files`, purpose `assistants`): its knowledge. */
  knowledge_file_ids: z.array(FileId).max(GPT_LIMITS.knowledgeFiles).optional(),
  /** Ids of actions (the actions module stores them). */
  action_ids: z.array(z.string().min(1).max(128)).max(GPT_LIMITS.actions).optional(),
});
export type GptDraftParams = z.infer<typeof GptDraftParams>;

/** Who may use the GPT and how: not versioned, applies at once. */
export const GptShareParams = z.strictObject({
  visibility: GptVisibility.optional(),
  category: z.string().trim().min(1).max(GPT_LIMITS.category).nullable().optional(),
  /** The builder's choice: may chats with this GPT be used to improve models? */
  allow_training: z.boolean().optional(),
});
export type GptShareParams = z.infer<typeof GptShareParams>;

export const GptCreateParams = z.strictObject({
  ...GptDraftParams.shape,
  ...GptShareParams.shape,
  /** A workspace the builder belongs to (default: the session's). */
  workspace_id: z.string().min(1).max(128).optional(),
});
export type GptCreateParams = z.infer<typeof GptCreateParams>;

export const GptListParams = z.strictObject({
  /** `mine`: GPTs I build; `workspace`: shared with my workspaces; `public`: shared with everyone. */
  scope: z.enum(['mine', 'workspace', 'public']).default('mine'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(128).optional(),
});
export type GptListParams = z.infer<typeof GptListParams>;

/** Limits on the builder's Create conversation kept with a draft. */
export const GPT_BUILDER_CHAT_LIMITS = {
  /** Messages kept (the page drops the oldest exchanges first). */
  messages: 200,
  /** Characters of one message's text or one call's arguments. */
  content: 64_000,
  toolCalls: 8,
  changes: 10,
  changeValue: 2_000,
  /** Characters of text and arguments in the whole conversation. */
  total: 1_000_000,
} as const;

/** The draft fields a builder tool call changes, as the Create tab lists them. */
export const GPT_BUILDER_FIELDS = [
  'name',
  'description',
  'instructions',
  'conversation_starters',
  'capabilities',
  'avatar',
] as const;

const BuilderText = z.string().max(GPT_BUILDER_CHAT_LIMITS.content);

/** One message of the builder's Create conversation: what the builder assistant saw, as chat messages. */
export const GptBuilderChatMessage = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('user'), content: BuilderText }),
  z.strictObject({
    role: z.literal('assistant'),
    content: BuilderText.nullable(),
    tool_calls: z
      .array(
        z.strictObject({
          id: z.string().min(1).max(128),
          type: z.literal('function'),
          function: z.strictObject({ name: z.string().min(1).max(64), arguments: BuilderText }),
        }),
      )
      .max(GPT_BUILDER_CHAT_LIMITS.toolCalls)
      .optional(),
  }),
  z.strictObject({
    role: z.literal('tool'),
    tool_call_id: z.string().min(1).max(128),
    content: BuilderText,
    /** What the call changed, as the page showed it. */
    changes: z
      .array(
        z.strictObject({
          field: z.enum(GPT_BUILDER_FIELDS),
          value: z.string().max(GPT_BUILDER_CHAT_LIMITS.changeValue),
        }),
      )
      .max(GPT_BUILDER_CHAT_LIMITS.changes)
      .optional(),
  }),
]);
export type GptBuilderChatMessage = z.infer<typeof GptBuilderChatMessage>;

/** `PUT /api/gpts/{id}/builder-chat`: the whole conversation, replacing the one kept. */
export const GptBuilderChatParams = z.strictObject({
  messages: z.array(GptBuilderChatMessage).max(GPT_BUILDER_CHAT_LIMITS.messages),
});
export type GptBuilderChatParams = z.infer<typeof GptBuilderChatParams>;

/** The builder's Create conversation, kept with the draft (its builder's only). */
export interface GptBuilderChat {
  object: 'gpt.builder_chat';
  gpt_id: string;
  messages: GptBuilderChatMessage[];
  /** null: nothing kept yet. */
  updated_at: number | null;
}

/** What a GPT is made of: its draft, or one published version. */
export interface GptConfig {
  name: string;
  description: string;
  instructions: string;
  model: string;
  avatar_file_id: string | null;
  conversation_starters: string[];
  capabilities: GptCapabilities;
  knowledge_file_ids: string[];
  action_ids: string[];
}

export interface GptPermissions {
  view: boolean;
  chat: boolean;
  edit: boolean;
  see_instructions: boolean;
}

/** A GPT as its builder sees it (`object: "gpt"`): draft, published version, sharing, counts. */
export interface Gpt {
  id: string;
  object: 'gpt';
  workspace_id: string;
  builder: { id: string; name: string };
  created_at: number;
  updated_at: number;
  visibility: GptVisibility;
  category: string | null;
  allow_training: boolean;
  /** The secret of the share link (`/g/<token>`); whoever has it can open a `link` GPT. */
  link_token: string;
  /** The name to use as `model` in chat completions (its id is usable as `assistant_id`). */
  model: string;
  draft: GptConfig & { updated_at: number };
  published: (GptConfig & { version: number; published_at: number }) | null;
  /** The draft differs from the latest published version (or nothing was published yet). */
  has_unpublished_changes: boolean;
  /** How it is used: builders see counts, never the chats. */
  usage: { conversations: number; users: number };
  permissions: GptPermissions;
}

/**
 * A GPT as its users see it (`object: "gpt.view"`): the face of the latest published version,
 * never its instructions, underlying model, knowledge or actions.
 */
export interface GptView {
  id: string;
  object: 'gpt.view';
  name: string;
  description: string;
  avatar_file_id: string | null;
  conversation_starters: string[];
  capabilities: GptCapabilities;
  category: string | null;
  visibility: GptVisibility;
  builder: { name: string };
  version: number | null;
  published_at: number | null;
  model: string;
  permissions: GptPermissions;
}

export interface GptVersionSummary {
  object: 'gpt.version';
  version: number;
  name: string;
  published_at: number;
  published_by: string | null;
}

export interface GptDeleted {
  id: string;
  object: 'gpt.deleted';
  deleted: true;
}
