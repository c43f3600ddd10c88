// Errors Fastify and Node answer before any route runs: a URL the router cannot decode, a
// request that is not HTTP, headers too large, a request too slow to arrive. Their own bodies
// (`{"error":"Bad Request","statusCode":400}`) are not the OpenAI error envelope, which the SDKs
// read (`error.message`); these answer with it, like every other error of the server.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors.js';
import { toErrorResponse } from './errors.js';

/** Fastify's `frameworkErrors`: a URL that cannot be decoded, a path parameter too long. */
export function frameworkErrors(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const path = request.url.split('?')[0];
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `Invalid URL (${request.method} ${path}): a path segment is too long.`
      : `Invalid URL (${request.method} ${path}): it is not a valid percent-encoded path.`;
  const { status, body } = toErrorResponse(new InvalidRequestError(message, { code: 'invalid_url' }));
  // Answered before the app's hooks: the request id is not added for it.
  void reply.code(status).header('x-request-id', request.id).send(body);
}

/**
 * The server's `clientError`: bytes that are not an HTTP request (or headers past Node's limit,
 * or a request slower than its timeout). There is no request to answer through, so the answer is
 * written to the socket as it stands, and the connection closed (what follows cannot be trusted).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // The client is gone already (a reset): there is nobody to tell.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message]: [number, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request took too long to arrive.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large.']
        : [400, 'The request is not valid HTTP/1.1.'];
  if (socket.writable) {
    const body = JSON.stringify(toErrorResponse(new InvalidRequestError(message, { status })).body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
