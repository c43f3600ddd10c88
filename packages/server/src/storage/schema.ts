// The database's tables as Kysely sees them: snake_case columns, exactly as migrations create them.
// Repositories convert rows to camelCase domain objects; nothing outside storage/ uses these types.

import type { AccountsSessionsSchema } from './accounts-sessions-schema.js';
import type { ActionsSchema } from './actions-schema.js';
import type { AssistantsSchema } from './assistants-schema.js';
import type { FilesVectorStoresSchema } from './files-vector-stores-schema.js';
import type { GptsSchema } from './gpts-schema.js';
import type { ModelRegistrySchema } from './model-registry-schema.js';
import type { ModelUsageSchema } from './model-usage-schema.js';

/** Unix seconds, as OpenAI's `created_at`. INTEGER on SQLite, BIGINT on Postgres (read as a number). */
export type UnixSeconds = number;

export interface AccountsTable {
  readonly id: string;
  /** Lower-cased by the repository; unique when present. */
  readonly email: string | null;
  readonly name: string;
  readonly password_hash: string | null;
  readonly created_at: UnixSeconds;
}

export interface WorkspacesTable {
  readonly id: string;
  readonly name: string;
  readonly kind: 'personal' | 'team';
  readonly created_at: UnixSeconds;
}

export interface WorkspaceMembersTable {
  readonly workspace_id: string;
  readonly account_id: string;
  readonly role: 'owner' | 'admin' | 'member';
  readonly created_at: UnixSeconds;
}

export interface ApiKeysTable {
  readonly id: string;
  readonly workspace_id: string;
  readonly account_id: string | null;
  readonly name: string;
  /** SHA-256 of the secret, lower-case hex. The secret itself is never stored. */
  readonly secret_hash: string;
  /** For display only, e.g. `sk-at…Ab12`. */
  readonly redacted_value: string;
  readonly role: 'admin' | 'member';
  readonly created_at: UnixSeconds;
  readonly last_used_at: UnixSeconds | null;
  readonly revoked_at: UnixSeconds | null;
}

export interface DatabaseSchema
  extends AssistantsSchema,
    ModelRegistrySchema,
    AccountsSessionsSchema,
    FilesVectorStoresSchema,
    GptsSchema,
    ActionsSchema,
    ModelUsageSchema {
  readonly accounts: AccountsTable;
  readonly workspaces: WorkspacesTable;
  readonly workspace_members: WorkspaceMembersTable;
  readonly api_keys: ApiKeysTable;
}
