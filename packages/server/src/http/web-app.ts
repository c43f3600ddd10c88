// Serves the built web app at `/`: hashed assets cached for a year, the shell (index.html,
// service worker, manifest) revalidated on every load so a new version shows at once, the
// pre-compressed .br/.gz files the build wrote, and index.html for the app's own routes
// (/c/…, /settings…) so deep links and reloads work. /v1 and /api are never answered from here.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NotFoundError } from '../errors.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SHORT = 'public, max-age=86400';

/** Registers the app when `root` holds a build; returns false (serving nothing) when it does not. */
export async function registerWebApp(app: FastifyInstance, { root }: { root: string }): Promise<boolean> {
  let html: string;
  try {
    html = await readFile(path.join(root, 'index.html'), 'utf8');
  } catch {
    return false;
  }
  const policy = contentSecurityPolicy(html);
  const setHeaders = (reply: FastifyReply) => {
    const pathname = reply.request.url.split('?')[0] ?? '/';
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    const page = isPage(pathname);
    if (pathname.startsWith('/assets/')) {
      reply.header('cache-control', IMMUTABLE);
    } else if (page || pathname === '/sw.js' || pathname === '/manifest.webmanifest') {
      reply.header('cache-control', REVALIDATE);
    } else {
      reply.header('cache-control', SHORT);
    }
    if (page) {
      // The page itself (at / or an app route): the policy that keeps injected markup inert.
      reply.header('content-security-policy', policy);
      reply.header('x-frame-options', 'DENY');
    }
  };

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per file found now: nothing written later is served, and no path is guessed.
    wildcard: false,
    globIgnore: ['**/*.br', '**/*.gz', '**/.*'],
    preCompressed: true,
    cacheControl: false,
    dotfiles: 'ignore',
    setHeaders,
  });

  app.get('/*', async (request, reply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    const last = pathname.split('/').at(-1) ?? '';
    // API paths keep their JSON 404; a missing file is a 404, not the page in its place.
    if (/^\/(v1|api)(\/|$)/.test(pathname) || last.includes('.')) {
      throw new NotFoundError(`Invalid URL (${request.method} ${pathname})`);
    }
    return reply.sendFile('index.html');
  });
  return true;
}

/** The page itself: `/`, index.html, or an app route (its last segment has no dot: not a file). */
function isPage(pathname: string): boolean {
  return pathname.endsWith('.html') || !(pathname.split('/').at(-1) ?? '').includes('.');
}

/**
 * Scripts only from this origin, plus the page's own inline scripts by hash (the tiny one that
 * sets the theme before the first paint). Styles may be inline: KaTeX positions math with style
 * attributes, and styles cannot run code.
 */
export function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
    .map((match) => match[1] ?? '')
    .filter((body) => body.trim() !== '')
    .map((body) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.map((hash) => ` ${hash}`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
