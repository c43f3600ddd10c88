// How an HTTP/1.1 response is framed, read from its bytes: the head (status line and header
// fields) and where a chunked body ends (RFC 9112). The upstream client uses it so that a chunked
// body can be relayed with the upstream's own chunk framing, byte for byte, without being
// decoded and re-encoded; its content pieces are still found on the way.

/** The upstream broke the protocol: its answer cannot be read. */
export class HttpFramingError extends Error {
  readonly code = 'UPSTREAM_BAD_HTTP';
  constructor(message: string) {
    super(`the upstream's answer is not valid HTTP/1.1: ${message}`);
    this.name = 'HttpFramingError';
  }
}

export interface ResponseHead {
  readonly status: number;
  /** Name, value, name, value… as sent (names in their own case). */
  readonly rawHeaders: string[];
  /** Index just past the head's blank line. */
  readonly end: number;
  /** How the body ends: no body; after `length` bytes; at the last chunk; when the connection closes. */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  readonly length: number;
  /** The connection may carry another request after this answer. */
  readonly keepAlive: boolean;
  /** How long the upstream keeps an idle connection open, when it said (`keep-alive: timeout=N`). */
  readonly keepAliveMs: number | undefined;
}

/** Longest head accepted (status line and all header fields). */
export const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^\d{1,15}$/;

/** Bytes a header value may not hold (what Node's own check refuses: controls other than tab). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The head at the start of `bytes`, or undefined while its end has not arrived. Throws
 * HttpFramingError on anything malformed (and on a head longer than MAX_HEAD_BYTES).
 */
export function readResponseHead(bytes: Buffer): ResponseHead | undefined {
  const blank = bytes.indexOf(HEAD_END);
  if (blank < 0) {
    if (bytes.length > MAX_HEAD_BYTES) throw new HttpFramingError('the head is too long');
    return undefined;
  }
  if (blank > MAX_HEAD_BYTES) throw new HttpFramingError('the head is too long');
  const lines = bytes.toString('latin1', 0, blank).split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine) throw new HttpFramingError(`bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const minor = statusLine[1]!;
  const status = Number(statusLine[2]);
  const rawHeaders: string[] = [];
  let chunked = false;
  let transferEncoding = false;
  let contentLength: string | undefined;
  let close = minor === '0';
  let keepAliveMs: number | undefined;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // No folded lines (obs-fold), no space before the colon, no control bytes in values.
    if (!TOKEN.test(name)) throw new HttpFramingError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    // Node refuses to send such a value on to the client: the answer fails here, cleanly.
    if (BAD_VALUE.test(value)) throw new HttpFramingError(`bad value of ${name}`);
    rawHeaders.push(name, value);
    switch (name.length === 10 || name.length === 14 || name.length === 17 ? name.toLowerCase() : '') {
      case 'transfer-encoding': {
        transferEncoding = true;
        // Only the last coding decides: chunked must be last for the body to end on its own.
        const codings = value.toLowerCase().split(',');
        chunked = codings[codings.length - 1]!.trim() === 'chunked';
        break;
      }
      case 'content-length':
        for (const part of value.split(',')) {
          const length = part.trim();
          if (!DIGITS.test(length) || (contentLength !== undefined && contentLength !== length))
            throw new HttpFramingError(`bad content-length ${JSON.stringify(value.slice(0, 40))}`);
          contentLength = length;
        }
        break;
      case 'connection':
        for (const option of value.toLowerCase().split(',')) if (option.trim() === 'close') close = true;
        break;
      case 'keep-alive': {
        const timeout = /(?:^|[,;\s])timeout=(\d+)/i.exec(value);
        if (timeout) keepAliveMs = Number(timeout[1]) * 1000;
        break;
      }
    }
  }
  let framing: ResponseHead['framing'];
  let length = 0;
  if ((status >= 100 && status < 200) || status === 204 || status === 304) framing = 'none';
  else if (transferEncoding) {
    framing = chunked ? 'chunked' : 'close';
    // Both present: a request-smuggling pattern; read by transfer-encoding, never reuse.
    if (contentLength !== undefined || !chunked) close = true;
  } else if (contentLength !== undefined) {
    framing = 'length';
    length = Number(contentLength);
  } else {
    framing = 'close';
    close = true;
  }
  return { status, rawHeaders, end: blank + 4, framing, length, keepAlive: !close, keepAliveMs };
}

/** What a chunked body hands on: its content, and (when framed) its bytes with their framing. */
export interface ChunkedBodyReceiver {
  /** A piece of the content, framing removed. */
  content(piece: Buffer): void;
  /**
   * Bytes as they came, chunk framing included, up to (not including) the last chunk: the empty
   * chunk and trailer fields that end the body are left for whoever ends the relayed body.
   */
  framed(bytes: Buffer): void;
}

enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

const CR = 0x0d;
const LF = 0x0a;
/** Longest chunk-size line (size and extensions) and trailer section accepted. */
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
/** 12 hex digits: up to 2^48 bytes, exact in a double. */
const MAX_SIZE_DIGITS = 12;

/**
 * Reads a chunked body as it arrives (`feed`). A chunk-size line that a read splits in two is
 * held back until it is whole: only then is it known whether it opens the last chunk.
 */
export class ChunkedBody {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** The start of the size line being read, in the current buffer (-1: it began in an earlier one). */
  private lineStart = 0;
  /** The part of the size line that an earlier buffer ended with (framed mode). */
  private held: Buffer | undefined;
  private readonly receiver: ChunkedBodyReceiver;
  private readonly wantsFramed: boolean;

  constructor({ receiver, framed }: { receiver: ChunkedBodyReceiver; framed: boolean }) {
    this.receiver = receiver;
    this.wantsFramed = framed;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Between two chunks: what follows starts a chunk-size line, and nothing is held. */
  get betweenChunks(): boolean {
    return this.state === State.Size && this.digits === 0 && this.held === undefined;
  }

  /**
   * Reads `bytes` from `start`; returns the index just past the body's end, or -1 when the body
   * goes on in later bytes. Throws HttpFramingError on a malformed body.
   */
  feed(bytes: Buffer, start: number): number {
    const length = bytes.length;
    /** Where the bytes not yet handed on (framed mode) begin. */
    const framedFrom = start;
    /** Where the last chunk began in this buffer; -1: not in this buffer. */
    let lastChunkAt = -1;
    let index = start;
    // A size line begins here, or goes on from the previous buffer.
    this.lineStart = this.state === State.Size && this.digits === 0 ? start : -1;
    while (index < length && this.state !== State.Done) {
      switch (this.state) {
        case State.Data: {
          const end = Math.min(length, index + this.size);
          this.receiver.content(bytes.subarray(index, end));
          this.size -= end - index;
          index = end;
          if (this.size === 0) this.state = State.DataCr;
          break;
        }
        case State.Size: {
          const byte = bytes[index++]!;
          const digit = hexValue(byte);
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new HttpFramingError('chunk size too large');
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) throw new HttpFramingError('bad chunk size');
          else if (byte === CR) this.state = State.SizeLf;
          else if (byte === 0x3b || byte === 0x20 || byte === 0x09) this.state = State.Extension;
          else throw new HttpFramingError('bad chunk size');
          this.lineBytes++;
          break;
        }
        case State.Extension: {
          const byte = bytes[index++]!;
          if (byte === CR) this.state = State.SizeLf;
          else if (byte === LF || byte === 0) throw new HttpFramingError('bad chunk extension');
          if (++this.lineBytes > MAX_LINE_BYTES) throw new HttpFramingError('chunk extension too long');
          break;
        }
        case State.SizeLf: {
          if (bytes[index++] !== LF) throw new HttpFramingError('bad chunk size line');
          if (this.size === 0) {
            // The last chunk: what follows (trailers, blank line) is not handed on.
            lastChunkAt = this.lineStart;
            this.held = undefined;
            this.state = State.TrailerStart;
          } else {
            if (this.held) {
              // The line turned out to open an ordinary chunk: send its first part now.
              if (this.wantsFramed) this.receiver.framed(this.held);
              this.held = undefined;
            }
            this.state = State.Data;
          }
          this.digits = 0;
          this.lineBytes = 0;
          break;
        }
        case State.DataCr:
          if (bytes[index++] !== CR) throw new HttpFramingError('chunk longer than its size');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (bytes[index++] !== LF) throw new HttpFramingError('chunk longer than its size');
          this.state = State.Size;
          this.size = 0;
          this.lineStart = index;
          break;
        case State.TrailerStart:
        case State.Trailer: {
          const byte = bytes[index++]!;
          if (byte === CR) this.state = this.state === State.TrailerStart ? State.FinalLf : State.TrailerLf;
          else if (byte === LF || byte === 0) throw new HttpFramingError('bad trailer');
          else this.state = State.Trailer;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) throw new HttpFramingError('trailers too long');
          break;
        }
        case State.TrailerLf:
          if (bytes[index++] !== LF) throw new HttpFramingError('bad trailer');
          this.state = State.TrailerStart;
          break;
        case State.FinalLf:
          if (bytes[index++] !== LF) throw new HttpFramingError('bad end of body');
          this.state = State.Done;
          break;
      }
    }
    if (this.wantsFramed) {
      if (this.state >= State.TrailerStart) {
        // The last chunk began: hand on what preceded it in this buffer (if it began here).
        if (lastChunkAt > framedFrom) this.receiver.framed(bytes.subarray(framedFrom, lastChunkAt));
      } else if (this.state === State.Size && this.digits === 0) {
        if (length > framedFrom)
          this.receiver.framed(framedFrom === 0 ? bytes : bytes.subarray(framedFrom, length));
      } else if (this.state <= State.SizeLf) {
        // Ends inside a size line: hand on what precedes it, hold the rest until the line is whole.
        const lineStart = this.lineStart >= 0 ? this.lineStart : start;
        if (lineStart > framedFrom) this.receiver.framed(bytes.subarray(framedFrom, lineStart));
        const part = Buffer.from(bytes.subarray(lineStart, length));
        this.held = this.held ? Buffer.concat([this.held, part]) : part;
      } else if (length > framedFrom)
        this.receiver.framed(framedFrom === 0 ? bytes : bytes.subarray(framedFrom, length));
    }
    return this.state === State.Done ? index : -1;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
