// Reads a server-sent events body into its `data:` payloads (each event's data lines joined),
// as the chat completions stream sends them.

export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
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
        const data = dataOf(block);
        if (data !== null) yield data;
      }
    }
    buffer += decoder.decode();
    const rest = dataOf(buffer);
    if (rest !== null) yield rest;
  } finally {
    reader.releaseLock();
  }
}

function dataOf(block: string): string | null {
  const lines = block
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).replace(/^ /, ''));
  return lines.length > 0 ? lines.join('\n') : null;
}
