// Web sessions: started at sign-in, resumed from the cookie on each request, ended at sign-out.
// A session lasts `lifetimeSeconds` after it was last used (sliding), and each one has a CSRF
// token derived from its secret, which the page must echo in a header on every request that
// could change something: another site can make the browser send the cookie, never the token.
// Ending a session tells its open event streams (account-events.ts), which end with it.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Session } from '../storage/repositories/sessions-repository.js';
import type { WorkspaceRole } from '../storage/repositories/workspaces-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { AccountEvents } from './account-events.js';

export interface ActiveSession {
  readonly session: Session;
  /** The account's role in the session's workspace; null once it is no longer a member. */
  readonly workspaceRole: WorkspaceRole | null;
  readonly csrfToken: string;
  /** The expiry moved forward: send the cookie again so the browser keeps it as long. */
  readonly renewed: boolean;
}

export interface SessionService {
  readonly lifetimeSeconds: number;
  start(params: {
    accountId: string;
    workspaceId: string;
    userAgent?: string | null;
  }): Promise<{ readonly secret: string; readonly csrfToken: string; readonly session: Session }>;
  /** The session a cookie's secret belongs to, or null when it is unknown or expired. */
  resume(secret: string): Promise<ActiveSession | null>;
  /** Like `resume`, without counting as a use (an open event stream asking if it may go on). */
  check(secret: string): Promise<Session | null>;
  /** Ends the session; its open event streams end too. */
  end(sessionId: string): Promise<void>;
  /** Ends every session of the account (and their open event streams). */
  endAll(accountId: string): Promise<void>;
  /** Constant-time check of a presented CSRF token against the session's. */
  checkCsrfToken(active: ActiveSession, presented: string | undefined): boolean;
}

/** Renew (and write to the database) at most this often per session. */
const RENEW_INTERVAL_SECONDS = 60 * 60;
const CSRF_CONTEXT = 'atelier-csrf-v1';

export function createSessionService({
  repositories,
  lifetimeSeconds,
  events = undefined,
  now = () => Math.floor(Date.now() / 1000),
}: {
  repositories: Repositories;
  lifetimeSeconds: number;
  /** Where the open event streams of an ended session hear of it. */
  events?: Pick<AccountEvents, 'publish' | 'sessionEnded'> | undefined;
  now?: () => number;
}): SessionService {
  /** Not awaited: the session is gone either way; a stream also finds out at its next check. */
  const tell = (told: Promise<void> | undefined) => {
    told?.catch(() => {});
  };
  return {
    lifetimeSeconds,

    async start({ accountId, workspaceId, userAgent = null }) {
      const at = now();
      // Expired sessions are swept here, at the rare moment someone signs in, not on a timer.
      await repositories.sessions.deleteExpired(at);
      const { session, secret } = await repositories.sessions.create({
        accountId,
        workspaceId,
        userAgent,
        expiresAt: at + lifetimeSeconds,
      });
      return { session, secret, csrfToken: csrfTokenFor(secret) };
    },

    async resume(secret) {
      if (!/^[A-Za-z0-9_-]{20,128}$/.test(secret)) return null;
      const at = now();
      const found = await repositories.sessions.findActiveBySecret(secret, at);
      if (!found) return null;
      let { session } = found;
      const renewed = session.lastSeenAt + RENEW_INTERVAL_SECONDS <= at;
      if (renewed) {
        session = { ...session, lastSeenAt: at, expiresAt: at + lifetimeSeconds };
        await repositories.sessions.touch(session.id, {
          lastSeenAt: session.lastSeenAt,
          expiresAt: session.expiresAt,
        });
      }
      return { session, workspaceRole: found.workspaceRole, csrfToken: csrfTokenFor(secret), renewed };
    },

    async check(secret) {
      if (!/^[A-Za-z0-9_-]{20,128}$/.test(secret)) return null;
      return (await repositories.sessions.findActiveBySecret(secret, now()))?.session ?? null;
    },

    async end(sessionId) {
      await repositories.sessions.delete(sessionId);
      tell(events?.sessionEnded(sessionId));
    },

    async endAll(accountId) {
      await repositories.sessions.deleteForAccount(accountId);
      tell(events?.publish(accountId, { type: 'session.ended', sessionId: null }));
    },

    checkCsrfToken(active, presented) {
      if (!presented) return false;
      const expected = Buffer.from(active.csrfToken);
      const given = Buffer.from(presented);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

/** A one-way function of the session's secret: knowing the token does not give the cookie. */
function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update(CSRF_CONTEXT).digest('base64url');
}
