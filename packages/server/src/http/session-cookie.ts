// The session cookie: httpOnly (scripts never see it), SameSite=Lax (not sent on cross-site
// subrequests or form posts), Secure and `__Host-` prefixed when the request came over https
// (directly, or through a proxy the server trusts), so it is bound to this host and never
// travels in clear text.
import type { FastifyReply, FastifyRequest } from 'fastify';

const PLAIN_NAME = 'atelier_session';
const SECURE_NAME = '__Host-atelier_session';

export function readSessionSecret(request: FastifyRequest): string | undefined {
  return request.cookies[SECURE_NAME] ?? request.cookies[PLAIN_NAME] ?? undefined;
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  { secret, maxAgeSeconds }: { secret: string; maxAgeSeconds: number },
): void {
  const secure = request.protocol === 'https';
  void reply.setCookie(secure ? SECURE_NAME : PLAIN_NAME, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  for (const name of [PLAIN_NAME, SECURE_NAME]) {
    if (request.cookies[name] !== undefined) {
      void reply.clearCookie(name, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: name === SECURE_NAME,
      });
    }
  }
}
