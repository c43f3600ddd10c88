import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundPolicy } from './outbound-policy.js';
import { bodyText } from './response-text.js';
import { type HostResolver, OutboundRequestError, safeFetch } from './safe-fetch.js';
import { type LocalServer, sendJson, startLocalServer } from './test-support/local-server.js';

const MB = 1024 * 1024;
const allowLoopback = createOutboundPolicy({ allow: ['127.0.0.1'] });

/** A resolver that knows only the names a test gives it, and counts its lookups. */
function fakeDns(names: Record<string, string[] | (() => string[])>): HostResolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolve = async (hostname: string) => {
    lookups.push(hostname);
    const answer = names[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return typeof answer === 'function' ? answer() : answer;
  };
  return Object.assign(resolve, { lookups });
}

async function refusal(promise: Promise<unknown>): Promise<OutboundRequestError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OutboundRequestError);
  return error as OutboundRequestError;
}

describe('safeFetch', () => {
  let api: LocalServer;
  let other: LocalServer;
  let bigClosedEarly: Promise<boolean>;
  let reportBigClosed: (closedEarly: boolean) => void = () => {};

  beforeAll(async () => {
    bigClosedEarly = new Promise((resolve) => {
      reportBigClosed = resolve;
    });
    other = await startLocalServer((request, response) =>
      sendJson(response, 200, { reached: 'other', request }),
    );
    api = await startLocalServer(async (request, response) => {
      const url = new URL(request.url, 'http://x');
      switch (url.pathname) {
        case '/hello':
          return sendJson(response, 200, { hello: 'world', headers: request.headers });
        case '/redirect':
          response.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
          return response.end();
        case '/redirect-307':
          response.writeHead(307, { location: url.searchParams.get('to') ?? '/' });
          return response.end();
        case '/loop':
          response.writeHead(302, { location: '/loop' });
          return response.end();
        case '/big': {
          // 10 MB, written as fast as the client reads; the client must stop early.
          const total = 10 * MB;
          response.writeHead(200, { 'content-type': 'text/plain', 'content-length': total });
          const chunk = Buffer.alloc(64 * 1024, 'a');
          let sent = 0;
          let wake = () => {};
          response.on('drain', () => wake());
          response.on('close', () => {
            reportBigClosed(sent < total);
            wake();
          });
          while (sent < total && !response.destroyed) {
            sent += chunk.length;
            if (!response.write(chunk)) await new Promise<void>((resolve) => (wake = resolve));
          }
          response.end();
          return;
        }
        case '/big-gzip': {
          const compressed = gzipSync(Buffer.alloc(10 * MB, 'b'));
          response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
          return response.end(compressed);
        }
        case '/accents':
          response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          return response.end('é'.repeat(100));
        case '/slow':
          // Never answers (the test's timeout must end the request).
          return;
        case '/slow-body':
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.write('partial');
          return;
        default:
          return sendJson(response, 404, { error: 'not found' });
      }
    });
  });

  afterAll(async () => {
    await api.close();
    await other.close();
  });

  it('refuses 127.0.0.1 by default, before any request is sent', async () => {
    const before = api.requests.length;
    const error = await refusal(safeFetch({ url: `${api.url}/hello`, policy: createOutboundPolicy() }));
    expect(error.reason).toBe('blocked');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(
      /Refused to connect to 127\.0\.0\.1:\d+: 127\.0\.0\.1 is loopback \(this machine\)/,
    );
    expect(error.message).toContain('ATELIER_OUTBOUND_ALLOW');
    expect(api.requests.length).toBe(before);
  });

  it('reaches 127.0.0.1 when an administrator allows it (address, range or host name)', async () => {
    for (const allow of [['127.0.0.1'], ['127.0.0.0/8'], ['localhost']]) {
      const response = await safeFetch({
        url: `http://localhost:${api.port}/hello`,
        policy: createOutboundPolicy({ allow }),
        resolve: fakeDns({ localhost: ['127.0.0.1'] }),
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body.toString()).hello).toBe('world');
    }
  });

  it('refuses a redirect to a private, metadata or other loopback address', async () => {
    const cases: [string, RegExp][] = [
      ['http://10.1.2.3/admin', /10\.1\.2\.3 is a private network/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata service/],
      ['http://[::1]/', /::1 is loopback/],
      [`http://127.0.0.2:${api.port}/hello`, /127\.0\.0\.2 is loopback/],
      ['http://internal.test/', /192\.168\.7\.7 is a private network \(internal\.test resolves to it\)/],
    ];
    for (const [to, expected] of cases) {
      const error = await refusal(
        safeFetch({
          url: `${api.url}/redirect?to=${encodeURIComponent(to)}`,
          policy: allowLoopback,
          resolve: fakeDns({ 'internal.test': ['192.168.7.7'] }),
        }),
      );
      expect(error.reason).toBe('blocked');
      expect(error.message).toMatch(expected);
    }
  });

  it('resolves each hop itself and connects to the address it checked (no DNS rebinding)', async () => {
    // System DNS knows no "api.test": a success proves the connection used the checked address.
    const dns = fakeDns({ 'api.test': ['10.0.0.9', '127.0.0.1'] });
    const response = await safeFetch({
      url: `http://api.test:${api.port}/hello`,
      policy: allowLoopback,
      resolve: dns,
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString()).headers.host).toBe(`api.test:${api.port}`);
    expect(dns.lookups).toEqual(['api.test']);

    // A name that answers differently on the next lookup is checked again on the next hop.
    let answers = 0;
    const rebinding = fakeDns({ 'api.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['10.0.0.9']) });
    const error = await refusal(
      safeFetch({
        url: `http://api.test:${api.port}/redirect?to=${encodeURIComponent(`http://api.test:${api.port}/hello`)}`,
        policy: allowLoopback,
        resolve: rebinding,
      }),
    );
    expect(error.message).toMatch(/10\.0\.0\.9 is a private network/);
    expect(rebinding.lookups).toEqual(['api.test', 'api.test']);
  });

  it('cuts a 10 MB response at the cap without downloading the rest', async () => {
    const started = Date.now();
    const response = await safeFetch({ url: `${api.url}/big`, policy: allowLoopback, maxBytes: MB });
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(MB);
    expect(response.truncated).toBe(true);
    expect(response.declaredBytes).toBe(10 * MB);
    expect(await bigClosedEarly).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);

    // The cap counts decoded bytes: a small gzip body that inflates to 10 MB is cut too.
    const gzipped = await safeFetch({ url: `${api.url}/big-gzip`, policy: allowLoopback, maxBytes: MB });
    expect(gzipped.body.length).toBe(MB);
    expect(gzipped.truncated).toBe(true);
    expect(gzipped.body.every((byte) => byte === 0x62)).toBe(true);
  });

  it('never cuts text in the middle of a character', async () => {
    const response = await safeFetch({ url: `${api.url}/accents`, policy: allowLoopback, maxBytes: 51 });
    expect(response.truncated).toBe(true);
    const text = bodyText(response.body, response.contentType);
    expect(text).toBe('é'.repeat(25));
    expect(text).not.toContain('\uFFFD');
  });

  it('times out a server that does not answer, or stops sending, with a clear message', async () => {
    const started = Date.now();
    const silent = await refusal(
      safeFetch({ url: `${api.url}/slow`, policy: allowLoopback, timeoutMs: 300 }),
    );
    expect(silent.reason).toBe('timeout');
    expect(silent.message).toBe(`127.0.0.1:${api.port} did not answer within 0.3 s: the request timed out.`);
    const stalled = await refusal(
      safeFetch({ url: `${api.url}/slow-body`, policy: allowLoopback, timeoutMs: 300 }),
    );
    expect(stalled.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops redirect loops', async () => {
    const error = await refusal(
      safeFetch({ url: `${api.url}/loop`, policy: allowLoopback, maxRedirects: 3 }),
    );
    expect(error.reason).toBe('too_many_redirects');
    expect(error.message).toMatch(/redirected more than 3 times/);
  });

  it('drops credentials when a redirect leaves the origin, and never resends a body there', async () => {
    const response = await safeFetch({
      url: `${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`,
      policy: allowLoopback,
      headers: { Authorization: 'Bearer secret-token', 'X-Api-Key': 'k-123', 'X-Trace': 'keep-me' },
      sensitiveHeaders: ['x-api-key'],
    });
    const received = JSON.parse(response.body.toString()).request;
    expect(received.url).toBe('/landing');
    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['x-api-key']).toBeUndefined();
    expect(received.headers['x-trace']).toBe('keep-me');
    expect(response.redirects).toEqual([`${other.url}/landing`]);

    const before = other.requests.length;
    const error = await refusal(
      safeFetch({
        url: `${api.url}/redirect-307?to=${encodeURIComponent(`${other.url}/landing`)}`,
        method: 'POST',
        body: '{"private":"data"}',
        policy: allowLoopback,
      }),
    );
    expect(error.message).toMatch(/redirected the request with its body to another host/);
    expect(other.requests.length).toBe(before);
  });

  it('fetches only http and https URLs without credentials in them', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://127.0.0.1:70/', 'not a url']) {
      expect((await refusal(safeFetch({ url, policy: allowLoopback }))).reason).toBe('invalid_url');
    }
    const withPassword = await refusal(
      safeFetch({ url: `http://user:pw@127.0.0.1:${api.port}/`, policy: allowLoopback }),
    );
    expect(withPassword.message).toMatch(/user name or password/);
  });

  it('says when a host name does not resolve', async () => {
    const error = await refusal(
      safeFetch({ url: 'http://nowhere.test/', policy: allowLoopback, resolve: fakeDns({}) }),
    );
    expect(error.reason).toBe('unresolvable');
    expect(error.message).toBe('The host name nowhere.test could not be resolved.');
  });
});
