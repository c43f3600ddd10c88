// Streams engine events as data-only SSE ending in `data: [DONE]`. The first event is awaited
// before the 200 goes out, so request errors (context too long, bad schema) keep their status.
import type { FastifyReply } from 'fastify';
import { toErrorResponse } from './errors.js';
import { SseWriter } from './sse.js';

export async function streamSse<Event, Chunk>({
  reply,
  abort,
  events,
  render,
}: {
  reply: FastifyReply;
  abort: AbortController;
  events: AsyncIterable<Event>;
  render: (events: AsyncIterable<Event>) => AsyncIterable<Chunk>;
}): Promise<void> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  reply.hijack();
  const sse = new SseWriter(reply.raw, { headers: { 'x-request-id': String(reply.request.id) } });
  async function* replay(): AsyncGenerator<Event> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  try {
    for await (const chunk of render(replay())) {
      if (sse.closed) break;
      await sse.send(chunk);
    }
    if (!sse.closed) await sse.send('[DONE]');
  } catch (error) {
    const mapped = toErrorResponse(error);
    if (mapped.internal) reply.request.log.error({ err: error }, 'stream failed');
    await sse.send(mapped.body);
  } finally {
    if (sse.closed) abort.abort();
    await iterator.return?.();
    sse.end();
  }
}
