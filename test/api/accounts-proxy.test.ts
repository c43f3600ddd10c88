// The session cookie behind an https reverse proxy (ATELIER_TRUST_PROXY), and a server with
// sign-up closed to all but its first person (ATELIER_ALLOW_SIGNUP=false).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';

let server: TestServer;
let origin: string;

beforeAll(async () => {
  server = await startApiServer({ env: { ATELIER_TRUST_PROXY: 'true', ATELIER_ALLOW_SIGNUP: 'false' } });
  origin = server.baseURL.replace(/\/v1$/, '');
});
afterAll(async () => {
  await server?.close();
});

const behindProxy = {
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'atelier.example',
  'x-atelier-csrf': 'page',
};

async function signUp(name: string, email: string, headers: Record<string, string> = behindProxy) {
  return fetch(`${origin}/api/auth/sign-up`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name, email, password: 'correct horse battery' }),
  });
}

describe('behind a trusted https proxy, with sign-up closed', () => {
  it('lets the first person sign up, with a Secure __Host- cookie', async () => {
    const response = await signUp('Owner', 'owner@example.com');
    expect(response.status).toBe(201);
    const cookie = response.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^__Host-atelier_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/);

    // The __Host- cookie signs the browser in like the plain one.
    const secret = cookie.split(';')[0]!;
    const session = await fetch(`${origin}/api/session`, { headers: { ...behindProxy, cookie: secret } });
    expect(await session.json()).toMatchObject({
      authenticated: true,
      account: { email: 'owner@example.com' },
    });

    // Origin is checked against the host the proxy forwarded for.
    const forged = await fetch(`${origin}/api/chats`, {
      method: 'POST',
      headers: {
        ...behindProxy,
        cookie: secret,
        'content-type': 'application/json',
        'x-atelier-csrf': (
          (await (
            await fetch(`${origin}/api/session`, { headers: { ...behindProxy, cookie: secret } })
          ).json()) as { csrf_token: string }
        ).csrf_token,
        origin: 'https://elsewhere.example',
      },
      body: '{}',
    });
    expect(forged.status).toBe(403);
  });

  it('refuses everyone after the first person', async () => {
    const status = await fetch(`${origin}/api/session`).then((response) => response.json());
    expect(status).toEqual({ authenticated: false, sign_up_open: false, first_person: false });
    const response = await signUp('Latecomer', 'late@example.com');
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'sign_up_closed' } });
  });
});
