// Reads an Assistants stream (server-sent events with names: `event: thread.run.step.delta` then
// `data: {…}`) into typed events as they arrive, ending at `event: done`.
import type { StreamEvent } from './playground-types';

export async function* readStreamEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // stream: a character split across two chunks is decoded once both have arrived.
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const match = /\r?\n\r?\n/.exec(buffer);
        if (!match) break;
        const event = parseBlock(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
        if (event) {
          yield event;
          if (event.event === 'done') return;
        }
      }
    }
    const rest = parseBlock(buffer + decoder.decode());
    if (rest) yield rest;
  } finally {
    reader.releaseLock();
  }
}

/** One SSE block → its event; comments and blocks without data are skipped. */
export function parseBlock(block: string): StreamEvent | null {
  let name = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  if (text === '[DONE]') return { event: 'done', data: '[DONE]' };
  try {
    return { event: name, data: JSON.parse(text) as unknown };
  } catch {
    return { event: 'error', data: { message: `unreadable event data: ${text.slice(0, 80)}` } };
  }
}
