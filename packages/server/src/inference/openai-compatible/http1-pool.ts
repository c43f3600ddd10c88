// Keep-alive HTTP/1.1 connections to one upstream origin, and the exchanges on them: a request
// written in one go, its answer's head read (http1-framing.ts), its body handed to whoever takes
// it. A body is read straight from the socket's 'data' events: relayed with its chunk framing
// (one socket write per read), streamed as a Readable (the engine), or read and dropped (an
// answer that will be retried). This is the whole of the gateway's HTTP client: a general client
// (undici, node:http) parses every body byte and adds event-loop hops per chunk, where a
// pass-through needs neither (see docs/architecture/gateway.md).
import net, { type Socket } from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import type { PassThroughResponse, PassThroughSink } from '../spec.js';
import { ChunkedBody, HttpFramingError, type ResponseHead, readResponseHead } from './http1-framing.js';
import { type NativeRelay, type NativeRelayDone, plainSocketFd, setNodeReading } from './native-relay.js';

/** What one exchange reports: its answer (head read), or why there is none. */
export interface ExchangeHandler {
  answer(response: PassThroughResponse): void;
  /** No answer. `reused`: the request went out on a kept-alive connection. */
  fail(error: Error, details: { readonly reused: boolean }): void;
}

export interface Exchange {
  /** Gives up: out of the line if it waits for a connection, else its connection is closed. */
  cancel(error: Error): void;
}

/** The connection closed before the whole answer came. */
export class UpstreamConnectionClosed extends Error {
  readonly code = 'UPSTREAM_CONNECTION_CLOSED';
  constructor() {
    super('the upstream closed the connection');
    this.name = 'UpstreamConnectionClosed';
  }
}

/** Nothing came from the upstream for longer than the timeout. */
export class UpstreamTimeout extends Error {
  readonly code = 'UPSTREAM_TIMEOUT';
  constructor() {
    super('the upstream did not answer in time');
    this.name = 'UpstreamTimeout';
  }
}

export class Http1Pool {
  private readonly secure: boolean;
  private readonly host: string;
  private readonly port: number;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly ca: string | undefined;
  /** Idle connections, the most recently used last (taken first: least likely to be closed). */
  private readonly idle: Connection[] = [];
  private readonly waiting: PendingExchange[] = [];
  private open = 0;
  private closed = false;
  /** @internal Relays framed bodies natively (plain TCP only: TLS bytes are not the answer's). */
  readonly nativeRelay: NativeRelay | undefined;

  constructor({
    url,
    maxConnections = undefined,
    idleTimeoutMs = 4_000,
    ca = undefined,
    nativeRelay = undefined,
  }: {
    url: URL;
    /** The native relay (native-relay.ts), for chunked bodies relayed with their framing. */
    nativeRelay?: NativeRelay | undefined;
    /** HTTPS: the certificates (PEM) to trust instead of Node's bundled ones. */
    ca?: string | undefined;
    maxConnections?: number | undefined;
    /** Longest an unused connection is kept (less when the upstream says it keeps them less). */
    idleTimeoutMs?: number;
  }) {
    this.secure = url.protocol === 'https:';
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(url.port) || (this.secure ? 443 : 80);
    this.maxConnections = maxConnections ?? Number.POSITIVE_INFINITY;
    this.idleTimeoutMs = idleTimeoutMs;
    this.ca = ca;
    this.nativeRelay = this.secure ? undefined : nativeRelay;
  }

  /**
   * Sends `head` (the request line and header fields, blank line included) and `body` on a free
   * connection, waiting for one when `maxConnections` are busy. `timeoutMs`: the longest silence
   * from the upstream (to connect, to answer, between two reads of the body).
   */
  exchange({
    head,
    body,
    timeoutMs,
    handler,
  }: {
    head: string;
    body: Uint8Array;
    timeoutMs: number;
    handler: ExchangeHandler;
  }): Exchange {
    const pending = new PendingExchange({ pool: this, head, body, timeoutMs, handler });
    if (this.closed) pending.fail(new UpstreamConnectionClosed(), false);
    else this.assign(pending);
    return pending;
  }

  close(): void {
    this.closed = true;
    for (const pending of this.waiting.splice(0)) pending.fail(new UpstreamConnectionClosed(), false);
    for (const connection of this.idle.splice(0)) connection.destroy();
  }

  /** @internal A waiting exchange gave up. */
  leaveLine(pending: PendingExchange): void {
    const index = this.waiting.indexOf(pending);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** @internal An exchange is over: the connection is free again, or gone. */
  release(connection: Connection, reusable: boolean): void {
    if (!reusable || this.closed) {
      connection.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      connection.start(next);
      return;
    }
    // Closed a little before the upstream would close it, so a request never races its close.
    const hint = connection.keepAliveMs;
    const idleMs =
      hint === undefined
        ? this.idleTimeoutMs
        : Math.min(this.idleTimeoutMs, hint > 2_000 ? hint - 1_000 : hint / 2);
    if (idleMs <= 0) connection.destroy();
    else {
      connection.rest(idleMs);
      this.idle.push(connection);
    }
  }

  /** @internal The connection closed (idle, failed or done). */
  forget(connection: Connection): void {
    this.open--;
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    const next = this.waiting.shift();
    if (next) this.assign(next);
  }

  private assign(pending: PendingExchange): void {
    const idle = this.idle.pop();
    if (idle) idle.start(pending);
    else if (this.open < this.maxConnections) {
      this.open++;
      new Connection(this, this.connect()).start(pending);
    } else this.waiting.push(pending);
  }

  private connect(): Socket {
    const socket = this.secure
      ? tls.connect({
          host: this.host,
          port: this.port,
          servername: net.isIP(this.host) ? undefined : this.host,
          ALPNProtocols: ['http/1.1'],
          ...(this.ca ? { ca: this.ca } : {}),
        })
      : net.connect({ host: this.host, port: this.port });
    // Each relayed chunk is its own small write: none may wait for the previous one's ACK.
    socket.setNoDelay(true);
    return socket;
  }
}

/** An exchange from the time it is asked for until its answer's head came. */
class PendingExchange implements Exchange {
  readonly head: string;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
  readonly handler: ExchangeHandler;
  private readonly pool: Http1Pool;
  connection: Connection | undefined;
  settled = false;

  constructor({
    pool,
    head,
    body,
    timeoutMs,
    handler,
  }: {
    pool: Http1Pool;
    head: string;
    body: Uint8Array;
    timeoutMs: number;
    handler: ExchangeHandler;
  }) {
    this.pool = pool;
    this.head = head;
    this.body = body;
    this.timeoutMs = timeoutMs;
    this.handler = handler;
  }

  cancel(error: Error): void {
    // Once answered, the answer's body is the consumer's to destroy.
    if (this.settled) return;
    if (this.connection) this.connection.abandon(error);
    else {
      this.pool.leaveLine(this);
      this.fail(error, false);
    }
  }

  fail(error: Error, reused: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.handler.fail(error, { reused });
  }

  answer(response: PassThroughResponse): void {
    this.settled = true;
    this.handler.answer(response);
  }
}

/** One kept-alive connection; carries one exchange at a time. */
class Connection {
  private readonly pool: Http1Pool;
  private readonly socket: Socket;
  private exchange: PendingExchange | undefined;
  private answer: UpstreamAnswer | undefined;
  /** Bytes of an answer's head that came in pieces. */
  private headBytes: Buffer | undefined;
  /** Exchanges carried before the current one. */
  private uses = 0;
  private gone = false;
  /** From the upstream's `keep-alive: timeout=N`: how long it keeps an unused connection. */
  keepAliveMs: number | undefined;

  constructor(pool: Http1Pool, socket: Socket) {
    this.pool = pool;
    this.socket = socket;
    socket.on('data', (bytes: Buffer) => this.receive(bytes));
    socket.on('end', () => this.ended());
    socket.on('error', (error) => this.failed(error));
    socket.on('close', () => this.failed(new UpstreamConnectionClosed()));
    socket.on('timeout', () =>
      this.failed(this.exchange ? new UpstreamTimeout() : new UpstreamConnectionClosed()),
    );
  }

  start(exchange: PendingExchange): void {
    this.exchange = exchange;
    exchange.connection = this;
    this.socket.setTimeout(exchange.timeoutMs);
    this.socket.cork();
    this.socket.write(exchange.head, 'latin1');
    this.socket.write(exchange.body);
    this.socket.uncork();
  }

  /** Idle in the pool: closed after `idleMs` unused. */
  rest(idleMs: number): void {
    this.socket.setTimeout(idleMs);
  }

  abandon(error: Error): void {
    this.failed(error);
  }

  destroy(): void {
    if (!this.gone) this.failed(new UpstreamConnectionClosed());
  }

  /** @internal The answer's reader fell behind (`paused`) or caught up. */
  flow(paused: boolean, timeoutMs: number): void {
    if (this.gone) return;
    if (paused) {
      // Silence is then the client's doing, not the upstream's.
      this.socket.setTimeout(0);
      this.socket.pause();
    } else {
      this.socket.setTimeout(timeoutMs);
      this.socket.resume();
    }
  }

  /** @internal The native relay reads the socket: Node stops (and so does its silence timeout). */
  detach(): number | undefined {
    const socket = this.socket;
    if (this.gone || socket.isPaused() || socket.readableLength > 0) return undefined;
    const fd = plainSocketFd(socket);
    if (fd === undefined || !setNodeReading(socket, false)) return undefined;
    socket.setTimeout(0);
    return fd;
  }

  /** @internal The native relay is done with the socket (or never began): Node reads it again. */
  attach(timeoutMs: number): void {
    if (this.gone) return;
    setNodeReading(this.socket, true);
    this.socket.setTimeout(timeoutMs);
  }

  get nativeRelay(): NativeRelay | undefined {
    return this.pool.nativeRelay;
  }

  /** @internal The answer's body was read to its end: the exchange is over. */
  finished(reusable: boolean): void {
    this.uses++;
    this.exchange = undefined;
    this.answer = undefined;
    // A reader that fell behind on the body's last piece left the socket paused: the next
    // exchange on it must hear its answer.
    if (this.socket.isPaused()) this.socket.resume();
    // The request must have gone out whole too before another can follow on this connection.
    this.pool.release(this, reusable && this.socket.writableLength === 0 && !this.gone);
  }

  private receive(bytes: Buffer): void {
    if (this.answer) {
      this.answer.receive(bytes, 0);
      return;
    }
    const exchange = this.exchange;
    if (!exchange) {
      // Bytes on an idle connection: nothing can be trusted on it any more.
      this.failed(new HttpFramingError('bytes came on an idle connection'));
      return;
    }
    let buffer = this.headBytes ? Buffer.concat([this.headBytes, bytes]) : bytes;
    this.headBytes = undefined;
    for (;;) {
      let head: ResponseHead | undefined;
      try {
        head = readResponseHead(buffer);
      } catch (error) {
        this.failed(error as Error);
        return;
      }
      if (!head) {
        this.headBytes = buffer;
        return;
      }
      if (head.status >= 200) {
        const answer = new UpstreamAnswer({ connection: this, head, timeoutMs: exchange.timeoutMs });
        this.answer = answer;
        if (head.keepAliveMs !== undefined) this.keepAliveMs = head.keepAliveMs;
        exchange.answer(answer);
        if (buffer.length > head.end) answer.receive(buffer, head.end);
        return;
      }
      // 101 would switch protocols, which was never asked for.
      if (head.status === 101) {
        this.failed(new HttpFramingError('unexpected 101'));
        return;
      }
      // 1xx (103 Early Hints…): the answer follows.
      if (buffer.length === head.end) return;
      buffer = buffer.subarray(head.end);
    }
  }

  /** The upstream's FIN: the end of a body read to the close, or a broken exchange. */
  private ended(): void {
    if (this.answer?.endsAtClose()) return;
    this.failed(new UpstreamConnectionClosed());
  }

  private failed(error: Error): void {
    if (this.gone) return;
    this.gone = true;
    const exchange = this.exchange;
    const answer = this.answer;
    // A native relay holds copies of the descriptors: stopped first, so the close is the peer's too.
    answer?.stopNative();
    this.socket.destroy();
    this.exchange = undefined;
    this.answer = undefined;
    if (answer) answer.broke(error);
    else exchange?.fail(error, this.uses > 0);
    this.pool.forget(this);
  }
}

/**
 * An answer whose head came; its body is read as its consumer chooses. Bytes that come before
 * anyone took the body are held (a consumer comes within the same turn of the event loop, or
 * after a short wait between retries).
 */
class UpstreamAnswer implements PassThroughResponse {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly chunked: boolean;
  private readonly connection: Connection;
  private readonly head: ResponseHead;
  private readonly timeoutMs: number;
  private consumer: PassThroughSink | undefined;
  private chunkedBody: ChunkedBody | undefined;
  private held: Buffer[] | undefined;
  /** Content bytes still to come ('length' framing). */
  private remaining: number;
  private done = false;
  private failed: Error | undefined;
  private paused = false;
  private readable: Readable | undefined;
  /** The native relay, when the sink allows it: waiting to take over, or running (its handle). */
  private native: { readonly relay: NativeRelay; handle: unknown } | undefined;

  constructor({
    connection,
    head,
    timeoutMs,
  }: { connection: Connection; head: ResponseHead; timeoutMs: number }) {
    this.connection = connection;
    this.head = head;
    this.status = head.status;
    this.rawHeaders = head.rawHeaders;
    this.chunked = head.framing === 'chunked';
    this.remaining = head.length;
    this.timeoutMs = timeoutMs;
  }

  get body(): Readable {
    if (this.readable) return this.readable;
    const readable = new Readable({
      read: () => this.resume(),
      destroy: (error, callback) => {
        if (!this.done) this.destroy();
        callback(error);
      },
    });
    this.readable = readable;
    this.relay({
      framed: false,
      write: (bytes) => readable.push(bytes),
      end: () => readable.push(null),
      fail: (error) => readable.destroy(error),
    });
    return readable;
  }

  relay(sink: PassThroughSink): void {
    if (this.consumer) throw new Error('the body is already being read');
    this.consumer = sink;
    if (this.chunked)
      this.chunkedBody = new ChunkedBody({ receiver: this.receiverFor(sink), framed: sink.framed });
    const nativeRelay = this.connection.nativeRelay;
    if (nativeRelay && this.chunked && sink.framed && sink.socket) {
      this.native = { relay: nativeRelay, handle: undefined };
      // After the caller's own writes (the head, corked with the first bytes) went out.
      process.nextTick(() => this.handOver());
    }
    this.readHeld();
    // A reader that fell behind on held bytes gets the rest when it resumes.
    if (this.held) return;
    if (this.head.framing === 'none' || (this.head.framing === 'length' && this.remaining === 0))
      this.finish(true);
    if (this.failed && !this.done) {
      this.done = true;
      sink.fail(this.failed);
    }
  }

  discard(): void {
    this.relay({ framed: false, write: () => true, end() {}, fail() {} });
  }

  resume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    this.readHeld();
    if (this.done || this.paused) return;
    if (this.failed) {
      this.done = true;
      this.consumer!.fail(this.failed);
      return;
    }
    this.connection.flow(false, this.timeoutMs);
    this.handOver();
  }

  /**
   * The native relay takes over the body from here, if it can now: between two chunks, with all
   * that came so far read and written (nothing held, the client's socket with nothing queued).
   * Otherwise the JavaScript relay goes on, and it is tried again after the next read.
   */
  private handOver(): void {
    const native = this.native;
    const sink = this.consumer;
    if (!native || native.handle !== undefined || !sink?.socket || this.done || this.paused) return;
    if (this.held || this.failed || !this.chunkedBody!.betweenChunks) return;
    const client = sink.socket;
    if (client.writableLength > 0 || client.destroyed) return;
    const clientFd = plainSocketFd(client);
    if (clientFd === undefined) return;
    const upstreamFd = this.connection.detach();
    if (upstreamFd === undefined) return;
    try {
      native.handle = native.relay.relay(
        upstreamFd,
        clientFd,
        this.timeoutMs,
        sink.inspect !== undefined,
        this.nativeDone,
      );
    } catch {
      this.native = undefined;
      this.connection.attach(this.timeoutMs);
    }
  }

  private readonly nativeDone: NativeRelayDone = (outcome, reason, tail, total, leftover, unsent) => {
    this.native = undefined;
    // What passed counts for usage however it ended (aborted: the client left, or the answer broke).
    if (total > 0) this.consumer?.inspect?.(tail, total - tail.length);
    if (outcome === 'aborted' || this.done) return;
    if (outcome === 'end') {
      // What a slow client had not taken yet goes through Node, as on the JavaScript path: the
      // upstream connection is free at the body's end, not when the client caught up.
      if (unsent.length > 0) this.consumer!.write(unsent);
      this.connection.attach(this.timeoutMs);
      this.finish(leftover.length === 0);
      return;
    }
    this.connection.abandon(
      reason === 'timeout'
        ? new UpstreamTimeout()
        : reason.startsWith('framing:')
          ? new HttpFramingError(reason.slice('framing:'.length))
          : new UpstreamConnectionClosed(),
    );
  };

  /** @internal Stops a native relay still running (its descriptors closed, so the peers see the close). */
  stopNative(): void {
    const native = this.native;
    this.native = undefined;
    if (native?.handle !== undefined) native.relay.abort(native.handle);
  }

  /**
   * Gives the reader the bytes that came before it, as far as it keeps up; the rest stay held.
   * While they are read nothing counts as held, so a failure among them (bad framing abandons the
   * connection) fails the reader at once instead of reading on.
   */
  private readHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    let next = 0;
    while (next < held.length && !this.done && !this.paused) this.read(held[next++]!, 0);
    if (next < held.length && !this.done) this.held = held.slice(next);
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.stopNative();
    this.connection.abandon(new UpstreamConnectionClosed());
  }

  /** @internal */
  receive(bytes: Buffer, start: number): void {
    if (this.done) return;
    // Before the reader, or while it still has held bytes to read: kept, in order.
    if (!this.consumer || this.held) {
      this.held ??= [];
      this.held.push(start === 0 ? bytes : bytes.subarray(start));
      return;
    }
    this.read(bytes, start);
    if (this.native) this.handOver();
  }

  /** @internal Whether the body was one read to the close, which has now come. */
  endsAtClose(): boolean {
    if (this.head.framing !== 'close' || this.done) return false;
    if (this.consumer && !this.held) this.finish(false);
    else {
      this.held ??= [];
      this.held.push(END_OF_BODY);
    }
    return true;
  }

  /** @internal The connection failed mid-answer. */
  broke(error: Error): void {
    if (this.done) return;
    this.stopNative();
    if (!this.consumer || this.held) {
      // What came before the failure may still be the whole body: the consumer reads it first.
      this.failed = error;
      return;
    }
    this.done = true;
    this.consumer.fail(error);
  }

  private read(bytes: Buffer, start: number): void {
    const sink = this.consumer!;
    if (bytes === END_OF_BODY) {
      this.finish(false);
      return;
    }
    let end: number;
    switch (this.head.framing) {
      case 'none':
        // Bytes where no body may be: the connection cannot be trusted for another exchange.
        end = start;
        break;
      case 'chunked':
        try {
          end = this.chunkedBody!.feed(bytes, start);
        } catch (error) {
          this.connection.abandon(error as Error);
          // A connection already gone (the upstream closed before the reader came) hears nothing
          // more: the reader is failed here, and nothing after the bad framing is read.
          if (!this.done) {
            this.done = true;
            sink.fail(error as Error);
          }
          return;
        }
        break;
      case 'length': {
        end = Math.min(bytes.length, start + this.remaining);
        this.remaining -= end - start;
        const piece = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
        sink.inspect?.(piece);
        if (!sink.write(piece)) this.paused = true;
        if (this.remaining > 0) end = -1;
        break;
      }
      default: {
        const piece = start === 0 ? bytes : bytes.subarray(start);
        sink.inspect?.(piece);
        if (!sink.write(piece)) this.paused = true;
        end = -1;
      }
    }
    if (end >= 0) this.finish(end === bytes.length);
    else if (this.paused) this.connection.flow(true, this.timeoutMs);
  }

  private finish(clean: boolean): void {
    if (this.done) return;
    this.done = true;
    this.connection.finished(clean && this.head.keepAlive);
    this.consumer!.end();
  }

  private receiverFor(sink: PassThroughSink) {
    const inspect = sink.inspect;
    return sink.framed
      ? {
          content: inspect ? (piece: Buffer) => inspect(piece) : () => {},
          framed: (bytes: Buffer) => {
            if (!sink.write(bytes)) this.paused = true;
          },
        }
      : {
          content: (piece: Buffer) => {
            inspect?.(piece);
            if (!sink.write(piece)) this.paused = true;
          },
          framed: () => {},
        };
  }
}

/** Marks, among held bytes, where a body read to the close ended. */
const END_OF_BODY = Buffer.alloc(0);
