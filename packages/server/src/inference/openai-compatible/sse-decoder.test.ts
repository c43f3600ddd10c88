import { describe, expect, it } from 'vitest';
import { SseDecoder } from './sse-decoder.js';

describe('SseDecoder', () => {
  it('decodes data-only and named events, split anywhere, with any line ending', () => {
    const stream =
      ': comment\r\ndata: {"a":1}\r\n\r\nevent: thread.run.created\ndata: {"b":\ndata: 2}\n\ndata:[DONE]\r\r';
    for (let size = 1; size <= stream.length; size++) {
      const decoder = new SseDecoder();
      const events = [];
      for (let index = 0; index < stream.length; index += size) {
        events.push(...decoder.push(stream.slice(index, index + size)));
      }
      expect(events, `pieces of ${size}`).toEqual([
        { event: undefined, data: '{"a":1}' },
        { event: 'thread.run.created', data: '{"b":\n2}' },
        { event: undefined, data: '[DONE]' },
      ]);
    }
  });

  it('drops an event the stream did not close with a blank line', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: half')).toEqual([]);
    expect(decoder.end()).toEqual([]);
  });
});
