// Workspaces (personal or team) and who belongs to them with which role. Who may do what with a
// role is the platform's rule; this only stores it.

import { newId } from '@atelier/protocol';
import type { Kysely, Selectable } from 'kysely';
import { ConflictError, NotFoundError } from '../../errors.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import { inTransaction } from '../in-transaction.js';
import type { DatabaseSchema, WorkspaceMembersTable, WorkspacesTable } from '../schema.js';

export type WorkspaceKind = 'personal' | 'team';
export type WorkspaceRole = 'owner' | 'admin' | 'member';

export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly kind: WorkspaceKind;
  readonly createdAt: number;
}

export interface WorkspaceMember {
  readonly workspaceId: string;
  readonly accountId: string;
  readonly role: WorkspaceRole;
  /** When the account joined. */
  readonly createdAt: number;
}

/** A workspace seen from one of its members. */
export interface WorkspaceMembership {
  readonly workspace: Workspace;
  readonly role: WorkspaceRole;
  readonly joinedAt: number;
}

export interface WorkspaceCreateParams {
  readonly name: string;
  readonly kind?: WorkspaceKind;
  /** Made the workspace's owner in the same transaction. */
  readonly ownerAccountId?: string | null;
}

export interface WorkspaceAddMemberParams {
  readonly workspaceId: string;
  readonly accountId: string;
  readonly role?: WorkspaceRole;
}

export interface WorkspacesRepository {
  /** Throws NotFoundError when `ownerAccountId` names no account (and creates nothing). */
  create(params: WorkspaceCreateParams): Promise<Workspace>;
  findById(id: string): Promise<Workspace | null>;
  /** The account's workspaces, oldest membership first. */
  listForAccount(accountId: string): Promise<readonly WorkspaceMembership[]>;
  /** Throws NotFoundError for an unknown workspace or account, ConflictError for an existing member. */
  addMember(params: WorkspaceAddMemberParams): Promise<WorkspaceMember>;
  /** Members in the order they joined. */
  members(workspaceId: string): Promise<readonly WorkspaceMember[]>;
  /** Deletes the workspace with its members and API keys; returns whether it existed. */
  delete(id: string): Promise<boolean>;
}

export function createWorkspacesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): WorkspacesRepository {
  async function insertMember(
    trx: Kysely<DatabaseSchema>,
    { workspaceId, accountId, role = 'member' }: WorkspaceAddMemberParams,
  ): Promise<WorkspaceMember> {
    // Checked first so the error can say which one is missing (SQLite's FK error does not).
    const account = await trx
      .selectFrom('accounts')
      .select('id')
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (!account) throw new NotFoundError(`No account with id '${accountId}'.`, { param: 'account_id' });
    const row = { workspace_id: workspaceId, account_id: accountId, role, created_at: now() };
    try {
      await trx.insertInto('workspace_members').values(row).execute();
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation === 'unique') {
        throw new ConflictError(`Account '${accountId}' is already a member of this workspace.`, {
          param: 'account_id',
          code: 'already_member',
        });
      }
      // The account was just seen, so (barring a concurrent delete) the workspace is what is missing.
      if (violation === 'foreign_key') {
        throw new NotFoundError(`No workspace with id '${workspaceId}'.`, { param: 'workspace_id' });
      }
      throw error;
    }
    return toMember(row);
  }

  return {
    async create({ name, kind = 'team', ownerAccountId = null }) {
      const row = { id: newId('workspace'), name, kind, created_at: now() };
      await inTransaction(db, async (trx) => {
        await trx.insertInto('workspaces').values(row).execute();
        if (ownerAccountId !== null) {
          await insertMember(trx, { workspaceId: row.id, accountId: ownerAccountId, role: 'owner' });
        }
      });
      return toWorkspace(row);
    },

    async findById(id) {
      const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toWorkspace(row) : null;
    },

    async listForAccount(accountId) {
      const rows = await db
        .selectFrom('workspace_members')
        .innerJoin('workspaces', 'workspaces.id', 'workspace_members.workspace_id')
        .select([
          'workspaces.id',
          'workspaces.name',
          'workspaces.kind',
          'workspaces.created_at',
          'workspace_members.role',
          'workspace_members.created_at as joined_at',
        ])
        .where('workspace_members.account_id', '=', accountId)
        .orderBy('workspace_members.created_at')
        .orderBy('workspaces.id')
        .execute();
      return rows.map((row) => ({ workspace: toWorkspace(row), role: row.role, joinedAt: row.joined_at }));
    },

    addMember(params) {
      return inTransaction(db, (trx) => insertMember(trx, params));
    },

    async members(workspaceId) {
      const rows = await db
        .selectFrom('workspace_members')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .orderBy('account_id')
        .execute();
      return rows.map(toMember);
    },

    async delete(id) {
      const result = await db.deleteFrom('workspaces').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toWorkspace(row: Selectable<WorkspacesTable>): Workspace {
  return { id: row.id, name: row.name, kind: row.kind, createdAt: row.created_at };
}

function toMember(row: Selectable<WorkspaceMembersTable>): WorkspaceMember {
  return {
    workspaceId: row.workspace_id,
    accountId: row.account_id,
    role: row.role,
    createdAt: row.created_at,
  };
}
