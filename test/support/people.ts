// People of the web app in API tests: the test server's web origin, and visitors signed up there.
import { expect } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { Visitor } from './web-visitor.js';

/** The web app's origin on a test server: its API base URL without `/v1`. */
export const webOrigin = (server: TestServer): string => server.baseURL.replace(/\/v1$/, '');

/**
 * A visitor signed up for each name, in order (the first person owns the team workspace), as
 * `<name>@example.com` in lower case.
 */
export async function signUpPeople<const Names extends readonly string[]>(
  server: TestServer,
  ...names: Names
): Promise<{ [Index in keyof Names]: Visitor }> {
  const visitors: Visitor[] = [];
  for (const name of names) {
    const visitor = new Visitor(webOrigin(server));
    const reply = await visitor.signUp(name, `${name.toLowerCase()}@example.com`);
    expect(reply.status, `signing up ${name}: ${JSON.stringify(reply.body)}`).toBe(201);
    visitors.push(visitor);
  }
  return visitors as { [Index in keyof Names]: Visitor };
}
