// Shared by the files and vector-store API tests: a server on either database (PostgreSQL in a
// schema of its own), a second workspace's client, and checks against the newest official spec
// (vector stores are not in the older snapshots the chat tests use).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import pg from 'pg';
import { parse } from 'yaml';
import type { DatabaseDialect } from '../../packages/server/src/storage/database.js';
import { skipPostgres, testDatabaseUrl } from '../../packages/server/src/storage/test-support/dialects.js';
import type {
  StartTestServerOptions,
  TestServer,
} from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { validateJsonSchema } from '../support/openapi-schemas.js';

export const DIALECTS: readonly DatabaseDialect[] = skipPostgres ? ['sqlite'] : ['sqlite', 'postgres'];

const specPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/openapi/openapi-latest.yaml',
);
let latest: Record<string, unknown> | undefined;

/** Throws listing every way `value` differs from `components.schemas[name]` of openapi-latest. */
export function assertMatchesLatestSpec(name: string, value: unknown): void {
  latest ??= parse(readFileSync(specPath, 'utf8'), { maxAliasCount: -1, uniqueKeys: false }) as Record<
    string,
    unknown
  >;
  const problems = validateJsonSchema({ $ref: `#/components/schemas/${name}` }, value, { root: latest });
  if (problems.length > 0) {
    throw new Error(`response does not match ${name}:\n  ${problems.join('\n  ')}\n${JSON.stringify(value)}`);
  }
}

export interface DialectServer {
  readonly server: TestServer;
  /** The database URL the server uses (to start another on the same data). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** A server on `dialect`; on PostgreSQL its tables live in a fresh schema, dropped on close. */
export async function startDialectServer(
  dialect: DatabaseDialect,
  env: Record<string, string> = {},
  options: Omit<StartTestServerOptions, 'env'> = {},
): Promise<DialectServer> {
  // Already pointed at a database (another server's, to act as its restart): use it as it is.
  if (dialect === 'sqlite' || env['ATELIER_DATABASE_URL']) {
    const server = await startApiServer({ ...options, env });
    return { server, env, close: () => server.close() };
  }
  const schema = `atelier_api_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const separator = testDatabaseUrl.includes('?') ? '&' : '?';
  const withDatabase = {
    ...env,
    ATELIER_DATABASE_URL: `${testDatabaseUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  };
  try {
    const server = await startApiServer({ ...options, env: withDatabase });
    return {
      server,
      env: withDatabase,
      close: async () => {
        try {
          await server.close();
        } finally {
          await adminQuery(`drop schema if exists ${schema} cascade`);
        }
      },
    };
  } catch (error) {
    await adminQuery(`drop schema if exists ${schema} cascade`);
    throw error;
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A client for a second workspace of the same server, with an API key of its own. */
export async function otherWorkspaceClient(server: TestServer): Promise<OpenAI> {
  const { repositories } = server.server.storage;
  const owner = await repositories.accounts.create({ name: 'Someone else' });
  const workspace = await repositories.workspaces.create({ name: 'Elsewhere', ownerAccountId: owner.id });
  const { secret } = await repositories.apiKeys.create({
    workspaceId: workspace.id,
    name: 'other',
    role: 'admin',
  });
  return new OpenAI({ baseURL: server.baseURL, apiKey: secret, maxRetries: 0, timeout: 60_000 });
}

/** Filler that shares everyday words with the facts, so a search must find the right passage. */
export function filler(seed: number, sentences = 12): string {
  const pool = [
    'The annual report covers storms, bridges, glaciers and the people who record them.',
    'Every team keeps a logbook of incidents and the number of days each one lasted.',
    'Services listen on a port chosen by their owner and documented in the runbook.',
    'Vacation policy differs between companies and changes from year to year.',
    'Replicas agree through a quorum, and the size of the quorum depends on the cluster.',
    'Colours in the survey were recorded as free text and later normalised.',
    'Tax rates are reviewed every spring by the finance committee.',
    'Traffic on the old roads grew slowly until the new crossings were opened.',
    'Summers in the north are short, and the ice retreats a little each year.',
    'The keeper of the records wrote down what he saw in plain words.',
  ];
  return Array.from({ length: sentences }, (_, index) => pool[(seed * 7 + index * 3) % pool.length]).join(
    ' ',
  );
}

/** The JSON body of a page exactly as the server sent it (the SDK keeps it on the page). */
export function rawBody(page: object): unknown {
  return (page as { body?: unknown }).body;
}
