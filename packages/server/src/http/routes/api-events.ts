// `GET /api/events`: the signed-in person's changes as server-sent events, so their other tabs
// and devices update their history and open chat without a reload (`chat.created`,
// `chat.updated`, `chat.deleted`, `preferences.updated`). Events come from the event bus, so a
// change made through any node reaches a page connected to any other. The stream opens with
// `ready` once it is live; a `ping` every 25 seconds keeps proxies from closing it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountEvent } from '../../platform/account-events.js';
import type { AccountServices } from '../../platform/account-services.js';
import { requireSession } from '../auth.js';
import { SseWriter } from '../sse.js';
import { toWirePreferences } from '../to-wire-account.js';
import { toWireChatSummary } from '../to-wire-chat-history.js';

const PING_INTERVAL_MS = 25_000;

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
    case 'preferences.updated':
      return {
        event: event.type,
        data: { preferences: toWirePreferences(event.preferences), origin: event.origin },
      };
  }
}

export function registerApiEvents(app: FastifyInstance, { events }: Pick<AccountServices, 'events'>): void {
  const open = new Set<SseWriter>();
  // Open streams would hold the server's shutdown: they end first (pages reconnect elsewhere).
  app.addHook('preClose', async () => {
    for (const sse of open) sse.end();
  });

  app.get('/api/events', async (request, reply) => {
    const { session } = requireSession(request);
    let sse: SseWriter | undefined;
    const pending: AccountEvent[] = [];
    const unsubscribe = await events.subscribe(session.accountId, (event) => {
      if (!sse) pending.push(event);
      else void send(sse, event);
    });
    reply.hijack();
    const stream = new SseWriter(reply.raw, {
      headers: { 'x-request-id': String(request.id), 'cache-control': 'no-store' },
    });
    open.add(stream);
    const ping = setInterval(() => void stream.send({}, { event: 'ping' }), PING_INTERVAL_MS);
    reply.raw.once('close', () => {
      clearInterval(ping);
      unsubscribe();
      open.delete(stream);
    });
    await stream.send({}, { event: 'ready' });
    sse = stream;
    for (const event of pending.splice(0)) await send(stream, event);
  });
}

function send(sse: SseWriter, event: AccountEvent): Promise<void> {
  const wire = toWireAccountEvent(event);
  return sse.send(wire.data, { event: wire.event });
}
