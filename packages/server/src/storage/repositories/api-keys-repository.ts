// Workspace API keys. The secret is shown once, at creation, and only its SHA-256 is stored.
//
// Why a fast hash and not bcrypt/scrypt/argon2: slow hashes protect low-entropy secrets (passwords)
// from offline guessing. Our secrets are 48 random base62 characters (~285 bits), so guessing is
// hopeless even at SHA-256 speed, while every API request must hash the presented key: a slow
// hash would cost milliseconds of CPU per request and invite denial of service. A plain digest is
// also deterministic, which is what lets us find the key by an indexed lookup on its hash.

import { createHash, timingSafeEqual } from 'node:crypto';
import { newId, randomBase62 } from '@atelier/protocol';
import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../errors.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import { inTransaction } from '../in-transaction.js';
import type { ApiKeysTable, DatabaseSchema } from '../schema.js';

export type ApiKeyRole = 'admin' | 'member';

/** A key as anyone may see it: never the secret, never its hash. */
export interface ApiKey {
  readonly id: string;
  readonly workspaceId: string;
  /** The person the key acts for; null for a workspace (service) key. */
  readonly accountId: string | null;
  readonly name: string;
  /** e.g. `sk-at…Ab12`, for telling keys apart in lists. */
  readonly redactedValue: string;
  readonly role: ApiKeyRole;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface ApiKeyCreateParams {
  readonly workspaceId: string;
  readonly accountId?: string | null;
  readonly name: string;
  readonly role?: ApiKeyRole;
  /** Use this secret instead of a random one (e.g. a bootstrap key from the environment). */
  readonly secret?: string | undefined;
}

export interface ApiKeyListParams {
  readonly workspaceId: string;
  readonly includeRevoked?: boolean;
}

export interface ApiKeysRepository {
  /** Returns the key and its plaintext secret: the only time the secret exists outside the caller. */
  create(params: ApiKeyCreateParams): Promise<{ readonly apiKey: ApiKey; readonly secret: string }>;
  /** The key with this secret, or null when there is none or it was revoked. */
  findActiveBySecret(secret: string): Promise<ApiKey | null>;
  /** The workspace's keys, newest first; revoked ones only when asked. */
  list(params: ApiKeyListParams): Promise<readonly ApiKey[]>;
  /** Revoked keys included (see `revokedAt`). */
  findById(id: string): Promise<ApiKey | null>;
  /** Revokes the key (keeping the first revocation time); returns whether the key exists. */
  revoke(id: string): Promise<boolean>;
  /** Records use; a no-op when `at` is not later than what is stored. Callers may throttle it. */
  touchLastUsed(id: string, at: number): Promise<void>;
}

export const API_KEY_PREFIX = 'sk-atelier-';
const RANDOM_LENGTH = 48;
// A caller-chosen secret must still be too long to guess and leave most of it hidden when redacted.
const MIN_SECRET_LENGTH = 20;
const MAX_SECRET_LENGTH = 256;

/** SHA-256 of the secret as lower-case hex: what `api_keys.secret_hash` holds. */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function createApiKeysRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ApiKeysRepository {
  let findBySecretHash: CompiledQuery<Selectable<ApiKeysTable>> | undefined;
  return {
    async create({ workspaceId, accountId = null, name, role = 'member', secret = undefined }) {
      if (secret !== undefined) checkSecret(secret);
      const plaintext = secret ?? API_KEY_PREFIX + randomBase62(RANDOM_LENGTH);
      const row = {
        id: newId('apiKey'),
        workspace_id: workspaceId,
        account_id: accountId,
        name,
        secret_hash: hashApiKeySecret(plaintext),
        redacted_value: redact(plaintext),
        role,
        created_at: now(),
        last_used_at: null,
        revoked_at: null,
      };
      await inTransaction(db, async (trx) => {
        // Checked first so the error names what is missing (SQLite's FK error does not).
        const workspace = await trx
          .selectFrom('workspaces')
          .select('id')
          .where('id', '=', workspaceId)
          .executeTakeFirst();
        if (!workspace)
          throw new NotFoundError(`No workspace with id '${workspaceId}'.`, { param: 'workspace_id' });
        if (accountId !== null) {
          const account = await trx
            .selectFrom('accounts')
            .select('id')
            .where('id', '=', accountId)
            .executeTakeFirst();
          if (!account)
            throw new NotFoundError(`No account with id '${accountId}'.`, { param: 'account_id' });
        }
        try {
          await trx.insertInto('api_keys').values(row).execute();
        } catch (error) {
          const violation = constraintViolation(error);
          // Only a caller-chosen secret can collide; a random one never will.
          if (violation === 'unique') {
            throw new ConflictError('An API key with this secret already exists.', { param: 'secret' });
          }
          if (violation === 'foreign_key') {
            throw new NotFoundError('The workspace or account was deleted meanwhile.', {
              param: 'workspace_id',
            });
          }
          throw error;
        }
      });
      return { apiKey: toApiKey(row), secret: plaintext };
    },

    async findActiveBySecret(secret) {
      // The lookup is by hash, so its timing tells an attacker about the hash of what they sent,
      // which they cannot steer towards a real key's hash: nothing to learn about real secrets.
      const hash = hashApiKeySecret(secret);
      // Every API request asks this: the query is built and compiled once, then run with each
      // hash (building and compiling it anew cost as much as running it).
      findBySecretHash ??= db
        .selectFrom('api_keys')
        .selectAll()
        .where('secret_hash', '=', '')
        .where('revoked_at', 'is', null)
        .compile();
      const { rows } = await db.executeQuery<Selectable<ApiKeysTable>>({
        ...findBySecretHash,
        parameters: [hash],
      });
      const row = rows[0];
      // Belt and braces: the database's string comparison is not constant-time; this one is.
      if (!row || !timingSafeEqual(Buffer.from(row.secret_hash, 'hex'), Buffer.from(hash, 'hex')))
        return null;
      return toApiKey(row);
    },

    async list({ workspaceId, includeRevoked = false }) {
      let query = db.selectFrom('api_keys').selectAll().where('workspace_id', '=', workspaceId);
      if (!includeRevoked) query = query.where('revoked_at', 'is', null);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toApiKey);
    },

    async findById(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toApiKey(row) : null;
    },

    async revoke(id) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: sql<number>`coalesce(revoked_at, ${now()})` })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async touchLastUsed(id, at) {
      // The condition makes repeated touches within the same second match no row, so write nothing.
      await db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute();
    },
  };
}

function checkSecret(secret: string): void {
  if (
    secret.length < MIN_SECRET_LENGTH ||
    secret.length > MAX_SECRET_LENGTH ||
    !/^[\x21-\x7e]+$/.test(secret)
  ) {
    throw new InvalidRequestError(
      `An API key secret must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} printable ASCII characters without spaces.`,
      { param: 'secret' },
    );
  }
}

/** `sk-at…Ab12`: enough to tell keys apart, far too little to use. */
function redact(secret: string): string {
  return `${secret.slice(0, 5)}…${secret.slice(-4)}`;
}

function toApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    accountId: row.account_id,
    name: row.name,
    redactedValue: row.redacted_value,
    role: row.role,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
