// `GET /api/events`: the signed-in person's changes as server-sent events, so their other tabs
// and devices update their history and open chat without a reload (`chat.created`,
// `chat.updated`, `chat.deleted`, `preferences.updated`), and show an answer written elsewhere as
// it grows (`chat.answer.delta`). Events come from the event bus, so a change made through any
// node reaches a page connected to any other. The stream opens with `ready` once it is live; a
// `ping` every 25 seconds keeps proxies from closing it.
//
// A stream lives only as long as its session: it ends (after `session.ended`) at once when the
// session is ended (sign-out, the account deleted or all its sessions ended, on any node), when
// the session expires, and, at the latest SESSION_RECHECK_MS after, when the session is gone for
// any other reason (removed from the database).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountEvent } from '../../platform/account-events.js';
import type { AccountServices } from '../../platform/account-services.js';
import { requireSession } from '../auth.js';
import { readSessionSecret } from '../session-cookie.js';
import { SseWriter } from '../sse.js';
import { toWirePreferences } from '../to-wire-account.js';
import { toWireChatSummary } from '../to-wire-chat-history.js';

const PING_INTERVAL_MS = 25_000;
/** How often an open stream asks whether its session still exists. */
const SESSION_RECHECK_MS = 30_000;

/** The tab a request came from (`X-Atelier-Tab`), echoed in the events it causes. */
export function tabOrigin(request: FastifyRequest): string | null {
  const value = request.headers['x-atelier-tab'];
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}

export function toWireAccountEvent(event: AccountEvent): { event: string; data: unknown } {
  switch (event.type) {
    case 'chat.created':
      return { event: event.type, data: { chat: toWireChatSummary(event.chat), origin: event.origin } };
    case 'chat.updated':
      return {
        event: event.type,
        data: { chat: toWireChatSummary(event.chat), changes: event.changes, origin: event.origin },
      };
    case 'chat.deleted':
      return { event: event.type, data: { id: event.chatId, origin: event.origin } };
    case 'chat.answer.delta':
      return {
        event: event.type,
        data: {
          chat_id: event.chatId,
          message_id: event.messageId,
          offset: event.offset,
          delta: event.text,
          origin: event.origin,
        },
      };
    case 'preferences.updated':
      return {
        event: event.type,
        data: { preferences: toWirePreferences(event.preferences), origin: event.origin },
      };
    case 'session.ended':
      return { event: event.type, data: {} };
  }
}

export function registerApiEvents(
  app: FastifyInstance,
  { events, sessions }: Pick<AccountServices, 'events' | 'sessions'>,
): void {
  const open = new Set<SseWriter>();
  // Open streams would hold the server's shutdown: they end first (pages reconnect elsewhere).
  app.addHook('preClose', async () => {
    for (const sse of open) sse.end();
  });

  app.get('/api/events', async (request, reply) => {
    const { session } = requireSession(request);
    const secret = readSessionSecret(request) ?? '';
    let sse: SseWriter | undefined;
    let ended = false;
    const pending: AccountEvent[] = [];
    /** The session is over: say so, and end the stream (the page shows the sign-in page). */
    const endSession = () => {
      if (ended) return;
      ended = true;
      if (!sse) return;
      const stream = sse;
      void send(stream, { type: 'session.ended', sessionId: session.id }).finally(() => stream.end());
    };
    // A client that leaves while the subscription is made (a round trip with Redis) is seen too.
    let closed = false;
    reply.raw.once('close', () => {
      closed = true;
    });
    const unsubscribe = await events.subscribe(
      session.accountId,
      (event) => {
        if (event.type === 'session.ended') {
          if (event.sessionId === null || event.sessionId === session.id) endSession();
          return;
        }
        if (ended) return;
        if (!sse) pending.push(event);
        else void send(sse, event);
      },
      { sessionId: session.id },
    );
    reply.hijack();
    if (closed || reply.raw.destroyed) {
      unsubscribe();
      return;
    }
    const stream = new SseWriter(reply.raw, {
      headers: { 'x-request-id': String(request.id), 'cache-control': 'no-store' },
    });
    open.add(stream);
    const ping = setInterval(() => void stream.send({}, { event: 'ping' }), PING_INTERVAL_MS);
    // At the session's expiry (later, if it was used meanwhile) and every SESSION_RECHECK_MS.
    let expiry: ReturnType<typeof setTimeout> | undefined;
    const recheck = async () => {
      clearTimeout(expiry);
      if (ended || closed) return;
      const current = await sessions.check(secret).catch(() => 'unknown' as const);
      // A database that did not answer: the next check decides.
      if (current === 'unknown' || closed) return;
      if (!current || current.id !== session.id) {
        endSession();
        return;
      }
      expiry = setTimeout(() => void recheck(), untilExpiry(current.expiresAt));
    };
    const recheckTimer = setInterval(() => void recheck(), SESSION_RECHECK_MS);
    reply.raw.once('close', () => {
      closed = true;
      clearInterval(ping);
      clearInterval(recheckTimer);
      clearTimeout(expiry);
      unsubscribe();
      open.delete(stream);
    });
    await stream.send({}, { event: 'ready' });
    sse = stream;
    for (const event of pending.splice(0)) await send(stream, event);
    // Ended before the stream was ready (or while the request was on its way): it says so now.
    if (ended) {
      ended = false;
      endSession();
    } else {
      await recheck();
    }
  });
}

/** Milliseconds until a session's expiry (Unix seconds) has passed, within what a timer takes. */
function untilExpiry(expiresAt: number): number {
  return Math.min(Math.max(0, expiresAt * 1000 - Date.now()) + 1000, 2 ** 31 - 1);
}

function send(sse: SseWriter, event: AccountEvent): Promise<void> {
  const wire = toWireAccountEvent(event);
  return sse.send(wire.data, { event: wire.event });
}
