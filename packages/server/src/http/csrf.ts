// Cross-site request forgery defences for requests authenticated by the session cookie:
// the page sends its session's token in `X-Atelier-CSRF` (another site can make the browser send
// the cookie, but cannot read the token or set a custom header without a CORS preflight, which
// this server never grants), and the browser's Origin / Sec-Fetch-Site must say "this site".
import type { FastifyRequest } from 'fastify';
import { PermissionDeniedError } from '../errors.js';

export const CSRF_HEADER = 'x-atelier-csrf';

export function csrfHeader(request: FastifyRequest): string | undefined {
  const value = request.headers[CSRF_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export class CsrfError extends PermissionDeniedError {
  constructor(reason: string) {
    super(
      `Request refused: ${reason}. Requests signed in with a session must come from Atelier's own pages.`,
      {
        code: 'csrf_failed',
      },
    );
  }
}

/** Throws CsrfError when the browser says the request comes from another site. */
export function assertSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  // 'same-site' is a sibling subdomain: not trusted either, it may belong to someone else.
  if (site === 'cross-site' || site === 'same-site') throw new CsrfError('it came from another site');
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!sameHost(origin, request.host)) throw new CsrfError(`its origin ${origin} is not this server`);
}

/** Compares hosts with default ports removed (`example.com` = `example.com:443` from https). */
function sameHost(origin: string, host: string): boolean {
  try {
    const from = new URL(origin);
    if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
