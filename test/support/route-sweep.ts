// For tests that sweep every route of the running app (bad input, isolation): the routes read
// from the app itself, their path parameters, a raw HTTP client that sends paths exactly as
// written, and the check that an error reply is exactly the OpenAI envelope.
import http from 'node:http';

export interface Route {
  readonly method: string;
  /** As registered: `/v1/threads/:thread_id/runs`, `/v1/models/*`. */
  readonly path: string;
}

/**
 * Every route of the app, read from Fastify's own route tree (`printRoutes`): one line per node,
 * four columns of indentation per level, each node's segment followed by its methods.
 */
export function routesOf(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const segment = match[2]!;
    const parent = stack[depth - 1] ?? '';
    // The tree prints a wildcard as `*` under its static parent, dropping the `/` before it.
    const path = segment === '*' && !parent.endsWith('/') ? `${parent}/*` : `${parent}${segment}`;
    stack.length = depth;
    stack.push(path);
    for (const method of (match[3] ?? '').split(', ')) {
      if (method && method !== 'HEAD') routes.push({ method, path });
    }
  }
  return routes;
}

/** The routes of the two doors: the OpenAI-compatible API and the web app's own. */
export const apiRoutes = (routes: readonly Route[]): Route[] =>
  routes.filter((route) => route.path.startsWith('/v1/') || route.path.startsWith('/api/'));

/** The route's path parameters, in order (`*` for a wildcard). */
export function paramsOf(route: Route): string[] {
  return route.path.split('/').flatMap((segment) => {
    if (segment.startsWith(':')) return [segment.slice(1)];
    return segment === '*' ? ['*'] : [];
  });
}

/** The route's path with each parameter replaced by `segmentOf(param)`, used as it is (escape it there). */
export function fillPath(route: Route, segmentOf: (param: string) => string): string {
  return route.path
    .split('/')
    .map((segment) => {
      const param = segment.startsWith(':') ? segment.slice(1) : segment === '*' ? '*' : undefined;
      return param === undefined ? segment : segmentOf(param);
    })
    .join('/');
}

export interface RawReply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/**
 * One request over plain HTTP: the path goes out exactly as written (no `..` resolved, no escape
 * fixed). An event stream stays open: its status and type are all a sweep reads from it.
 */
export function sendRaw({
  port,
  agent,
  method,
  path,
  headers = {},
  body = undefined,
}: {
  port: number;
  agent: http.Agent;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | undefined;
}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
      },
      (response) => {
        const contentType = String(response.headers['content-type'] ?? '');
        const status = response.statusCode ?? 0;
        if (contentType.startsWith('text/event-stream')) {
          response.destroy();
          resolve({ status, contentType, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status, contentType, text: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    request.setTimeout(15_000, () => request.destroy(new Error('no answer in 15 s')));
    request.on('error', reject);
    request.end(body);
  });
}

/** What keeps an error reply from being exactly `{"error":{message,type,param,code}}` in JSON, or undefined. */
export function envelopeProblem(reply: RawReply): string | undefined {
  const head = `${reply.status} ${reply.text.slice(0, 160).replaceAll('\n', ' ')}`;
  if (!/^application\/json/.test(reply.contentType)) return `content-type ${reply.contentType}: ${head}`;
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return `not JSON: ${head}`;
  }
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  const envelope =
    body !== null &&
    typeof body === 'object' &&
    Object.keys(body).join() === 'error' &&
    error !== null &&
    typeof error === 'object' &&
    Object.keys(error).sort().join() === 'code,message,param,type' &&
    typeof error['message'] === 'string' &&
    error['message'] !== '' &&
    typeof error['type'] === 'string' &&
    (error['param'] === null || typeof error['param'] === 'string') &&
    (error['code'] === null || typeof error['code'] === 'string');
  return envelope ? undefined : `not the error envelope: ${head}`;
}
