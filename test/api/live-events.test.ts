// `GET /api/events` over real HTTP: a person's other devices hear, as it happens, that a chat was
// created, renamed, continued or deleted, or that the preferences changed; nobody else hears any
// of it, and a visitor without a session gets a 401.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';

interface StreamedEvent {
  readonly event: string;
  readonly data: Json;
}

/** An open event stream, read event by event (pings skipped). */
class EventStream {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    this.reader = body.getReader();
  }

  static async open(origin: string, visitor: Visitor): Promise<EventStream> {
    const abort = new AbortController();
    const response = await fetch(`${origin}/api/events`, {
      headers: { cookie: visitor.cookie ?? '', accept: 'text/event-stream' },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = new EventStream(response.body!, abort);
    expect((await stream.next()).event).toBe('ready');
    return stream;
  }

  async next(): Promise<StreamedEvent> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
        if (event === 'ping') continue;
        return { event, data: JSON.parse(data) };
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error('the event stream ended');
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

describe('live events of a person’s chats', () => {
  let server: TestServer;
  let origin: string;
  let laptop: Visitor;
  let phone: Visitor;
  let bob: Visitor;

  beforeAll(async () => {
    server = await startApiServer();
    origin = server.baseURL.replace(/\/v1$/, '');
    laptop = new Visitor(origin);
    phone = new Visitor(origin);
    bob = new Visitor(origin);
    await laptop.signUp('Ada', 'ada@example.com');
    // The same person on a second device: a session of its own.
    expect((await phone.signIn('ada@example.com')).status).toBe(200);
    await bob.signUp('Bob', 'bob@example.com');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a visitor without a session', async () => {
    expectEnvelope(await new Visitor(origin).call('GET', '/api/events'), 401, 'not_signed_in');
  });

  it('tells the other device of each change, naming the tab that made it; tells nobody else', async () => {
    const onPhone = await EventStream.open(origin, phone);
    const onBobs = await EventStream.open(origin, bob);
    try {
      const tab = { 'x-atelier-tab': 'laptop-tab-1' };
      const created = await laptop.call('POST', '/api/chats', {
        body: { title: 'Tides', messages: [] },
        headers: tab,
      });
      expect(await onPhone.next()).toEqual({
        event: 'chat.created',
        data: {
          chat: expect.objectContaining({ id: created.body.id, title: 'Tides', temporary: false }),
          origin: 'laptop-tab-1',
        },
      });

      await laptop.call('PATCH', `/api/chats/${created.body.id}`, { body: { title: 'Ocean tides' } });
      expect(await onPhone.next()).toMatchObject({
        event: 'chat.updated',
        data: { chat: { id: created.body.id, title: 'Ocean tides' }, changes: ['title'], origin: null },
      });

      // Continued: the question goes in at once, the answer when its run ends.
      await laptop.call('POST', `/api/chats/${created.body.id}/messages`, {
        body: { id: 'q1', parent_id: null, content: 'Why two a day?', answer_id: 'a1', model: MODEL },
      });
      expect(await onPhone.next()).toMatchObject({
        event: 'chat.updated',
        data: { chat: { id: created.body.id }, changes: ['messages'] },
      });
      expect(await onPhone.next()).toMatchObject({
        event: 'chat.updated',
        data: { chat: { id: created.body.id }, changes: ['messages'], origin: null },
      });
      const answered = (await laptop.call('GET', `/api/chats/${created.body.id}`)).body;
      expect(answered.messages.find((message: Json) => message.id === 'a1').status).toBe('complete');

      await laptop.call('PATCH', '/api/account/preferences', { body: { theme: 'dark' } });
      expect(await onPhone.next()).toMatchObject({
        event: 'preferences.updated',
        data: { preferences: { theme: 'dark' } },
      });

      await laptop.call('DELETE', `/api/chats/${created.body.id}`, { headers: tab });
      expect(await onPhone.next()).toEqual({
        event: 'chat.deleted',
        data: { id: created.body.id, origin: 'laptop-tab-1' },
      });

      // Bob heard none of Ada's: the first event on his stream is his own chat.
      const bobs = await bob.call('POST', '/api/chats', { body: { title: 'Bob’s', messages: [] } });
      expect(await onBobs.next()).toMatchObject({
        event: 'chat.created',
        data: { chat: { id: bobs.body.id } },
      });
    } finally {
      onPhone.close();
      onBobs.close();
    }
  });
});
