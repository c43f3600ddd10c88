// Reads a server-sent events body into its events: the `event:` name (null when there is none)
// and the `data:` payload (its lines joined), as the chat's answer streams send them.

export interface SseEvent {
  readonly event: string | null;
  readonly data: string;
}

export async function* readSseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // stream: a character split across two chunks is decoded once both arrived.
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const match = /\r?\n\r?\n/.exec(buffer);
        if (!match) break;
        const block = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const event = sseEventOf(block);
        if (event) yield event;
      }
    }
    buffer += decoder.decode();
    const rest = sseEventOf(buffer);
    if (rest) yield rest;
  } finally {
    reader.releaseLock();
  }
}

/** One SSE block → its event; comments and blocks without data give null. */
export function sseEventOf(block: string): SseEvent | null {
  const lines = block.split(/\r?\n/);
  const data = lines
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).replace(/^ /, ''));
  if (data.length === 0) return null;
  const name = lines.find((line) => line.startsWith('event:'));
  return { event: name ? name.slice(6).trim() : null, data: data.join('\n') };
}
