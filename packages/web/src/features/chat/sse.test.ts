import { describe, expect, it } from 'vitest';
import { readSseEvents, type SseEvent } from './sse';

function streamOf(...pieces: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces)
        controller.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece);
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  return (await events(stream)).map((event) => event.data);
}

async function events(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of readSseEvents(stream)) out.push(event);
  return out;
}

describe('reading server-sent events', () => {
  it('yields each event’s data, however the bytes are cut', async () => {
    expect(await collect(streamOf('data: {"a":1}\n\nda', 'ta: {"b":2}\n', '\ndata: [DONE]\n\n'))).toEqual([
      '{"a":1}',
      '{"b":2}',
      '[DONE]',
    ]);
  });

  it('keeps a character split between two chunks whole', async () => {
    const bytes = new TextEncoder().encode('data: 안녕\n\n');
    expect(await collect(streamOf(bytes.slice(0, 8), bytes.slice(8)))).toEqual(['안녕']);
  });

  it('joins multi-line data, accepts CRLF, skips comments, and names events', async () => {
    expect(
      await events(streamOf(': ping\r\n\r\nevent: x\r\ndata: one\r\ndata: two\r\n\r\ndata: tail')),
    ).toEqual([
      { event: 'x', data: 'one\ntwo' },
      { event: null, data: 'tail' },
    ]);
  });
});
