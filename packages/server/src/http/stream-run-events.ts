// Streams a run as the official Assistants SSE events (`event: thread.run.created` …), ending
// when the run waits for the client or is over, with `event: done` / `data: [DONE]`. The run goes
// on if the client leaves; the stream is only a window on it.
import type { AssistantStreamEvent } from '@atelier/protocol';
import type { FastifyReply } from 'fastify';
import { type RunEventSubscription, STREAM_END_STATUSES } from '../engine/run-events.js';
import type { AssistantsVersion } from './assistants-version.js';
import { toErrorResponse } from './errors.js';
import { SseWriter } from './sse.js';
import { toWireRunEvent } from './to-wire-run-event.js';

export async function streamRunEvents({
  reply,
  version,
  events,
  prelude = [],
}: {
  reply: FastifyReply;
  version: AssistantsVersion;
  events: RunEventSubscription;
  /** Events written before the run's own (e.g. `thread.created`, or the web app's `chat.turn`). */
  prelude?: readonly AssistantStreamEvent[] | readonly { readonly event: string; readonly data: unknown }[];
}): Promise<void> {
  reply.hijack();
  const sse = new SseWriter(reply.raw, { headers: { 'x-request-id': String(reply.request.id) } });
  reply.raw.once('close', () => events.close());
  try {
    for (const event of prelude) await sse.send(event.data, { event: event.event });
    for await (const event of events) {
      if (sse.closed) break;
      const wire = toWireRunEvent(event, version);
      await sse.send(wire.data, { event: wire.event });
      if (event.type === 'run' && event.event !== 'created' && STREAM_END_STATUSES.includes(event.run.status))
        break;
    }
    if (!sse.closed) await sse.send('[DONE]', { event: 'done' });
  } catch (error) {
    const mapped = toErrorResponse(error);
    if (mapped.internal) reply.request.log.error({ err: error }, 'run stream failed');
    await sse.send(mapped.body.error, { event: 'error' });
  } finally {
    events.close();
    sse.end();
  }
}
