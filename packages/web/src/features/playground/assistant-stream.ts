// Reads an Assistants stream (server-sent events with names: `event: thread.run.step.delta` then
// `data: {…}`) into typed events as they arrive, ending at `event: done`.
import { readSseEvents, type SseEvent, sseEventOf } from '../chat/sse';
import type { StreamEvent } from './playground-types';

export async function* readStreamEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const sse of readSseEvents(body)) {
    const event = toStreamEvent(sse);
    yield event;
    if (event.event === 'done') return;
  }
}

/** One SSE block → its event; comments and blocks without data are skipped. */
export function parseBlock(block: string): StreamEvent | null {
  const sse = sseEventOf(block);
  return sse ? toStreamEvent(sse) : null;
}

/** An SSE event as the playground reads it: named (`message` by default), its data parsed. */
function toStreamEvent({ event, data }: SseEvent): StreamEvent {
  if (data === '[DONE]') return { event: 'done', data: '[DONE]' };
  try {
    return { event: event ?? 'message', data: JSON.parse(data) as unknown };
  } catch {
    return { event: 'error', data: { message: `unreadable event data: ${data.slice(0, 80)}` } };
  }
}
