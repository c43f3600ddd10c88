// The shapes /api sends (snake_case, as the server writes them in http/to-wire-*.ts), and the
// parts of /v1 the app reads.

export type Theme = 'system' | 'light' | 'dark';
export type WorkspaceRole = 'owner' | 'admin' | 'member';

export interface Account {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly created_at: number;
}

export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly kind: 'personal' | 'team';
  readonly role: WorkspaceRole;
  readonly created_at: number;
}

export interface Preferences {
  readonly about_me: string;
  readonly response_style: string;
  readonly custom_instructions_enabled: boolean;
  readonly theme: Theme;
  readonly language: string | null;
  /** Off: new chats are temporary (not listed, never used for training, deleted after 30 days). */
  readonly chat_history_enabled: boolean;
}

export interface SignedInSession {
  readonly authenticated: true;
  readonly account: Account;
  readonly workspaces: readonly Workspace[];
  readonly workspace_id: string;
  readonly preferences: Preferences;
  readonly csrf_token: string;
  /** The built-in tools this server has: what files a message can carry. */
  readonly capabilities?: { readonly file_search: boolean; readonly code_interpreter: boolean };
}

export interface SignedOutSession {
  readonly authenticated: false;
  readonly sign_up_open: boolean;
  /** Nobody has an account yet: whoever signs up owns this server. */
  readonly first_person: boolean;
}

export type SessionState = SignedInSession | SignedOutSession;

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly redacted_value: string;
  readonly role: 'admin' | 'member';
  readonly account_id: string | null;
  readonly created_at: number;
  readonly last_used_at: number | null;
  readonly revoked_at: number | null;
}

export interface ListPage<Item> {
  readonly data: readonly Item[];
  readonly has_more?: boolean;
  readonly last_id?: string | null;
}

export interface Model {
  readonly id: string;
  readonly owned_by: string;
  readonly atelier?: {
    readonly provider?: string;
    readonly context_length?: number;
    readonly capabilities?: {
      readonly chat?: boolean;
      readonly embeddings?: boolean;
      readonly vision?: boolean;
      readonly tools?: boolean;
    };
    readonly notice?: string;
  };
}
