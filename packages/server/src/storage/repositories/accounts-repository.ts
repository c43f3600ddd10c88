// People who sign in. Emails are kept lower-cased so that Ada@Example.com and ada@example.com are
// one account; the password hash is made (and checked) by the platform, never here.

import { newId } from '@atelier/protocol';
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import { ConflictError } from '../../errors.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import type { AccountsTable, DatabaseSchema } from '../schema.js';

export interface Account {
  readonly id: string;
  readonly email: string | null;
  readonly name: string;
  /** A slow password hash (scrypt/argon2) made by the platform; null for accounts without a password. */
  readonly passwordHash: string | null;
  readonly createdAt: number;
}

export interface AccountCreateParams {
  readonly name: string;
  readonly email?: string | null;
  readonly passwordHash?: string | null;
}

export interface AccountsRepository {
  /** Throws ConflictError (param `email`, code `email_taken`) when the email belongs to another account. */
  create(params: AccountCreateParams): Promise<Account>;
  findById(id: string): Promise<Account | null>;
  /** Case-insensitive. */
  findByEmail(email: string): Promise<Account | null>;
  /** Replaces the password hash (e.g. re-hashed with stronger parameters); returns whether the account exists. */
  setPasswordHash(id: string, passwordHash: string): Promise<boolean>;
  /** Accounts that can sign in with a password: zero means the next sign-up is the first person. */
  countWithPassword(): Promise<number>;
  /**
   * Inside a transaction, makes concurrent sign-ups wait for this one to commit, so that
   * "is this the first person?" has one answer. SQLite already runs one write transaction at a time.
   */
  serializeSignUps(): Promise<void>;
  /** Deletes the account and everything that goes with it (memberships, keys, sessions, chats). */
  delete(id: string): Promise<boolean>;
}

export function createAccountsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): AccountsRepository {
  return {
    async create({ name, email = null, passwordHash = null }) {
      const row = {
        id: newId('account'),
        email: email === null ? null : normalizeEmail(email),
        name,
        password_hash: passwordHash,
        created_at: now(),
      };
      try {
        await db.insertInto('accounts').values(row).execute();
      } catch (error) {
        if (constraintViolation(error) === 'unique') {
          throw new ConflictError('An account with this email address already exists.', {
            param: 'email',
            code: 'email_taken',
          });
        }
        throw error;
      }
      return toAccount(row);
    },

    async findById(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toAccount(row) : null;
    },

    async findByEmail(email) {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where('email', '=', normalizeEmail(email))
        .executeTakeFirst();
      return row ? toAccount(row) : null;
    },

    async setPasswordHash(id, passwordHash) {
      const result = await db
        .updateTable('accounts')
        .set({ password_hash: passwordHash })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async countWithPassword() {
      const row = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
        .where('password_hash', 'is not', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async serializeSignUps() {
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        // Blocks other sign-ups (and any other writer of accounts) until this transaction ends;
        // readers are not blocked. Sign-ups are rare, so the wait is nothing.
        await sql`lock table accounts in share row exclusive mode`.execute(db);
      }
    },

    async delete(id) {
      const result = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}
