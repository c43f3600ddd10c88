// /v1/files through the official client: uploads stream into a content-addressed blob store
// (bigger than the JSON body limit, never buffered whole), with OpenAI's purposes, limits and
// errors; list, retrieve, download and delete, each inside the caller's workspace.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { assertMatchesLatestSpec, otherWorkspaceClient, rawBody } from './vector-stores-support.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer({
    env: { ATELIER_MAX_FILE_BYTES: String(MAX_FILE_BYTES), ATELIER_MAX_BODY_BYTES: String(64 * 1024) },
  });
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const upload = (content: string | Uint8Array, filename: string, purpose: OpenAI.FilePurpose = 'assistants') =>
  toFile(Buffer.from(content), filename).then((file) => client.files.create({ file, purpose }));

async function blobs(): Promise<string[]> {
  const root = path.join(server.dataDir, 'files', 'sha256');
  const shards = await readdir(root).catch(() => [] as string[]);
  return (await Promise.all(shards.map((shard) => readdir(path.join(root, shard))))).flat().sort();
}

const tmpFiles = () => readdir(path.join(server.dataDir, 'files', 'tmp')).catch(() => [] as string[]);

describe('POST /v1/files', () => {
  it('stores the upload and answers with the File object', async () => {
    const file = await upload('hello, files', 'notes.txt');
    assertMatchesLatestSpec('OpenAIFile', file);
    expect(file).toEqual({
      id: expect.stringMatching(/^file-[0-9A-Za-z]{24}$/),
      object: 'file',
      bytes: 12,
      created_at: expect.any(Number),
      filename: 'notes.txt',
      purpose: 'assistants',
      status: 'processed',
    });
    expect(Math.abs(file.created_at - Date.now() / 1000)).toBeLessThan(5);
    expect(await blobs()).toContain(createHash('sha256').update('hello, files').digest('hex'));
  });

  it('streams a file larger than the JSON body limit into the blob store, byte for byte', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, index) => (index * 31) % 251);
    const file = await upload(big, 'big.bin', 'user_data');
    expect(file.bytes).toBe(big.length);
    const response = await client.files.content(file.id);
    expect(response.headers.get('content-length')).toBe(String(big.length));
    const downloaded = new Uint8Array(await response.arrayBuffer());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(
      createHash('sha256').update(big).digest('hex'),
    );
  });

  it('refuses a file over the limit with 413, keeping nothing of it', async () => {
    const before = await blobs();
    const error = await upload(new Uint8Array(MAX_FILE_BYTES + 1), 'huge.bin').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      message: 'File is too large: the limit is 4 MB per file.',
      type: 'invalid_request_error',
      code: 'request_too_large',
    });
    expect(await blobs()).toEqual(before);
    expect(await tmpFiles()).toEqual([]);
    // Exactly at the limit is fine.
    expect((await upload(new Uint8Array(MAX_FILE_BYTES).fill(7), 'edge.bin', 'user_data')).bytes).toBe(
      MAX_FILE_BYTES,
    );
  });

  it.each([
    [{ purpose: 'nonsense' }, 'purpose', /Invalid value for 'purpose'/],
    [{ purpose: 'fine-tune', filename: 'data.txt' }, 'file', /must be JSON Lines \(\.jsonl\)/],
    [{ purpose: 'batch', filename: 'requests.csv' }, 'file', /must be JSON Lines/],
    [{ purpose: 'vision', filename: 'doc.pdf' }, 'file', /expected an image/],
    [{ purpose: 'assistants', content: '' }, 'file', /The file is empty/],
  ])('refuses %j with a 400 naming the parameter', async (params, param, message) => {
    const {
      purpose,
      filename = 'x.txt',
      content = 'data',
    } = params as {
      purpose: string;
      filename?: string;
      content?: string;
    };
    const error = await upload(content, filename, purpose as OpenAI.FilePurpose).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      param,
      message: expect.stringMatching(message),
    });
    expect(await tmpFiles()).toEqual([]);
  });

  it('accepts each purpose with a suitable file', async () => {
    for (const [purpose, filename] of [
      ['assistants', 'a.md'],
      ['vision', 'cat.png'],
      ['user_data', 'data.xyz'],
      ['fine-tune', 'train.jsonl'],
      ['batch', 'batch.jsonl'],
    ] as const) {
      expect((await upload('{"a":1}\n', filename, purpose)).purpose).toBe(purpose);
    }
  });

  it('refuses a request without a file, or not multipart, with 400', async () => {
    const noFile = await fetch(`${server.baseURL}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}` },
      body: (() => {
        const form = new FormData();
        form.set('purpose', 'assistants');
        return form;
      })(),
    });
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toMatchObject({
      error: { param: 'file', message: "Missing required parameter: 'file'." },
    });
    const json = await fetch(`${server.baseURL}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ purpose: 'assistants' }),
    });
    expect(json.status).toBe(400);
    expect((await json.json()).error.message).toMatch(/multipart\/form-data/);
  });

  it('refuses a cut-off multipart body with 400', async () => {
    const truncated = await fetch(`${server.baseURL}/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.apiKey}`,
        'content-type': 'multipart/form-data; boundary=XYZ',
      },
      body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunfinished',
    });
    expect(truncated.status).toBe(400);
  });

  it('takes expires_after and sets expires_at', async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from('temporary'), 'temp.txt'),
      purpose: 'user_data',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    expect(file.expires_at).toBe(file.created_at + 3600);
    const error = await client.files
      .create({
        file: await toFile(Buffer.from('temporary'), 'temp.txt'),
        purpose: 'user_data',
        expires_after: { anchor: 'created_at', seconds: 10 },
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      param: 'expires_after.seconds',
    });
  });

  it('cleans the name it is given: no directories, no control characters', async () => {
    expect((await upload('x', '../../etc/pass\u0001wd.txt')).filename).toBe('passwd.txt');
  });
});

describe('GET, DELETE /v1/files', () => {
  it('lists newest first, pages, and filters by purpose', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) ids.push((await upload(`page ${index}`, `p${index}.txt`)).id);
    const first = await client.files.list({ limit: 2 });
    assertMatchesLatestSpec('ListFilesResponse', rawBody(first));
    expect(first.data.map((file) => file.id)).toEqual([ids[3], ids[2]]);
    expect(first.has_more).toBe(true);
    const next = await client.files.list({ limit: 2, after: ids[2] });
    expect(next.data.map((file) => file.id)).toEqual([ids[1], ids[0]]);
    const vision = await client.files.list({ purpose: 'vision' });
    expect(vision.data.every((file) => file.purpose === 'vision')).toBe(true);
    expect(vision.data.length).toBeGreaterThan(0);
    const seen: string[] = [];
    for await (const file of client.files.list({ limit: 3 })) seen.push(file.id);
    expect(seen.slice(0, 4)).toEqual([...ids].reverse());
  });

  it('retrieves, downloads and deletes; the bytes go when no file needs them any more', async () => {
    const content = `shared content ${Date.now()}`;
    const hash = createHash('sha256').update(content).digest('hex');
    const one = await upload(content, 'one.txt');
    const two = await upload(content, 'two.txt');
    expect((await blobs()).filter((name) => name === hash)).toHaveLength(1);

    expect(await client.files.retrieve(one.id)).toEqual(one);
    expect(await (await client.files.content(one.id)).text()).toBe(content);

    expect(await client.files.delete(one.id)).toEqual({ id: one.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(one.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.files.content(one.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.files.delete(one.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // The other file has the same bytes: they stay.
    expect(await (await client.files.content(two.id)).text()).toBe(content);
    await client.files.delete(two.id);
    expect(await blobs()).not.toContain(hash);
  });

  it('shows another workspace nothing: 404 for our ids, an empty list', async () => {
    const mine = await upload('private', 'private.txt');
    const other = await otherWorkspaceClient(server);
    await expect(other.files.retrieve(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.files.content(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.files.delete(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await other.files.list()).data).toEqual([]);
    expect((await client.files.retrieve(mine.id)).id).toBe(mine.id);
  });
});
