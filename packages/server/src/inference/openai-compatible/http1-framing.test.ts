import { describe, expect, it } from 'vitest';
import { ChunkedBody, HttpFramingError, readResponseHead } from './http1-framing.js';

const head = (text: string) => readResponseHead(Buffer.from(text, 'latin1'));

describe('readResponseHead', () => {
  it('reads status, header fields as sent, and where the head ends', () => {
    const text =
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Extra:  a b \r\n\r\nbody';
    expect(head(text)).toEqual({
      status: 200,
      rawHeaders: ['Content-Type', 'text/event-stream', 'Transfer-Encoding', 'chunked', 'X-Extra', 'a b'],
      end: text.indexOf('body'),
      framing: 'chunked',
      length: 0,
      keepAlive: true,
      keepAliveMs: undefined,
    });
    expect(head('HTTP/1.1 200 OK\r\ncontent-length: 12\r\nkeep-alive: timeout=5\r\n')).toBeUndefined();
  });

  it('frames the body as RFC 9112 says, and says when the connection cannot be reused', () => {
    const framing = (text: string) => {
      const read = head(`${text}\r\n\r\n`)!;
      return [read.framing, read.length, read.keepAlive];
    };
    expect(framing('HTTP/1.1 200 OK\r\ncontent-length: 12')).toEqual(['length', 12, true]);
    expect(framing('HTTP/1.1 200 OK\r\ncontent-length: 7, 7')).toEqual(['length', 7, true]);
    expect(framing('HTTP/1.1 204 No Content')).toEqual(['none', 0, true]);
    expect(framing('HTTP/1.1 200 OK')).toEqual(['close', 0, false]);
    expect(framing('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip')).toEqual(['close', 0, false]);
    expect(framing('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3')).toEqual([
      'chunked',
      0,
      false,
    ]);
    expect(framing('HTTP/1.1 200 OK\r\ncontent-length: 1\r\nConnection: Close')).toEqual([
      'length',
      1,
      false,
    ]);
    expect(framing('HTTP/1.0 200 OK\r\ncontent-length: 1')).toEqual(['length', 1, false]);
    expect(head('HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\n\r\n')?.keepAliveMs).toBe(5000);
  });

  it('refuses what cannot be read safely', () => {
    for (const bad of [
      'HTTP/2 200 OK',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 200 OK\r\n folded: line',
      'HTTP/1.1 200 OK\r\nname : value',
      'HTTP/1.1 200 OK\r\nno colon',
      'HTTP/1.1 200 OK\r\ncontent-length: 1, 2',
      'HTTP/1.1 200 OK\r\ncontent-length: -1',
      // Control bytes Node would refuse to write on to the client (only tab is allowed).
      'HTTP/1.1 200 OK\r\nx-odd: a\x01b',
      'HTTP/1.1 200 OK\r\nx-odd: a\x7fb',
      'HTTP/1.1 200 OK\r\nx-odd: a\0b',
    ]) {
      expect(() => head(`${bad}\r\n\r\n`), bad).toThrow(HttpFramingError);
    }
    expect(() => head(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(70_000)}`)).toThrow(/too long/);
    // A tab and bytes above 0x7f (read as latin1) are fine, as Node itself sends them.
    expect(() => head('HTTP/1.1 200 OK\r\nx-ok: a\tb\xe9\r\n\r\n')).not.toThrow();
  });
});

/** Feeds `wire` cut at `cuts`; what came out, and where the body ended (in `wire`). */
function read(wire: Buffer, cuts: number[], framed = true) {
  const content: Buffer[] = [];
  const forwarded: Buffer[] = [];
  const body = new ChunkedBody({
    receiver: {
      content: (piece) => content.push(Buffer.from(piece)),
      framed: (bytes) => forwarded.push(Buffer.from(bytes)),
    },
    framed,
  });
  let end = -1;
  let from = 0;
  for (const cut of [...cuts, wire.length]) {
    const piece = wire.subarray(from, cut);
    const at = body.feed(piece, 0);
    if (at >= 0) {
      end = from + at;
      break;
    }
    from = cut;
  }
  return { content: Buffer.concat(content).toString(), forwarded: Buffer.concat(forwarded).toString(), end };
}

describe('ChunkedBody', () => {
  const events = ['data: {"a":1}\n\n', 'data: {"b":"two"}\n\n', `data: ${'x'.repeat(300)}\n\n`];
  const chunks = events.map((event) => `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`).join('');
  const wire = Buffer.from(`${chunks}0\r\nx-trailer: 1\r\n\r\nNEXT`);

  it('hands on the content, the framed bytes up to the last chunk, and where the body ends, however it is cut', () => {
    const expected = { content: events.join(''), forwarded: chunks, end: wire.length - 'NEXT'.length };
    expect(read(wire, [])).toEqual(expected);
    for (let first = 1; first < wire.length; first++) {
      expect(read(wire, [first]), `cut at ${first}`).toEqual(expected);
      for (let second = first + 1; second < wire.length; second += 7) {
        expect(read(wire, [first, second]), `cut at ${first}, ${second}`).toEqual(expected);
      }
    }
  });

  it('keeps chunk extensions and leading zeros in the framed bytes', () => {
    const odd = Buffer.from('000a;name=value\r\n0123456789\r\n00\r\n\r\n');
    expect(read(odd, [3])).toEqual({
      content: '0123456789',
      forwarded: '000a;name=value\r\n0123456789\r\n',
      end: odd.length,
    });
    expect(read(odd, [3], false).forwarded).toBe('');
  });

  it('refuses a malformed body', () => {
    for (const bad of [
      'x\r\n',
      '5\r\nabcdefg\r\n',
      '5\nabcde\r\n',
      `${'f'.repeat(13)}\r\n`,
      '3\r\nabc\r\n0\r\nbad\n',
    ]) {
      expect(() => read(Buffer.from(bad), []), bad).toThrow(HttpFramingError);
    }
  });
});
