import { describe, expect, it } from 'vitest';
import { parseBlock, readStreamEvents } from './assistant-stream';

/** A body that arrives in the given pieces, as a network would split it. */
function body(pieces: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const events = [];
  for await (const event of readStreamEvents(stream)) events.push(event);
  return events;
}

describe('readStreamEvents', () => {
  it('reads named events split anywhere across chunks, multi-byte characters included, up to done', async () => {
    const text = [
      'event: thread.run.created\ndata: {"id":"run_1","status":"queued"}\n\n',
      'event: thread.message.delta\ndata: {"id":"msg_1","delta":{"content":[{"index":0,"type":"text","text":{"value":"안녕"}}]}}\n\n',
      'event: done\ndata: [DONE]\n\n',
      'event: thread.run.completed\ndata: {"id":"run_1"}\n\n',
    ].join('');
    const bytes = new TextEncoder().encode(text);
    // Split every 7 bytes: through event names, JSON and the Korean characters' UTF-8 bytes.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 7) controller.enqueue(bytes.slice(at, at + 7));
        controller.close();
      },
    });
    const events = await collect(chunked);
    expect(events.map((event) => event.event)).toEqual([
      'thread.run.created',
      'thread.message.delta',
      'done',
    ]);
    expect(events[0]?.data).toEqual({ id: 'run_1', status: 'queued' });
    expect(JSON.stringify(events[1]?.data)).toContain('안녕');
  });

  it('accepts CRLF framing and a last event without its blank line', async () => {
    const events = await collect(
      body([
        'event: thread.run.queued\r\ndata: {"id":"run_2"}\r\n\r\n',
        'event: thread.run.in_progress\ndata: {"id":"run_2"}',
      ]),
    );
    expect(events.map((event) => event.event)).toEqual(['thread.run.queued', 'thread.run.in_progress']);
  });

  it('turns an error event into data with its message, and unreadable data into an error', () => {
    expect(parseBlock('event: error\ndata: {"message":"boom","code":"server_error"}')).toEqual({
      event: 'error',
      data: { message: 'boom', code: 'server_error' },
    });
    expect(parseBlock('event: thread.run.created\ndata: {not json')?.event).toBe('error');
    expect(parseBlock(': a comment only')).toBeNull();
  });
});
