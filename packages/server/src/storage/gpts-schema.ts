// The GPTs tables (migrations 006 and 009-gpt-builder-chat) as Kysely sees them; `DatabaseSchema` extends this. A GPT is an
// assistant (its draft's instructions, model and tools live in the backing `assistants` row) with
// a face, sharing settings and published versions. JSON values are TEXT, booleans 0/1 integers.

import type { UnixSeconds } from './schema.js';

export interface GptsTable {
  readonly id: string;
  /** The workspace that owns it (its backing assistant, knowledge and `workspace` audience). */
  readonly workspace_id: string;
  readonly builder_account_id: string;
  /** The backing assistant: the draft's instructions, model, tools and tool resources. */
  readonly assistant_id: string;
  // The draft's face.
  readonly name: string;
  readonly description: string;
  readonly avatar_file_id: string | null;
  /** JSON array of strings. */
  readonly conversation_starters: string;
  /** JSON {browsing, image_generation, code_interpreter}. */
  readonly capabilities: string;
  /** JSON array of file ids. */
  readonly knowledge_file_ids: string;
  /** JSON array of action ids (the actions module keeps the actions). */
  readonly action_ids: string;
  /** Indexes the draft's knowledge (the builder's preview searches it). */
  readonly draft_vector_store_id: string | null;
  /** Indexes the latest published version's knowledge (users' chats search it). */
  readonly published_vector_store_id: string | null;
  // Sharing: not versioned, applies at once.
  readonly visibility: 'private' | 'link' | 'workspace' | 'public';
  readonly category: string | null;
  readonly allow_training: number;
  /** SHA-256 of the share link's token, lower-case hex: how a link finds its GPT. */
  readonly link_token_hash: string;
  /** The token itself, sealed (SecretBox bound to the GPT's id), so the builder can see the link again. */
  readonly link_token_sealed: string;
  readonly created_at: UnixSeconds;
  /** Last change to the draft or the settings. */
  readonly updated_at: UnixSeconds;
  readonly seq: number;
  readonly published_version: number | null;
  readonly published_at: UnixSeconds | null;
}

/** Each published version, frozen: what users of the GPT get while it is the latest. */
export interface GptVersionsTable {
  readonly gpt_id: string;
  readonly version: number;
  /** JSON snapshot of the face and the assistant's configuration. */
  readonly config: string;
  readonly published_at: UnixSeconds;
  readonly published_by: string | null;
}

/** People who opened a `link` GPT through its link: they may chat with it until the link changes. */
export interface GptLinkGrantsTable {
  readonly gpt_id: string;
  readonly account_id: string;
  readonly created_at: UnixSeconds;
}

/**
 * Conversations with a GPT (a web chat or an Assistants thread), with the builder's
 * `allow_training` choice in effect when each started. Counted for the builder; never shown.
 */
export interface GptConversationsTable {
  readonly gpt_id: string;
  /** The chat's or the thread's id. */
  readonly conversation_id: string;
  /** One of these two is set: the conversation goes, and this row with it. */
  readonly chat_id: string | null;
  readonly thread_id: string | null;
  readonly account_id: string | null;
  readonly workspace_id: string;
  /** The version in effect when it started; null for the builder's draft preview. */
  readonly version: number | null;
  readonly allow_training: number;
  readonly created_at: UnixSeconds;
}

/**
 * The builder's Create conversation (migration 009-gpt-builder-chat): one per GPT, kept with its
 * draft for its builder, gone with the GPT.
 */
export interface GptBuilderChatsTable {
  readonly gpt_id: string;
  /** JSON array of the conversation's messages, oldest first. */
  readonly messages: string;
  readonly updated_at: UnixSeconds;
}

export interface GptsSchema {
  readonly gpts: GptsTable;
  readonly gpt_builder_chats: GptBuilderChatsTable;
  readonly gpt_versions: GptVersionsTable;
  readonly gpt_link_grants: GptLinkGrantsTable;
  readonly gpt_conversations: GptConversationsTable;
}
