// Sign-in sessions of the web app. The cookie holds a random secret; only its SHA-256 is stored,
// so a copy of the database does not sign anyone in. (A fast hash is right here for the reason
// given in api-keys-repository.ts: the secret has 256 random bits, and every request hashes it.)

import { createHash, randomBytes } from 'node:crypto';
import { randomBase62 } from '@atelier/protocol';
import type { Kysely, Selectable } from 'kysely';
import { NotFoundError } from '../../errors.js';
import type { SessionsTable } from '../accounts-sessions-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import type { DatabaseSchema } from '../schema.js';
import type { WorkspaceRole } from './workspaces-repository.js';

export interface Session {
  readonly id: string;
  readonly accountId: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly userAgent: string | null;
}

export interface ActiveSessionRow {
  readonly session: Session;
  readonly workspaceRole: WorkspaceRole | null;
}

export interface SessionCreateParams {
  readonly accountId: string;
  readonly workspaceId: string;
  readonly expiresAt: number;
  readonly userAgent?: string | null;
}

export interface SessionsRepository {
  /** Returns the session and its secret: the only time the secret exists outside the cookie. */
  create(params: SessionCreateParams): Promise<{ readonly session: Session; readonly secret: string }>;
  /**
   * The session with this secret and the account's current role in the session's workspace (null
   * once it left it), or null when there is no such session or it expired by `at`.
   */
  findActiveBySecret(secret: string, at: number): Promise<ActiveSessionRow | null>;
  /** Records use and slides the expiry forward. */
  touch(id: string, { lastSeenAt, expiresAt }: { lastSeenAt: number; expiresAt: number }): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Signs the account out everywhere; returns how many sessions ended. */
  deleteForAccount(accountId: string): Promise<number>;
  /** Removes sessions that expired before `at`. */
  deleteExpired(at: number): Promise<number>;
}

const SESSION_ID_PREFIX = 'sess_';
const USER_AGENT_MAX_LENGTH = 256;

/** SHA-256 of the secret as lower-case hex: what `sessions.token_hash` holds. */
export function hashSessionSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function createSessionsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): SessionsRepository {
  return {
    async create({ accountId, workspaceId, expiresAt, userAgent = null }) {
      const secret = randomBytes(32).toString('base64url');
      const at = now();
      const row = {
        id: SESSION_ID_PREFIX + randomBase62(24),
        account_id: accountId,
        workspace_id: workspaceId,
        token_hash: hashSessionSecret(secret),
        created_at: at,
        last_seen_at: at,
        expires_at: expiresAt,
        user_agent: userAgent === null ? null : userAgent.slice(0, USER_AGENT_MAX_LENGTH),
      };
      try {
        await db.insertInto('sessions').values(row).execute();
      } catch (error) {
        if (constraintViolation(error) === 'foreign_key') {
          throw new NotFoundError('The account or workspace of this session no longer exists.');
        }
        throw error;
      }
      return { session: toSession(row), secret };
    },

    async findActiveBySecret(secret, at) {
      // One query per request: the session and the membership that still allows it.
      const row = await db
        .selectFrom('sessions')
        .leftJoin('workspace_members', (join) =>
          join
            .onRef('workspace_members.workspace_id', '=', 'sessions.workspace_id')
            .onRef('workspace_members.account_id', '=', 'sessions.account_id'),
        )
        .selectAll('sessions')
        .select('workspace_members.role as workspace_role')
        .where('sessions.token_hash', '=', hashSessionSecret(secret))
        .where('sessions.expires_at', '>', at)
        .executeTakeFirst();
      if (!row) return null;
      const { workspace_role, ...session } = row;
      return { session: toSession(session), workspaceRole: workspace_role };
    },

    async touch(id, { lastSeenAt, expiresAt }) {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
        .where('id', '=', id)
        .execute();
    },

    async delete(id) {
      const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteForAccount(accountId) {
      const result = await db.deleteFrom('sessions').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteExpired(at) {
      const result = await db.deleteFrom('sessions').where('expires_at', '<=', at).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    accountId: row.account_id,
    workspaceId: row.workspace_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    userAgent: row.user_agent,
  };
}
