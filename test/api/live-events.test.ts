// `GET /api/events` over real HTTP: a person's other devices hear, as it happens, that a chat was
// created, renamed, continued (the answer's words as they are written) or deleted, or that the
// preferences changed; nobody else hears any of it, and a visitor without a session gets a 401.
// A stream ends with its session: at sign-out, when the account is deleted, when it expires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
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

  /** Reads until the server ends the stream (failing after `timeoutMs`); returns what came. */
  async rest(timeoutMs: number): Promise<StreamedEvent[]> {
    const events: StreamedEvent[] = [];
    const timer = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      for (;;) events.push(await this.next());
    } catch (error) {
      if (this.abort.signal.aborted) throw new Error(`the stream was still open after ${timeoutMs} ms`);
      if ((error as Error).message !== 'the event stream ended') throw error;
      return events;
    } finally {
      clearTimeout(timer);
    }
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
  /** A model that writes a word every 100 ms. */
  let writer: ScriptedUpstream;

  beforeAll(async () => {
    writer = await startScriptedUpstream({ model: 'writer', wordDelayMs: 100 });
    server = await startApiServer({
      env: {
        ATELIER_UPSTREAMS: JSON.stringify([{ name: 'slow', base_url: writer.baseUrl, prefix: 'slow/' }]),
      },
    });
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
    await writer?.close();
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
      // The answer's words as they are written, each batch at the offset where the last ended.
      const deltas: Json[] = [];
      for (;;) {
        const event = await onPhone.next();
        if (event.event !== 'chat.answer.delta') {
          expect(event).toMatchObject({
            event: 'chat.updated',
            data: { chat: { id: created.body.id }, changes: ['messages'], origin: null },
          });
          break;
        }
        deltas.push(event.data);
      }
      expect(deltas.length).toBeGreaterThan(0);
      let offset = 0;
      for (const delta of deltas) {
        expect(delta).toMatchObject({ chat_id: created.body.id, message_id: 'a1', offset, origin: null });
        offset += delta.delta.length;
      }
      const answered = (await laptop.call('GET', `/api/chats/${created.body.id}`)).body;
      const answer = answered.messages.find((message: Json) => message.id === 'a1');
      expect(answer.status).toBe('complete');
      expect(
        deltas
          .map((delta) => delta.delta)
          .join('')
          .trim(),
      ).toBe(answer.content);

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

  it('a page that comes in the middle of an answer reads its text so far, then follows it', async () => {
    const answer = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    writer.script('Count slowly', [{ text: answer }]);
    const chat = await laptop.call('POST', '/api/chats', {
      body: { message: { id: 'q1', content: 'Count slowly', answer_id: 'a1', model: 'slow/writer' } },
    });
    expect(chat.status).toBe(201);
    const read = async () =>
      (await phone.call('GET', `/api/chats/${chat.body.chat.id}`)).body.messages.find(
        (message: Json) => message.id === 'a1',
      );
    // About two seconds in, the phone opens the chat: the answer so far is there.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const onPhone = await EventStream.open(origin, phone);
    try {
      const writing = await read();
      expect(writing.status).toBe('in_progress');
      expect(writing.content.length).toBeGreaterThan(0);
      expect(answer.startsWith(writing.content)).toBe(true);
      expect(writing.parts).toEqual([{ type: 'text', text: { value: writing.content, annotations: [] } }]);
      // From there, as the page does: each batch goes at its offset; a gap (the text read was
      // saved up to a second before) means reading the chat again.
      let text = writing.content as string;
      for (;;) {
        const event = await onPhone.next();
        if (event.event !== 'chat.answer.delta') {
          expect(event).toMatchObject({ event: 'chat.updated', data: { changes: ['messages'] } });
          break;
        }
        if (event.data.offset > text.length) {
          const again = await read();
          if (again.content.length > text.length) text = again.content;
        }
        if (event.data.offset <= text.length) text = text.slice(0, event.data.offset) + event.data.delta;
        expect(answer.startsWith(text)).toBe(true);
      }
      expect(text).toBe(answer);
      expect(await read()).toMatchObject({ status: 'complete', content: answer });
    } finally {
      onPhone.close();
    }
  });

  describe('a stream ends with its session', () => {
    it('at sign-out: that session’s streams end at once, the other device’s go on', async () => {
      const desk = new Visitor(origin);
      expect((await desk.signIn('ada@example.com')).status).toBe(200);
      const onDesk = await EventStream.open(origin, desk);
      const onPhone = await EventStream.open(origin, phone);
      try {
        const started = Date.now();
        expect((await desk.call('POST', '/api/auth/sign-out')).status).toBe(204);
        expect(await onDesk.rest(3000)).toEqual([{ event: 'session.ended', data: {} }]);
        expect(Date.now() - started).toBeLessThan(3000);
        // Signed out: it cannot open another.
        expectEnvelope(await desk.call('GET', '/api/events'), 401, 'not_signed_in');
        // The phone's session is another one: its stream still hears Ada's changes.
        const chat = await laptop.call('POST', '/api/chats', { body: { title: 'Still here', messages: [] } });
        expect(await onPhone.next()).toMatchObject({
          event: 'chat.created',
          data: { chat: { id: chat.body.id } },
        });
      } finally {
        onDesk.close();
        onPhone.close();
      }
    });

    it('when it expires', async () => {
      const tablet = new Visitor(origin);
      expect((await tablet.signIn('ada@example.com')).status).toBe(200);
      // The session has two seconds left (as if unused for the whole session lifetime).
      const { repositories } = server.server.storage;
      const secret = decodeURIComponent(tablet.cookie!.split('=')[1]!);
      const now = Math.floor(Date.now() / 1000);
      const found = await repositories.sessions.findActiveBySecret(secret, now);
      await repositories.sessions.touch(found!.session.id, { lastSeenAt: now, expiresAt: now + 2 });
      const onTablet = await EventStream.open(origin, tablet);
      try {
        expect(await onTablet.rest(6000)).toEqual([{ event: 'session.ended', data: {} }]);
        expectEnvelope(await tablet.call('GET', '/api/events'), 401, 'not_signed_in');
      } finally {
        onTablet.close();
      }
    });

    it('when the account is deleted, on every device', async () => {
      const cleo = new Visitor(origin);
      const cleosPhone = new Visitor(origin);
      await cleo.signUp('Cleo', 'cleo@example.com');
      expect((await cleosPhone.signIn('cleo@example.com')).status).toBe(200);
      const onCleosPhone = await EventStream.open(origin, cleosPhone);
      try {
        const deleted = await cleo.call('DELETE', '/api/account', {
          body: { password: 'correct horse battery' },
        });
        expect(deleted.status).toBe(204);
        expect(await onCleosPhone.rest(3000)).toEqual([{ event: 'session.ended', data: {} }]);
      } finally {
        onCleosPhone.close();
      }
    });
  });
});
