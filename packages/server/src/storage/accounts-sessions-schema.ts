// The web app's tables (migrations 005 and 008) as Kysely sees them; `DatabaseSchema` extends this.
// Booleans are 0/1 integers and JSON values TEXT, the same on both dialects.

import type { UnixSeconds } from './schema.js';

export interface SessionsTable {
  readonly id: string;
  readonly account_id: string;
  /** The workspace that `/v1` requests made with this session act in. */
  readonly workspace_id: string;
  /** SHA-256 of the cookie's secret, lower-case hex. The secret itself is never stored. */
  readonly token_hash: string;
  readonly created_at: UnixSeconds;
  readonly last_seen_at: UnixSeconds;
  readonly expires_at: UnixSeconds;
  /** For a future "where you are signed in" list; truncated. */
  readonly user_agent: string | null;
}

export interface AccountPreferencesTable {
  readonly account_id: string;
  /** Custom instructions: what the model should know about the person. */
  readonly about_me: string;
  /** Custom instructions: how the model should respond. */
  readonly response_style: string;
  readonly custom_instructions_enabled: number;
  readonly theme: 'system' | 'light' | 'dark';
  /** null: follow the browser's language. */
  readonly language: string | null;
  /** 0: "chat history & training" off, new chats are temporary (migration 008). */
  readonly chat_history_enabled: number;
  readonly updated_at: UnixSeconds;
}

export interface ChatsTable {
  readonly id: string;
  readonly account_id: string;
  readonly title: string;
  /** 1: "temporary chat": never listed, never used for training, deleted 30 days after creation. */
  readonly temporary: number;
  readonly model: string | null;
  /** JSON array of message nodes (a tree: each names its parent, so branches are kept). */
  readonly messages: string;
  /** The leaf of the branch on screen, or null for an empty chat. */
  readonly current_node_id: string | null;
  /** The messages' text, one per line, for search (the JSON would also match its own keys). */
  readonly content_text: string;
  readonly created_at: UnixSeconds;
  readonly updated_at: UnixSeconds;
  /** Orders history by last change, finer than a second (see sortable-id.ts). */
  readonly updated_seq: number;
  /** The workspace of the chat's threads (migration 008); null until it has one. */
  readonly workspace_id: string | null;
  /** The assistant its runs use; null until the first run. */
  readonly assistant_id: string | null;
}

/** Each workspace's assistant for plain web chats (the model is chosen per answer). */
export interface WebChatAssistantsTable {
  readonly workspace_id: string;
  readonly assistant_id: string;
  readonly created_at: UnixSeconds;
}

export interface AccountsSessionsSchema {
  readonly sessions: SessionsTable;
  readonly account_preferences: AccountPreferencesTable;
  readonly chats: ChatsTable;
  readonly web_chat_assistants: WebChatAssistantsTable;
}
