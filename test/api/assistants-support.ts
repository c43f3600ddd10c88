// Shared by the Assistants API tests: checks against the spec of the generation a test speaks
// (openapi-2024-04-v1-last for v1, openapi-2024-05-v2 for v2, read in place), clients of both
// SDK generations, and a second workspace for isolation checks.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import OpenAIv1 from 'openai-v4';
import { parse } from 'yaml';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { validateJsonSchema } from '../support/openapi-schemas.js';

const specDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/openapi');
const SPEC_FILES = { v1: 'openapi-2024-04-v1-last.yaml', v2: 'openapi-2024-05-v2.yaml' } as const;
const specs: Partial<Record<keyof typeof SPEC_FILES, Record<string, unknown>>> = {};

function spec(version: keyof typeof SPEC_FILES): Record<string, unknown> {
  // The v2 file repeats a YAML anchor: parsed leniently, as its README says.
  specs[version] ??= parse(readFileSync(path.join(specDir, SPEC_FILES[version]), 'utf8'), {
    maxAliasCount: -1,
    uniqueKeys: false,
  }) as Record<string, unknown>;
  return specs[version]!;
}

/** Problems found validating `value` against `components.schemas[name]` of that generation's spec. */
export function specProblems(version: 'v1' | 'v2', name: string, value: unknown): string[] {
  const problems = validateJsonSchema({ $ref: `#/components/schemas/${name}` }, value, {
    root: spec(version),
  });
  // Errata of the v1 spec: its file lists require an `items` property no OpenAI response had.
  return problems.filter((problem) => !/missing required property 'items'/.test(problem));
}

export function assertMatchesSpec(version: 'v1' | 'v2', name: string, value: unknown): void {
  const problems = specProblems(version, name, value);
  if (problems.length > 0) {
    throw new Error(
      `response does not match ${version} ${name}:\n  ${problems.join('\n  ')}\n${JSON.stringify(value)}`,
    );
  }
}

/** A list page as the server sent it (the current SDK keeps it as `body`, 4.x on the page itself). */
export function pageBody(page: object): Record<string, unknown> {
  const body = (page as { body?: unknown }).body;
  const source = (body && typeof body === 'object' ? body : page) as Record<string, unknown>;
  return {
    object: source['object'],
    data: source['data'],
    first_id: source['first_id'],
    last_id: source['last_id'],
    has_more: source['has_more'],
  };
}

/** The v1 client (openai@4.36, `OpenAI-Beta: assistants=v1`) on the same server and key. */
export function v1Client(server: TestServer): OpenAIv1 {
  return new OpenAIv1({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0, timeout: 60_000 });
}

/** A client of another workspace of the same server: it must see none of the first one's objects. */
export async function otherWorkspace(server: TestServer): Promise<OpenAI> {
  const { repositories } = server.server.storage;
  const workspace = await repositories.workspaces.create({ name: 'elsewhere' });
  const { secret } = await repositories.apiKeys.create({ workspaceId: workspace.id, name: 'other' });
  return new OpenAI({ baseURL: server.baseURL, apiKey: secret, maxRetries: 0, timeout: 60_000 });
}

/** Raw request with a JSON body (or none), for what the SDKs would not send. */
export async function requestRaw(
  server: TestServer,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: Record<string, unknown> & { error?: Record<string, unknown> };
  headers: Headers;
}> {
  const response = await fetch(`${server.baseURL}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${server.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

/** The named events of an Assistants SSE body, checking the framing (`event:` then `data:`, blank line). */
export function namedEvents(text: string): { event: string; data: unknown }[] {
  if (!text.endsWith('\n\n'))
    throw new Error(`stream does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const match = /^event: ([a-z._]+)\ndata: (.*)$/s.exec(block);
      if (!match || match[2]!.includes('\n'))
        throw new Error(`not a named SSE event: ${JSON.stringify(block.slice(0, 80))}`);
      return { event: match[1]!, data: match[2] === '[DONE]' ? '[DONE]' : JSON.parse(match[2]!) };
    });
}

/** The spec schema each Assistants stream event's data must match. */
export function eventSchema(event: string): string {
  if (event === 'thread.created') return 'ThreadObject';
  if (event === 'thread.run.step.delta') return 'RunStepDeltaObject';
  if (event === 'thread.message.delta') return 'MessageDeltaObject';
  if (event.startsWith('thread.run.step.')) return 'RunStepObject';
  if (event.startsWith('thread.run.')) return 'RunObject';
  if (event.startsWith('thread.message.')) return 'MessageObject';
  if (event === 'error') return 'Error';
  throw new Error(`unknown event ${event}`);
}
