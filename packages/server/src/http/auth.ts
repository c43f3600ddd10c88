// Who a request is. On /v1: a Bearer API key, or the web app's session cookie together with its
// CSRF header (so the app calls the same API as every other client, as its signed-in person, in
// the session's workspace). On /api: the session, when there is one; routes that need it say so.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError, PermissionDeniedError } from '../errors.js';
import type { ApiKeyVerifier, Principal } from '../platform/principal.js';
import type { ActiveSession, SessionService } from '../platform/sessions.js';
import { assertSameOrigin, CsrfError, csrfHeader } from './csrf.js';
import { clearSessionCookie, readSessionSecret, setSessionCookie } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The web session the cookie names (on /api, and on /v1 when no key was presented). */
    webSession: ActiveSession | null;
  }
}

export function createAuthHook({
  verifier,
  sessions = undefined,
}: {
  verifier: ApiKeyVerifier;
  /** Absent: API keys only. */
  sessions?: SessionService | undefined;
}) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    // A presented key always wins: a developer's script that also holds a cookie acts as its key.
    if (!header && sessions) {
      const active = await resumeSession({ request, reply, sessions });
      if (active) {
        request.principal = sessionPrincipal(request, active, sessions);
        return;
      }
    }
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new AuthenticationError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        { code: header ? 'invalid_api_key' : null },
      );
    }
    const principal = await verifier.verify(match[1]);
    if (!principal) {
      throw new AuthenticationError(
        `Incorrect API key provided: ${redact(match[1])}. You can find your API keys in Atelier's settings.`,
      );
    }
    request.principal = principal;
  };
}

/**
 * On /api: resumes the session (if any) into `request.webSession`, and refuses any request that
 * could change something unless it carries the CSRF header and comes from this origin. Without a
 * session (signing in or up) the header must still be present: its presence alone proves the
 * request was not a plain cross-site form post (login CSRF).
 */
export function createSessionHook({ sessions }: { sessions: SessionService }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const active = await resumeSession({ request, reply, sessions });
    request.webSession = active;
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    assertSameOrigin(request);
    const presented = csrfHeader(request);
    if (active ? !sessions.checkCsrfToken(active, presented) : presented === undefined) {
      throw new CsrfError('the X-Atelier-CSRF header is missing or wrong');
    }
  };
}

/** The signed-in session of an /api request; 401 when there is none. */
export function requireSession(request: FastifyRequest): ActiveSession {
  if (!request.webSession) {
    throw new AuthenticationError('You are not signed in.', { code: 'not_signed_in' });
  }
  return request.webSession;
}

async function resumeSession({
  request,
  reply,
  sessions,
}: {
  request: FastifyRequest;
  reply: FastifyReply;
  sessions: SessionService;
}): Promise<ActiveSession | null> {
  const secret = readSessionSecret(request);
  if (secret === undefined) return null;
  const active = await sessions.resume(secret);
  if (!active) {
    // Expired or signed out elsewhere: stop the browser from sending it.
    clearSessionCookie(request, reply);
    return null;
  }
  if (active.renewed) setSessionCookie(request, reply, { secret, maxAgeSeconds: sessions.lifetimeSeconds });
  return active;
}

function sessionPrincipal(
  request: FastifyRequest,
  active: ActiveSession,
  sessions: SessionService,
): Principal {
  assertSameOrigin(request);
  if (!sessions.checkCsrfToken(active, csrfHeader(request))) {
    throw new CsrfError('the X-Atelier-CSRF header is missing or wrong');
  }
  if (!active.workspaceRole) {
    throw new PermissionDeniedError(
      "You are no longer a member of this session's workspace. Sign in again.",
      {
        code: 'not_a_member',
      },
    );
  }
  return {
    apiKeyId: null,
    accountId: active.session.accountId,
    workspaceId: active.session.workspaceId,
    role: active.workspaceRole === 'member' ? 'member' : 'admin',
  };
}

/** `sk-atel************wxyz`: enough to recognise a key, never enough to use it. */
export function redact(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  return `${secret.slice(0, 7)}${'*'.repeat(Math.min(secret.length - 11, 24))}${secret.slice(-4)}`;
}
