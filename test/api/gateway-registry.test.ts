// The model registry as an operator drives it from the CLI, seen through the API: local and
// upstream models in one list, aliases that move, deprecations (headers, then a 404 naming the
// replacement), prices and capabilities, fallbacks when an upstream is down, and upstreams stored
// with their key encrypted. A second Atelier (on the test model) is the upstream.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../packages/server/src/cli/main.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { dataOnlyEvents, MODEL, postRaw, startApiServer } from '../support/api-server.js';

let upstream: TestServer;
let gateway: TestServer;
let client: OpenAI;
let env: Record<string, string>;

const LAB = `lab/${MODEL}`;
const DOWN = `down/${MODEL}`;
const hello = [{ role: 'user' as const, content: 'Say hello.' }];

/** A port nobody listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  upstream = await startApiServer();
  const upstreams = JSON.stringify([
    { name: 'lab', base_url: upstream.baseURL, api_key: upstream.apiKey, prefix: 'lab/' },
    {
      name: 'down',
      base_url: `http://127.0.0.1:${await closedPort()}/v1`,
      prefix: 'down/',
      models: [MODEL],
      max_retries: 1,
    },
  ]);
  gateway = await startApiServer({ env: { ATELIER_UPSTREAMS: upstreams } });
  client = gateway.client;
  env = { ATELIER_DATA_DIR: gateway.dataDir, ATELIER_LOG_LEVEL: 'silent', ATELIER_UPSTREAMS: upstreams };
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs `atelier …` against the gateway's data dir, then makes the gateway apply it at once. */
async function atelier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    cwd: gateway.dataDir,
  });
  await gateway.server.reloadRegistry();
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function servedBy(model: string): Promise<string | null> {
  const { response } = await client.chat.completions
    .create({ model, messages: hello, max_tokens: 2 })
    .withResponse();
  return response.headers.get('x-atelier-model');
}

interface AtelierModel {
  id: string;
  atelier: {
    provider: string;
    upstream?: string;
    context_length: number | null;
    capabilities: Record<string, boolean>;
    alias_for?: string;
    scheduled_switch?: { target: string; switch_at: number };
    deprecation?: { deprecated_at: number; shutdown_at: number | null; replacement: string | null };
    pricing?: { input_per_1k: number | null; output_per_1k: number | null; currency: string };
    fallbacks?: string[];
  };
}

async function listed(): Promise<Map<string, AtelierModel>> {
  const page = await client.models.list();
  return new Map(page.data.map((model) => [model.id, model as unknown as AtelierModel]));
}

describe('/v1/models', () => {
  it('serves local and upstream models together', async () => {
    const models = await listed();
    expect(models.get(MODEL)?.atelier.provider).toBe('llama-cpp');
    expect(models.get(LAB)?.atelier).toMatchObject({ provider: 'openai-compatible', upstream: 'lab' });
    // Listed from the configuration even though its upstream cannot be reached.
    expect(models.get(DOWN)?.atelier).toMatchObject({ provider: 'openai-compatible', upstream: 'down' });
  });
});

describe('aliases', () => {
  it('point at a model, upstream or local; the answer says which model served', async () => {
    expect((await atelier('models', 'alias', 'gpt-3.5-turbo', LAB)).code).toBe(0);
    expect(await servedBy('gpt-3.5-turbo')).toBe(LAB);
    expect((await atelier('models', 'alias', 'house', MODEL)).code).toBe(0);
    const completion = await client.chat.completions.create({
      model: 'house',
      messages: hello,
      max_tokens: 2,
    });
    expect(completion.model).toBe(MODEL);
    const models = await listed();
    expect(models.get('gpt-3.5-turbo')?.atelier).toMatchObject({ alias_for: LAB, upstream: 'lab' });
    expect(models.get('house')?.atelier).toMatchObject({ alias_for: MODEL, provider: 'llama-cpp' });
    // Embeddings and legacy completions route the same way.
    const embedding = await client.embeddings.create({ model: 'house', input: 'glue' });
    expect(embedding.model).toBe(MODEL);
    const { response } = await client.completions
      .create({ model: 'gpt-3.5-turbo', prompt: 'Once', max_tokens: 2 })
      .withResponse();
    expect(response.headers.get('x-atelier-model')).toBe(LAB);
  });

  it('move on their switch date, and say where they will go before that', async () => {
    await atelier('models', 'alias', 'moved', MODEL, '--next', LAB, '--switch-at', '2020-01-01');
    await atelier('models', 'alias', 'moving', LAB, '--next', MODEL, '--switch-at', '2999-01-01');
    expect(await servedBy('moved')).toBe(LAB);
    expect(await servedBy('moving')).toBe(LAB);
    const models = await listed();
    expect(models.get('moved')?.atelier.alias_for).toBe(LAB);
    expect(models.get('moving')?.atelier.scheduled_switch).toEqual({
      target: MODEL,
      switch_at: Date.UTC(2999, 0, 1) / 1000,
    });
  });

  it('refuses a cycle', async () => {
    await atelier('models', 'alias', 'one', 'two');
    const cycle = await atelier('models', 'alias', 'two', 'one');
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toContain('point back at itself');
    await atelier('models', 'alias', 'one', '--remove');
  });
});

describe('deprecations', () => {
  it('before the shutdown date: Deprecation and Sunset headers, streaming or not, local or upstream', async () => {
    expect(
      (
        await atelier(
          'models',
          'deprecate',
          'gpt-3.5-turbo',
          '--shutdown',
          '2999-12-31',
          '--replacement',
          LAB,
        )
      ).code,
    ).toBe(0);
    await atelier('models', 'deprecate', MODEL, '--shutdown', '2999-12-31', '--replacement', LAB);
    for (const model of ['gpt-3.5-turbo', MODEL]) {
      for (const stream of [false, true]) {
        const response = await postRaw(gateway, '/chat/completions', {
          model,
          messages: hello,
          max_tokens: 2,
          stream,
        });
        expect(response.status, `${model} stream=${stream}`).toBe(200);
        expect(response.headers.get('deprecation')).toMatch(/^@\d+$/);
        expect(response.headers.get('sunset')).toBe('Tue, 31 Dec 2999 00:00:00 GMT');
      }
    }
    const models = await listed();
    expect(models.get(MODEL)?.atelier.deprecation).toMatchObject({
      shutdown_at: Date.UTC(2999, 11, 31) / 1000,
      replacement: LAB,
    });
    await atelier('models', 'deprecate', MODEL, '--undo');
    const undone = await postRaw(gateway, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 2,
    });
    expect(undone.headers.get('deprecation')).toBeNull();
  });

  it('after it: a 404 on every endpoint that names the replacement, and gone from the list', async () => {
    await atelier('models', 'alias', 'text-davinci-003', MODEL);
    await atelier(
      'models',
      'deprecate',
      'text-davinci-003',
      '--from',
      '2019-06-01',
      '--shutdown',
      '2020-01-04',
      '--replacement',
      'gpt-3.5-turbo',
    );
    const calls = [
      () => client.chat.completions.create({ model: 'text-davinci-003', messages: hello }),
      () => client.chat.completions.create({ model: 'text-davinci-003', messages: hello, stream: true }),
      () => client.completions.create({ model: 'text-davinci-003', prompt: 'x' }),
      () => client.embeddings.create({ model: 'text-davinci-003', input: 'x' }),
      () => client.models.retrieve('text-davinci-003'),
    ];
    for (const call of calls) {
      const error = await call().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      const apiError = error as InstanceType<typeof OpenAI.NotFoundError>;
      expect(apiError.code).toBe('model_not_found');
      expect(apiError.message).toContain('shut down on 2020-01-04');
      expect(apiError.message).toContain('`gpt-3.5-turbo`');
    }
    expect((await listed()).has('text-davinci-003')).toBe(false);
    // The model it pointed at is not affected.
    expect(await servedBy(MODEL)).toBe(MODEL);
  });
});

describe('prices and capabilities', () => {
  it('are set per model and shown by /v1/models', async () => {
    expect((await atelier('models', 'price', LAB, '--input', '0.5', '--output', '1.5')).code).toBe(0);
    expect((await atelier('models', 'set', LAB, '--vision', 'on', '--context', '2048')).code).toBe(0);
    const model = (await client.models.retrieve(LAB)) as unknown as AtelierModel;
    expect(model.atelier.pricing).toEqual({ input_per_1k: 0.5, output_per_1k: 1.5, currency: 'USD' });
    expect(model.atelier.capabilities.vision).toBe(true);
    expect(model.atelier.context_length).toBe(2048);
    const bad = await atelier('models', 'price', LAB, '--input', 'cheap');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--input must be a price');
  });
});

describe('fallbacks', () => {
  it('an upstream that cannot be reached is a 503 envelope without one', async () => {
    const response = await postRaw(gateway, '/chat/completions', { model: DOWN, messages: hello });
    expect(response.status).toBe(503);
    expect(JSON.parse(response.text)).toMatchObject({
      error: { type: 'service_unavailable_error', code: 'upstream_unavailable' },
    });
    // Atelier retried already: the client may try again a little later.
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('with fallbacks, the next in the list answers: upstream or local, streaming or not', async () => {
    await atelier('models', 'set', DOWN, '--fallbacks', `no-such-model,${LAB}`);
    expect(await servedBy(DOWN)).toBe(LAB);
    const stream = await postRaw(gateway, '/chat/completions', {
      model: DOWN,
      messages: hello,
      max_tokens: 2,
      stream: true,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-atelier-model')).toBe(LAB);
    expect(dataOnlyEvents(stream.text).at(-1)).toBe('[DONE]');

    await atelier('models', 'set', DOWN, '--fallbacks', MODEL);
    const local = await client.chat.completions.create({ model: DOWN, messages: hello, max_tokens: 2 });
    expect(local.model).toBe(MODEL);
    const models = await listed();
    expect(models.get(DOWN)?.atelier.fallbacks).toEqual([MODEL]);
    await atelier('models', 'set', DOWN, '--fallbacks', 'none');
  });
});

describe('atelier models list', () => {
  it('shows all of it: local and upstream models, aliases, deprecations, prices, fallbacks', async () => {
    await atelier('models', 'set', DOWN, '--fallbacks', LAB);
    const { code, stdout } = await atelier('models', 'list');
    expect(code).toBe(0);
    const line = (id: string) => stdout.split('\n').find((row) => row.startsWith(`${id} `)) ?? '';
    expect(line(MODEL)).toMatch(/llama-cpp\s+llama\s+\d+/);
    expect(line(MODEL)).toContain('test model (random weights)');
    expect(line(LAB)).toContain('upstream lab');
    expect(line(LAB)).toMatch(/2048\s+.*vision.*\$0\.5\s+\$1\.5/);
    expect(line('gpt-3.5-turbo')).toMatch(/alias.*→ lab\/atelier-tiny.*shuts down 2999-12-31/);
    expect(line('moving')).toContain(`→ ${MODEL} from 2999-01-01`);
    expect(line('text-davinci-003')).toContain('shut down 2020-01-04, use gpt-3.5-turbo');
    expect(line(DOWN)).toContain(`fallbacks: ${LAB}`);
  });
});

describe('stored upstreams', () => {
  it('are added from the CLI with the key sealed, served, listed without the key, and removed', async () => {
    const key = upstream.apiKey;
    const added = await atelier(
      'models',
      'upstream',
      'add',
      'lab2',
      '--base-url',
      upstream.baseURL,
      '--api-key-env',
      'LAB2_KEY',
      '--prefix',
      'lab2/',
    ).catch((error: unknown) => ({ code: -1, stdout: '', stderr: String(error) }));
    // The variable is not set yet: refused, nothing stored.
    expect(added.code).toBe(1);
    env = { ...env, LAB2_KEY: key };
    expect(
      (
        await atelier(
          'models',
          'upstream',
          'add',
          'lab2',
          '--base-url',
          upstream.baseURL,
          '--api-key-env',
          'LAB2_KEY',
          '--prefix',
          'lab2/',
        )
      ).code,
    ).toBe(0);
    const row = await gateway.server.storage.database.db
      .selectFrom('upstreams')
      .selectAll()
      .where('name', '=', 'lab2')
      .executeTakeFirstOrThrow();
    expect(row.api_key_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(key);
    expect(await servedBy(`lab2/${MODEL}`)).toBe(`lab2/${MODEL}`);

    const list = await atelier('models', 'upstream', 'list');
    expect(list.stdout).toMatch(
      /lab2\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+lab2\/\s+discovered\s+stored encrypted/,
    );
    expect(list.stdout).not.toContain(key);

    expect((await atelier('models', 'upstream', 'remove', 'lab2')).code).toBe(0);
    const gone = await client.chat.completions
      .create({ model: `lab2/${MODEL}`, messages: hello })
      .catch((caught: unknown) => caught);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
