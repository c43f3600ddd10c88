// A prompt, graceful close for the app's HTTP servers. Node's `server.close()` ends only connections
// idle at that moment: not one that never sent a request (Node counts it busy, so that the headers
// timeout applies, and the close stops that timeout's check), nor a keep-alive one whose response
// ends after the close began (72 s keep-alive timeout). Here a connection with nothing in flight
// closes at once, one with a request when its last response ends, and a grace period bounds both.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ServiceUnavailableError } from '../errors.js';

/**
 * How long requests in flight when the close begins have to finish: less than the 10 s a container
 * runtime waits after SIGTERM (`docker stop`), so models and the database still close cleanly.
 */
export const CLOSE_GRACE_MS = 7_000;

export function gracefulClose(
  app: FastifyInstance,
  { graceMs = CLOSE_GRACE_MS }: { graceMs?: number } = {},
): void {
  /** Each open connection, on any of the app's servers, with its responses not yet ended. */
  const connections = new Map<Socket, Set<ServerResponse>>();
  /** Each server's close: it comes once the server stopped accepting and its last connection ended. */
  const serversClosed: Promise<void>[] = [];
  let closing = false;
  /** Every server closed (and the grace period's timer stopped), once the close began. */
  let allClosed: Promise<void> | undefined;

  function track(server: Server): void {
    serversClosed.push(new Promise((resolve) => server.once('close', () => resolve())));
    server.on('connection', (socket: Socket) => {
      // Between the close's start and the moment the server stops accepting.
      if (closing) {
        socket.destroy();
        return;
      }
      connections.set(socket, new Set());
      socket.once('close', () => connections.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const inFlight = connections.get(request.socket);
      if (!inFlight) return;
      inFlight.add(response);
      // Emitted once the response ended or its connection was lost.
      response.once('close', () => {
        inFlight.delete(response);
        if (closing && inFlight.size === 0) release(request.socket);
      });
    });
  }

  // A request that comes on a kept connection once the close began (pipelined, or sent just
  // before the connection's release reached its client) is turned away, to be sent again to a
  // server that stays (the SDKs retry a 503, after `retry-after`).
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!closing) return done();
    done(
      new ServiceUnavailableError('The server is shutting down: send the request again.', {
        retryAfterSeconds: 1,
      }),
    );
  });

  track(app.server);
  // On `localhost`, Fastify listens on each address it resolves to (127.0.0.1 and ::1), the others
  // with servers of their own; they exist once the listen is done, before it resolves.
  app.addHook('onListen', (done) => {
    for (const server of secondaryServers(app)) track(server);
    done();
  });

  app.addHook('preClose', async () => {
    if (!app.server.listening) return;
    closing = true;
    for (const [socket, inFlight] of connections) {
      if (inFlight.size === 0) release(socket);
      // The client learns not to send another request on it (Node then closes it itself). Only
      // the last response says so: Node closes the socket after the one that does, and pipelined
      // responses queued behind it would be lost.
      const last = [...inFlight].at(-1);
      if (last && !last.headersSent) last.setHeader('connection', 'close');
    }
    const cut = setTimeout(() => {
      for (const socket of connections.keys()) socket.destroy();
    }, graceMs);
    cut.unref();
    allClosed = Promise.all(serversClosed).then(() => clearTimeout(cut));
  });
  // Fastify waits for its main server only, and closes the others when that one closed: the close
  // also waits for theirs, so nothing still answers once the app's services close after it.
  app.addHook('onClose', async () => {
    await allClosed;
  });
}

/**
 * The servers Fastify listens with besides `app.server`. It keeps them under a symbol of its own
 * (`app.addresses()` reads them) and exposes no other way to reach them; none found: none tracked.
 */
function secondaryServers(app: FastifyInstance): readonly Server[] {
  const bindings = Object.getOwnPropertySymbols(app).find(
    (symbol) => symbol.description === 'fastify.serverBindings',
  );
  const servers: unknown = bindings === undefined ? undefined : Reflect.get(app, bindings);
  return Array.isArray(servers) ? servers.filter((server) => server !== app.server) : [];
}

/** Closes a connection once what was written to it is sent (as Node does after `Connection: close`). */
function release(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}
