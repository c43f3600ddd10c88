// Vector stores through the official client, on SQLite and on PostgreSQL: documents of every
// supported type are uploaded, ingested in the background and searched; the passage holding
// the answer comes back first, quoted exactly. Unreadable files fail with a reason; deleting a
// file removes its chunks from search; another workspace sees nothing.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeDocx,
  makeHtml,
  makeImageOnlyPdf,
  makePdf,
} from '../../packages/server/src/tools/retrieval/test-support/documents.js';
import {
  assertMatchesLatestSpec,
  DIALECTS,
  type DialectServer,
  filler,
  otherWorkspaceClient,
  rawBody,
  startDialectServer,
} from './vector-stores-support.js';

interface Document {
  readonly filename: string;
  readonly bytes: () => Promise<Uint8Array | string>;
  /** The one sentence that answers `question`, exactly as extraction yields it. */
  readonly fact: string;
  readonly question: string;
}

const DOCUMENTS: readonly Document[] = [
  {
    filename: 'keeper.txt',
    fact: 'The lighthouse keeper Oswin Marrow recorded 412 storms in his logbook.',
    question: 'How many storms did Oswin Marrow record?',
    bytes: async () =>
      `${filler(1)}\n\nThe lighthouse keeper Oswin Marrow recorded 412 storms in his logbook.\n\n${filler(2)}`,
  },
  {
    filename: 'design.md',
    fact: 'Project Tamarind uses a quorum of seven replicas.',
    question: 'What quorum does Project Tamarind use?',
    bytes: async () =>
      `# Design\n\n${filler(3)}\n\n## Consensus\n\nProject Tamarind uses a quorum of seven replicas.\n\n${filler(4)}`,
  },
  {
    filename: 'history.pdf',
    fact: 'The Halvard bridge was opened to traffic in 1932.',
    question: 'When was the Halvard bridge opened to traffic?',
    bytes: () => makePdf([filler(5), 'The Halvard bridge was opened to traffic in 1932.', filler(6)]),
  },
  {
    filename: 'handbook.docx',
    fact: 'Employees of Brackwater Labs accrue 27 vacation days per year.',
    question: 'How many vacation days do employees of Brackwater Labs accrue?',
    bytes: () =>
      makeDocx([filler(7), 'Employees of Brackwater Labs accrue 27 vacation days per year.', filler(8)]),
  },
  {
    filename: 'glaciers.html',
    fact: 'The Quellfjord glacier retreats about 14 metres each summer.',
    question: 'How far does the Quellfjord glacier retreat each summer?',
    bytes: async () =>
      makeHtml('Glaciers', [
        filler(9),
        'The Quellfjord glacier retreats about 14 metres each summer.',
        filler(10),
      ]),
  },
  {
    filename: 'survey.csv',
    fact: 'Zephyrine,cobalt blue,1987',
    question: 'favourite colour of Zephyrine',
    bytes: async () =>
      ['name,favourite colour,born', 'Ada,green,1990', 'Zephyrine,cobalt blue,1987', 'Bruno,red,1975'].join(
        '\n',
      ),
  },
  {
    filename: 'services.json',
    fact: '"name": "Larkspur", "port": 8443',
    question: 'Larkspur port',
    bytes: async () =>
      JSON.stringify(
        {
          services: [
            { name: 'Ondine', port: 9000 },
            { name: 'Larkspur', port: 8443 },
          ],
        },
        null,
        0,
      )
        .replaceAll('","', '", "')
        .replaceAll('":', '": ')
        .replaceAll(',"', ', "'),
  },
  {
    filename: 'tithe.py',
    fact: 'The Vestibule tithe rate is 13 percent.',
    question: 'What is the Vestibule tithe rate?',
    bytes: async () =>
      `# ${filler(11, 3)}\n\ndef compute_tithe(amount):\n    """The Vestibule tithe rate is 13 percent."""\n    return amount * 0.13\n`,
  },
];

async function upload(client: OpenAI, filename: string, content: Uint8Array | string) {
  const file = await client.files.create({
    file: await toFile(Buffer.from(content), filename),
    purpose: 'assistants',
  });
  assertMatchesLatestSpec('OpenAIFile', file);
  return file;
}

describe.each(DIALECTS)('vector stores API [%s]', (dialect) => {
  let started: DialectServer;
  let client: OpenAI;
  const fileIds = new Map<string, string>();
  let storeId: string;
  let batchId: string;

  beforeAll(async () => {
    started = await startDialectServer(dialect);
    client = started.server.client;
    for (const document of DOCUMENTS) {
      fileIds.set(document.filename, (await upload(client, document.filename, await document.bytes())).id);
    }
  });
  afterAll(async () => {
    await started?.close();
  });

  it('ingests documents of every type in a file batch, in the background, then reports them completed', async () => {
    const store = await client.vectorStores.create({
      name: 'Knowledge',
      metadata: { team: 'docs' },
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } },
    });
    assertMatchesLatestSpec('VectorStoreObject', store);
    expect(store).toMatchObject({ object: 'vector_store', name: 'Knowledge', metadata: { team: 'docs' } });
    expect(store.id).toMatch(/^vs_[0-9A-Za-z]{24}$/);
    storeId = store.id;

    const batch = await client.vectorStores.fileBatches.createAndPoll(storeId, {
      files: [...fileIds.values()].map((file_id) => ({
        file_id,
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 },
        },
      })),
    });
    assertMatchesLatestSpec('VectorStoreFileBatchObject', batch);
    expect(batch).toMatchObject({
      object: 'vector_store.files_batch',
      vector_store_id: storeId,
      status: 'completed',
      file_counts: {
        in_progress: 0,
        completed: DOCUMENTS.length,
        failed: 0,
        cancelled: 0,
        total: DOCUMENTS.length,
      },
    });
    expect(batch.id).toMatch(/^vsfb_/);
    batchId = batch.id;

    const batchFiles = await client.vectorStores.fileBatches.listFiles(batch.id, {
      vector_store_id: storeId,
    });
    expect(batchFiles.data.map((file) => file.id).sort()).toEqual([...fileIds.values()].sort());
    for (const file of batchFiles.data) {
      assertMatchesLatestSpec('VectorStoreFileObject', file);
      expect(file).toMatchObject({
        status: 'completed',
        last_error: null,
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 },
        },
      });
      expect(file.usage_bytes).toBeGreaterThan(0);
    }

    const after = await client.vectorStores.retrieve(storeId);
    expect(after.status).toBe('completed');
    expect(after.file_counts).toEqual({ in_progress: 0, completed: 8, failed: 0, cancelled: 0, total: 8 });
    expect(after.usage_bytes).toBe(batchFiles.data.reduce((sum, file) => sum + file.usage_bytes, 0));
  });

  it.each(DOCUMENTS.map((document) => [document.filename, document] as const))(
    'search finds the passage of %s that holds the answer, quoted exactly',
    async (filename, document) => {
      const page = await client.vectorStores.search(storeId, {
        query: document.question,
        max_num_results: 5,
      });
      assertMatchesLatestSpec('VectorStoreSearchResultsPage', rawBody(page));
      const [top] = page.data;
      expect(top).toMatchObject({ file_id: fileIds.get(filename), filename, attributes: {} });
      expect(top!.content[0]!.type).toBe('text');
      expect(top!.content[0]!.text).toContain(document.fact);
      expect(top!.score).toBeGreaterThan(0);
      expect(top!.score).toBeLessThanOrEqual(1);
      // The quote is the file's own text, as its parsed content shows it.
      const content = await client.vectorStores.files.content(fileIds.get(filename)!, {
        vector_store_id: storeId,
      });
      expect(content.data[0]!.text).toContain(top!.content[0]!.text);
    },
  );

  it('fails an unreadable file with a reason, and counts it, without disturbing the rest', async () => {
    const scan = await upload(client, 'scan.pdf', await makeImageOnlyPdf());
    const photo = await upload(
      client,
      'photo.png',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]),
    );
    const failedScan = await client.vectorStores.files.createAndPoll(storeId, { file_id: scan.id });
    const failedPhoto = await client.vectorStores.files.createAndPoll(storeId, { file_id: photo.id });
    assertMatchesLatestSpec('VectorStoreFileObject', failedScan);
    expect(failedScan).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } });
    expect(failedScan.last_error!.message).toMatch(/no text layer/);
    expect(failedPhoto).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
    expect(failedPhoto.last_error!.message).toMatch(/\.png are not supported/);

    const store = await client.vectorStores.retrieve(storeId);
    expect(store.file_counts).toMatchObject({ completed: 8, failed: 2, total: 10 });
    const failed = await client.vectorStores.files.list(storeId, { filter: 'failed' });
    expect(failed.data.map((file) => file.id).sort()).toEqual([scan.id, photo.id].sort());
  });

  it('filters search by file attributes, and lists results above a score threshold only', async () => {
    const tagged = await client.vectorStores.files.update(fileIds.get('keeper.txt')!, {
      vector_store_id: storeId,
      attributes: { topic: 'sea', year: 1890 },
    });
    expect(tagged.attributes).toEqual({ topic: 'sea', year: 1890 });
    const filtered = await client.vectorStores.search(storeId, {
      query: 'storms logbook keeper',
      filters: {
        type: 'and',
        filters: [
          { type: 'eq', key: 'topic', value: 'sea' },
          { type: 'lt', key: 'year', value: 1900 },
        ],
      },
    });
    expect(filtered.data.length).toBeGreaterThan(0);
    expect(new Set(filtered.data.map((result) => result.file_id))).toEqual(
      new Set([fileIds.get('keeper.txt')]),
    );
    expect(filtered.data[0]!.attributes).toEqual({ topic: 'sea', year: 1890 });

    const none = await client.vectorStores.search(storeId, {
      query: 'storms',
      filters: { type: 'eq', key: 'topic', value: 'space' },
    });
    expect(none.data).toEqual([]);

    const all = await client.vectorStores.search(storeId, {
      query: 'storms quorum bridge',
      max_num_results: 20,
    });
    const strict = await client.vectorStores.search(storeId, {
      query: 'storms quorum bridge',
      max_num_results: 20,
      ranking_options: { score_threshold: 0.9 },
    });
    expect(strict.data.length).toBeLessThan(all.data.length);
    expect(strict.data.every((result) => result.score >= 0.9)).toBe(true);
  });

  it('deleting a file removes its chunks from search and the file from every store', async () => {
    const question = 'What quorum does Project Tamarind use?';
    const before = await client.vectorStores.search(storeId, { query: question });
    expect(before.data[0]!.file_id).toBe(fileIds.get('design.md'));

    const deleted = await client.files.delete(fileIds.get('design.md')!);
    expect(deleted).toEqual({ id: fileIds.get('design.md'), object: 'file', deleted: true });
    const afterwards = await client.vectorStores.search(storeId, { query: question });
    expect(afterwards.data.map((result) => result.file_id)).not.toContain(fileIds.get('design.md'));
    expect(afterwards.data.some((result) => result.content[0]!.text.includes('Tamarind'))).toBe(false);
    await expect(
      client.vectorStores.files.retrieve(fileIds.get('design.md')!, { vector_store_id: storeId }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    // Detaching (without deleting the file) does the same for one store.
    const detached = await client.vectorStores.files.delete(fileIds.get('tithe.py')!, {
      vector_store_id: storeId,
    });
    expect(detached).toEqual({
      id: fileIds.get('tithe.py'),
      object: 'vector_store.file.deleted',
      deleted: true,
    });
    const tithe = await client.vectorStores.search(storeId, { query: 'What is the Vestibule tithe rate?' });
    expect(tithe.data.map((result) => result.file_id)).not.toContain(fileIds.get('tithe.py'));
    expect((await client.files.retrieve(fileIds.get('tithe.py')!)).id).toBe(fileIds.get('tithe.py'));
    expect((await client.vectorStores.retrieve(storeId)).file_counts.completed).toBe(6);
  });

  it('keeps everything inside the workspace: another workspace gets 404s and empty lists', async () => {
    const other = await otherWorkspaceClient(started.server);
    await expect(other.vectorStores.retrieve(storeId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.vectorStores.search(storeId, { query: 'storms' })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(other.vectorStores.files.list(storeId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.vectorStores.delete(storeId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await other.vectorStores.list()).data).toEqual([]);
    // Their own store cannot take our files either.
    const theirs = await other.vectorStores.create({ name: 'theirs' });
    const error = await other.vectorStores.files
      .create(theirs.id, { file_id: fileIds.get('keeper.txt')! })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ param: 'file_id' });
    await expect(other.files.retrieve(fileIds.get('keeper.txt')!)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    // And ours still works.
    expect((await client.vectorStores.retrieve(storeId)).id).toBe(storeId);
  });

  it('pages lists like OpenAI: limit, order, after, before, first_id/last_id/has_more', async () => {
    const created: string[] = [];
    for (let index = 0; index < 5; index++)
      created.push((await client.vectorStores.create({ name: `p${index}` })).id);
    const newestFirst = [...created].reverse();

    const first = await client.vectorStores.list({ limit: 2 });
    assertMatchesLatestSpec('ListVectorStoresResponse', rawBody(first));
    expect(first.data.map((store) => store.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.has_more).toBe(true);
    const raw = rawBody(first) as { first_id: string; last_id: string };
    expect([raw.first_id, raw.last_id]).toEqual(newestFirst.slice(0, 2));

    const second = await client.vectorStores.list({ limit: 2, after: newestFirst[1] });
    expect(second.data.map((store) => store.id)).toEqual(newestFirst.slice(2, 4));
    const back = await client.vectorStores.list({ limit: 2, before: newestFirst[2] });
    expect(back.data.map((store) => store.id)).toEqual(newestFirst.slice(0, 2));
    expect(back.has_more).toBe(false);
    const ascending = await client.vectorStores.list({ limit: 3, order: 'asc', after: created[0] });
    expect(ascending.data.map((store) => store.id)).toEqual(created.slice(1, 4));

    // Auto-pagination walks every page, even while deleting what it saw.
    const seen: string[] = [];
    for await (const store of client.vectorStores.list({ limit: 2 })) {
      seen.push(store.id);
      if (created.includes(store.id)) await client.vectorStores.delete(store.id);
    }
    expect(seen.slice(0, 5)).toEqual(newestFirst);
    expect((await client.vectorStores.list({ limit: 100 })).data.map((store) => store.id)).not.toContain(
      created[0],
    );
  });

  it('creates a store with files, expires_after and default chunking; updates and deletes it', async () => {
    const file = await upload(client, 'short.txt', 'A short note about nothing in particular.');
    const store = await client.vectorStores.create({
      name: 'Expiring',
      file_ids: [file.id],
      expires_after: { anchor: 'last_active_at', days: 7 },
    });
    expect(store.expires_after).toEqual({ anchor: 'last_active_at', days: 7 });
    expect(store.expires_at).toBe(store.last_active_at! + 7 * 86_400);
    expect(store.file_counts.total).toBe(1);
    const attached = await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 50 });
    expect(attached.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
    });

    const renamed = await client.vectorStores.update(store.id, { name: 'Renamed', expires_after: null });
    expect(renamed).toMatchObject({ name: 'Renamed', expires_at: null });
    expect(renamed.expires_after).toBeUndefined();

    expect(await client.vectorStores.delete(store.id)).toEqual({
      id: store.id,
      object: 'vector_store.deleted',
      deleted: true,
    });
    await expect(client.vectorStores.retrieve(store.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // The file outlives the store.
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
  });

  it('refuses bad input with 400s that name the parameter', async () => {
    const bad = async (request: () => Promise<unknown>, param: string) => {
      const error = await request().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param });
    };
    await bad(
      () =>
        client.vectorStores.create({
          chunking_strategy: {
            type: 'static',
            static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 80 },
          },
        }),
      'chunking_strategy.static.chunk_overlap_tokens',
    );
    await bad(
      () =>
        client.vectorStores.create({
          chunking_strategy: {
            type: 'static',
            static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 0 },
          },
        }),
      'chunking_strategy.static.max_chunk_size_tokens',
    );
    await bad(
      () => client.vectorStores.search(storeId, { query: 'x', max_num_results: 51 }),
      'max_num_results',
    );
    await bad(() => client.vectorStores.list({ after: 'not-an-id' }), 'after');
    for (const cursor of ['after', 'before'] as const) {
      await bad(() => client.vectorStores.files.list(storeId, { [cursor]: 'not-an-id' }), cursor);
      await bad(
        () =>
          client.vectorStores.fileBatches.listFiles(batchId, {
            vector_store_id: storeId,
            [cursor]: 'not-an-id',
          }),
        cursor,
      );
    }
    await bad(
      () => client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 0 } }),
      'expires_after.days',
    );
  });

  it('resumes ingestion after a restart: files queued when the server stopped are completed by the next one', async () => {
    const first = await startDialectServer(dialect);
    const dataDir = first.server.dataDir;
    const env = { ...first.env, ATELIER_DATA_DIR: dataDir };
    let second: DialectServer | undefined;
    try {
      // The first server stops ingesting (as if it crashed right after accepting the files).
      await first.server.server.knowledge.ingestion.stop();
      const store = await first.server.client.vectorStores.create({ name: 'restart' });
      const files = [];
      for (const [index, document] of DOCUMENTS.slice(0, 3).entries()) {
        files.push(
          await upload(first.server.client, `${index}-${document.filename}`, await document.bytes()),
        );
      }
      await first.server.client.vectorStores.fileBatches.create(store.id, {
        file_ids: files.map((file) => file.id),
      });
      expect((await first.server.client.vectorStores.retrieve(store.id)).status).toBe('in_progress');
      await first.server.server.close();

      second = await startDialectServer(dialect, env);
      const done = await second.server.client.vectorStores.files.list(store.id);
      const polled = await Promise.all(
        done.data.map((file) =>
          second!.server.client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 50 }),
        ),
      );
      expect(polled.map((file) => file.status)).toEqual(['completed', 'completed', 'completed']);
      const page = await second.server.client.vectorStores.search(store.id, {
        query: DOCUMENTS[0]!.question,
      });
      expect(page.data[0]!.content[0]!.text).toContain(DOCUMENTS[0]!.fact);
    } finally {
      await second?.close();
      await first.close().catch(() => {});
    }
  });
});
