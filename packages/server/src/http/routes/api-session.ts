// Signing up, in and out, and `GET /api/session`: who is signed in (with the CSRF token the page
// must echo), or, for a visitor, whether sign-up is open.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AccountServices } from '../../platform/account-services.js';
import type { SignedIn } from '../../platform/accounts-service.js';
import { parseBody } from '../parse.js';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.js';
import { toWireSignedIn } from '../to-wire-account.js';

const Email = z
  .string()
  .trim()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

const SignUpParams = z.object({
  name: z.string().trim().min(1).max(100),
  email: Email,
  password: z.string().max(4096),
});

const SignInParams = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().max(4096),
});

export function registerApiSession(
  app: FastifyInstance,
  { accounts, sessions, chats }: Pick<AccountServices, 'accounts' | 'sessions' | 'chats'>,
): void {
  const signedIn = async (request: FastifyRequest, reply: FastifyReply, result: SignedIn) => {
    // A session the browser already had ends: one browser, one session.
    if (request.webSession) await sessions.end(request.webSession.session.id);
    setSessionCookie(request, reply, { secret: result.secret, maxAgeSeconds: sessions.lifetimeSeconds });
    return toWireSignedIn({
      profile: await accounts.profile(result.account.id),
      csrfToken: result.csrfToken,
      workspaceId: result.session.workspaceId,
      capabilities: chats.capabilities,
    });
  };

  app.get('/api/session', async (request, reply) => {
    const active = request.webSession;
    if (active) {
      try {
        return toWireSignedIn({
          profile: await accounts.profile(active.session.accountId),
          csrfToken: active.csrfToken,
          workspaceId: active.session.workspaceId,
          capabilities: chats.capabilities,
        });
      } catch {
        // The account was deleted on another device: this browser is signed out too.
        clearSessionCookie(request, reply);
      }
    }
    const signUp = await accounts.signUpState();
    return { authenticated: false as const, sign_up_open: signUp.open, first_person: signUp.firstPerson };
  });

  app.post('/api/auth/sign-up', async (request, reply) => {
    const params = parseBody(SignUpParams, request.body);
    const result = await accounts.signUp({ ...params, userAgent: request.headers['user-agent'] ?? null });
    return reply.code(201).send(await signedIn(request, reply, result));
  });

  app.post('/api/auth/sign-in', async (request, reply) => {
    const params = parseBody(SignInParams, request.body);
    const result = await accounts.signIn({
      ...params,
      clientAddress: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
    });
    return signedIn(request, reply, result);
  });

  app.post('/api/auth/sign-out', async (request, reply) => {
    if (request.webSession) await sessions.end(request.webSession.session.id);
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });
}
