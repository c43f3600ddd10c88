// Starts a real Atelier server in-process on the test model for end-to-end tests, with a
// bootstrap admin key and an official `openai` client pointed at it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import pino from 'pino';
import { loadConfig } from '../config/config.js';
import { makeTestModel } from '../inference/test-model/make-test-model.js';
import { type Server, startServer } from '../main.js';
import type { BuiltInTools } from '../tools/spec.js';

export const TEST_API_KEY = 'sk-atelier-test-0123456789abcdefghijklmnop';

export interface TestServer {
  readonly server: Server;
  readonly baseURL: string;
  readonly apiKey: string;
  readonly client: OpenAI;
  readonly dataDir: string;
  close(): Promise<void>;
}

export interface StartTestServerOptions {
  /** Extra environment (ATELIER_*), e.g. a database URL. */
  readonly env?: Record<string, string>;
  /** Test models to generate in the models dir: id → options. Default: `atelier-tiny`. */
  readonly models?: Record<string, Omit<Parameters<typeof makeTestModel>[0], 'path'>>;
  /**
   * Built-in tools for Assistants runs: stubs of file_search / code_interpreter (default none),
   * or `'server'` for the server's own (the retrieval engine and the sandbox, as `npm start`).
   */
  readonly tools?: BuiltInTools | 'server';
}

export async function startTestServer({
  env = {},
  models = { 'atelier-tiny': {} },
  tools = {},
}: StartTestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-test-'));
  const modelsDir = path.join(dataDir, 'models');
  for (const [id, options] of Object.entries(models)) {
    await makeTestModel({ ...options, path: path.join(modelsDir, `${id}.gguf`), name: id });
  }
  const config = loadConfig({
    env: {
      ATELIER_DATA_DIR: dataDir,
      ATELIER_PORT: '0',
      ATELIER_BOOTSTRAP_API_KEY: TEST_API_KEY,
      ATELIER_LOG_LEVEL: 'silent',
      ...env,
    },
    cwd: dataDir,
  });
  const server = await startServer({
    config,
    logger: pino({ level: config.logLevel }),
    ...(tools === 'server' ? {} : { tools }),
  });
  const baseURL = `${server.url}/v1`;
  return {
    server,
    baseURL,
    apiKey: TEST_API_KEY,
    dataDir,
    client: new OpenAI({ baseURL, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 60_000 }),
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
