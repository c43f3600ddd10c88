// People and their accounts: sign-up (the first person also becomes an owner of the team
// workspace, where keys made from the CLI live), sign-in with a password, a personal workspace
// for each person, their preferences, and deleting an account with what only it owned.

import { ConflictError, InvalidRequestError, PermissionDeniedError } from '../errors.js';
import type {
  AccountPreferences,
  AccountPreferencesUpdate,
} from '../storage/repositories/account-preferences-repository.js';
import type { Account } from '../storage/repositories/accounts-repository.js';
import type { Session } from '../storage/repositories/sessions-repository.js';
import type { Workspace, WorkspaceMembership } from '../storage/repositories/workspaces-repository.js';
import type { Repositories } from '../storage/repositories.js';
import { ensureDefaultWorkspace } from './api-keys.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { SessionService } from './sessions.js';
import type { SignInThrottle } from './sign-in-throttle.js';

export interface SignedIn {
  readonly account: Account;
  readonly session: Session;
  /** The cookie's value. */
  readonly secret: string;
  readonly csrfToken: string;
}

export interface Profile {
  readonly account: Account;
  readonly workspaces: readonly WorkspaceMembership[];
  readonly preferences: AccountPreferences;
}

export interface AccountsService {
  /** Whether a new person may sign up now (always, until the first one has), and is the first. */
  signUpState(): Promise<{ readonly open: boolean; readonly firstPerson: boolean }>;
  signUp(params: {
    name: string;
    email: string;
    password: string;
    userAgent?: string | null;
  }): Promise<SignedIn>;
  /** Throws AuthenticationError for an unknown email or a wrong password (the same error for both). */
  signIn(params: {
    email: string;
    password: string;
    clientAddress: string;
    userAgent?: string | null;
  }): Promise<SignedIn>;
  profile(accountId: string): Promise<Profile>;
  updatePreferences(accountId: string, changes: AccountPreferencesUpdate): Promise<AccountPreferences>;
  /** Needs the password again. Deletes the account, its sessions, chats and personal workspace. */
  deleteAccount(params: { accountId: string; password: string }): Promise<void>;
}

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;
const PERSONAL_WORKSPACE_NAME = 'Personal';

export function createAccountsService({
  repositories,
  sessions,
  throttle,
  allowSignUp,
}: {
  repositories: Repositories;
  sessions: SessionService;
  throttle: SignInThrottle;
  /** false: only the first person may sign up (later ones are invited, in a later version). */
  allowSignUp: boolean;
}): AccountsService {
  // A real hash to check against when the email is unknown, so a wrong email takes as long as a
  // wrong password and response times do not tell which addresses have accounts.
  let decoy: Promise<string> | undefined;
  const decoyHash = () => {
    decoy ??= hashPassword('decoy password that no one has');
    return decoy;
  };

  const personalWorkspace = async (accountId: string, name: string): Promise<Workspace> => {
    const memberships = await repositories.workspaces.listForAccount(accountId);
    const personal = memberships.find((membership) => membership.workspace.kind === 'personal');
    if (personal) return personal.workspace;
    // Accounts made before sign-up existed (or by the CLI) get theirs on first sign-in.
    return repositories.workspaces.create({ name, kind: 'personal', ownerAccountId: accountId });
  };

  const startSession = async (account: Account, userAgent: string | null): Promise<SignedIn> => {
    const workspace = await personalWorkspace(account.id, PERSONAL_WORKSPACE_NAME);
    const started = await sessions.start({ accountId: account.id, workspaceId: workspace.id, userAgent });
    return { account, ...started };
  };

  return {
    async signUpState() {
      const firstPerson = (await repositories.accounts.countWithPassword()) === 0;
      return { open: allowSignUp || firstPerson, firstPerson };
    },

    async signUp({ name, email, password, userAgent = null }) {
      checkPassword(password);
      // Slow, so outside the transaction.
      const passwordHash = await hashPassword(password);
      const account = await repositories.transaction(async (scoped) => {
        await scoped.accounts.serializeSignUps();
        const first = (await scoped.accounts.countWithPassword()) === 0;
        if (!first && !allowSignUp) {
          throw new PermissionDeniedError('Sign-up is closed on this server. Ask its owner for an account.', {
            code: 'sign_up_closed',
          });
        }
        const created = await scoped.accounts.create({ name, email, passwordHash });
        await scoped.workspaces.create({
          name: PERSONAL_WORKSPACE_NAME,
          kind: 'personal',
          ownerAccountId: created.id,
        });
        if (first) {
          const team = await ensureDefaultWorkspace(scoped);
          await scoped.workspaces.addMember({ workspaceId: team.id, accountId: created.id, role: 'owner' });
        }
        return created;
      });
      return startSession(account, userAgent);
    },

    async signIn({ email, password, clientAddress, userAgent = null }) {
      const attempt = { email, address: clientAddress };
      throttle.check(attempt);
      const account = await repositories.accounts.findByEmail(email);
      const stored = account?.passwordHash ?? (await decoyHash());
      const matches =
        password.length <= PASSWORD_MAX_LENGTH && (await verifyPassword(password, stored)) && !!account;
      if (!account?.passwordHash || !matches) {
        throttle.recordFailure(attempt);
        throw new InvalidCredentialsError();
      }
      throttle.recordSuccess(attempt);
      if (needsRehash(account.passwordHash)) {
        await repositories.accounts.setPasswordHash(account.id, await hashPassword(password));
      }
      return startSession(account, userAgent);
    },

    async profile(accountId) {
      const account = await repositories.accounts.findById(accountId);
      if (!account) throw new AccountGoneError();
      const [workspaces, preferences] = await Promise.all([
        repositories.workspaces.listForAccount(accountId),
        repositories.accountPreferences.get(accountId),
      ]);
      return { account, workspaces, preferences };
    },

    updatePreferences(accountId, changes) {
      return repositories.accountPreferences.update(accountId, changes);
    },

    async deleteAccount({ accountId, password }) {
      const account = await repositories.accounts.findById(accountId);
      if (!account) throw new AccountGoneError();
      if (!account.passwordHash || !(await verifyPassword(password, account.passwordHash))) {
        throw new InvalidCredentialsError('The password is not correct.', 'password');
      }
      await repositories.transaction(async (scoped) => {
        for (const membership of await scoped.workspaces.listForAccount(accountId)) {
          const members = await scoped.workspaces.members(membership.workspace.id);
          const others = members.filter((member) => member.accountId !== accountId);
          if (others.length === 0) {
            // Nobody else can reach it: its keys, files and assistants go too.
            await scoped.workspaces.delete(membership.workspace.id);
          } else if (membership.role === 'owner' && !others.some((member) => member.role === 'owner')) {
            throw new ConflictError(
              `You are the only owner of the workspace '${membership.workspace.name}'. Make someone else an owner first.`,
              { code: 'last_owner' },
            );
          }
        }
        // Memberships, sessions, chats, preferences and personal keys cascade.
        await scoped.accounts.delete(accountId);
      });
    },
  };
}

/** Wrong email or wrong password: one error for both, so it does not tell which. */
export class InvalidCredentialsError extends InvalidRequestError {
  constructor(message = 'Incorrect email or password.', param: string | null = null) {
    super(message, { status: 401, code: 'invalid_credentials', param });
  }
}

/** A session whose account was deleted meanwhile (on another device). */
class AccountGoneError extends InvalidRequestError {
  constructor() {
    super('This account no longer exists.', { status: 401, code: 'not_signed_in' });
  }
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new InvalidRequestError(`The password must have at least ${PASSWORD_MIN_LENGTH} characters.`, {
      param: 'password',
      code: 'password_too_short',
    });
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new InvalidRequestError(`The password must have at most ${PASSWORD_MAX_LENGTH} characters.`, {
      param: 'password',
      code: 'password_too_long',
    });
  }
}
