import { describe, expect, it } from 'vitest';
import { parseChunk, readSseData } from './chat-completions';

function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

describe('reading a streamed chat completion', () => {
  it('yields each data payload, however the bytes are split', async () => {
    const chunk = JSON.stringify({ choices: [{ index: 0, delta: { content: '파도' } }] });
    const bytes = `data: ${chunk}\n\ndata: [DONE]\n\n`;
    const split = [bytes.slice(0, 17), bytes.slice(17, 40), bytes.slice(40)];
    const seen: string[] = [];
    for await (const data of readSseData(body(...split))) seen.push(data);
    expect(seen).toEqual([chunk, '[DONE]']);
    expect(parseChunk(chunk)).toEqual({ text: '파도', error: null });
  });

  it('reads an error sent after the stream started', () => {
    expect(parseChunk(JSON.stringify({ error: { message: 'The model stopped.' } }))).toEqual({
      text: '',
      error: 'The model stopped.',
    });
    expect(parseChunk('not json')).toEqual({ text: '', error: null });
  });
});
