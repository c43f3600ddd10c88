// The code_interpreter adapter on a real sandbox and real storage: the run's files under
// /mnt/data by name, images and written files stored as `assistants_output` files, and whatever
// stops an execution (a limit, a full sandbox) told in the logs instead of failing the call.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '../storage/file-blob-store.js';
import { createRepositories, type Repositories } from '../storage/repositories.js';
import { createTestDatabase, type TestDatabase } from '../storage/test-support/dialects.js';
import { type CodeInterpreter, createCodeInterpreter } from '../tools/code-interpreter/code-interpreter.js';
import { decodePng } from '../tools/code-interpreter/test-support/png.js';
import {
  removeRuntimeDir,
  sandboxTestOptions,
} from '../tools/code-interpreter/test-support/sandbox-test-options.js';
import {
  type CodeInterpreterToolHandle,
  createCodeInterpreterTool,
  OUTPUT_FILE_PURPOSE,
  sandboxNames,
} from './code-interpreter-tool.js';
import { createFilesService, type FilesService } from './files-service.js';

const options = sandboxTestOptions();
// Small limits for the test of limits, in an interpreter of their own (charts take seconds on a
// loaded machine).
const tightOptions = sandboxTestOptions({ maxSessions: 2, limits: { timeoutSeconds: 3 } });
let database: TestDatabase;
let repositories: Repositories;
let files: FilesService;
let interpreter: CodeInterpreter;
let tool: CodeInterpreterToolHandle;
let tightInterpreter: CodeInterpreter;
let tight: CodeInterpreterToolHandle;
let workspaceId: string;
let dataDir: string;
let cacheDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-ci-tool-'));
  cacheDir = path.join(dataDir, 'cache');
  database = await createTestDatabase({ dialect: 'sqlite' });
  repositories = createRepositories(database.db);
  files = createFilesService({
    repositories,
    blobStore: createFileBlobStore({ root: path.join(dataDir, 'files') }),
  });
  workspaceId = (await repositories.workspaces.create({ name: 'lab' })).id;
  interpreter = await createCodeInterpreter(options);
  tool = await createCodeInterpreterTool({ interpreter, repositories, files, cacheDir });
  tightInterpreter = await createCodeInterpreter(tightOptions);
  tight = await createCodeInterpreterTool({
    interpreter: tightInterpreter,
    repositories,
    files,
    cacheDir: path.join(dataDir, 'tight-cache'),
  });
});

afterAll(async () => {
  await tool?.close();
  await interpreter?.close();
  await tight?.close();
  await tightInterpreter?.close();
  await removeRuntimeDir(options.runtimeDir);
  await removeRuntimeDir(tightOptions.runtimeDir);
  await database?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

async function upload(filename: string, text: string, workspace = workspaceId): Promise<string> {
  const received = await files.receive({ filename, source: Readable.from([Buffer.from(text)]) });
  return (await received.finish({ workspaceId: workspace, purpose: 'assistants' })).id;
}

async function bytesOf(fileId: string): Promise<Buffer> {
  const { stream } = await files.content(workspaceId, fileId);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the code_interpreter tool', () => {
  it('places the run’s files under /mnt/data by name, two of one name apart, from one cached copy', async () => {
    const sales = await upload('sales.csv', 'region,amount\nnorth,3\nsouth,4\n');
    const first = await upload('notes.txt', 'first');
    const second = await upload('notes.txt', 'second');
    const result = await tool.execute({
      workspaceId,
      sessionId: 'thread_files',
      code: [
        'import os, pandas as pd',
        'print("|".join(sorted(os.listdir("/mnt/data"))))',
        'print(pd.read_csv("/mnt/data/sales.csv")["amount"].sum())',
        `print(open("/mnt/data/notes.txt").read(), open("/mnt/data/notes-${second}.txt").read())`,
      ].join('\n'),
      fileIds: [sales, first, second, 'file-gone'],
    });
    expect(result.logs).toBe(
      '[sandbox] The file file-gone was deleted: it is not in /mnt/data.\n' +
        `notes-${second}.txt|notes.txt|sales.csv\n` +
        '7\nfirst second\n',
    );
    // Files placed by the server are inputs, not outputs.
    expect(result.files).toEqual([]);
    // A file of another workspace is not found, so not placed.
    const foreign = await upload(
      'secret.txt',
      'nope',
      (await repositories.workspaces.create({ name: 'x' })).id,
    );
    const other = await tool.execute({
      workspaceId,
      sessionId: 'thread_files',
      code: 'import os; print(os.path.exists("/mnt/data/secret.txt"))',
      fileIds: [foreign],
    });
    expect(other.logs).toBe(`[sandbox] The file ${foreign} was deleted: it is not in /mnt/data.\nFalse\n`);
    // Identical content is cached once, by hash.
    expect((await readdir(cacheDir)).filter((name) => !name.endsWith('.part'))).toHaveLength(3);
  });

  it('keeps state between calls of a session (a thread)', async () => {
    await tool.execute({ workspaceId, sessionId: 'thread_state', code: 'total = 40', fileIds: [] });
    const next = await tool.execute({
      workspaceId,
      sessionId: 'thread_state',
      code: 'print(total + 2)',
      fileIds: [],
    });
    expect(next.logs).toBe('42\n');
  });

  it('stores charts as PNG files and written files as assistants_output files', async () => {
    const result = await tool.execute({
      workspaceId,
      sessionId: 'thread_outputs',
      code: [
        'import matplotlib.pyplot as plt, pandas as pd',
        'plt.plot([1, 2, 3], [3, 1, 2])',
        'plt.title("trend")',
        'pd.DataFrame({"x": [1, 2]}).to_csv("/mnt/data/out.csv", index=False)',
        'open("/mnt/data/empty.txt", "w").close()',
        'print("done")',
      ].join('\n'),
      fileIds: [],
    });
    expect(result.logs).toBe('done\n[sandbox] /mnt/data/empty.txt is not returned: The file is empty.\n');
    expect(result.imageFileIds).toHaveLength(1);
    const image = await repositories.files.find(workspaceId, result.imageFileIds[0]!);
    expect(image).toMatchObject({ purpose: OUTPUT_FILE_PURPOSE, contentType: 'image/png' });
    const png = decodePng(await bytesOf(image!.id));
    expect(png.width).toBeGreaterThan(100);
    expect(result.files).toEqual([{ fileId: expect.stringMatching(/^file-/), path: '/mnt/data/out.csv' }]);
    const csv = await repositories.files.find(workspaceId, result.files[0]!.fileId);
    expect(csv).toMatchObject({ filename: 'out.csv', purpose: OUTPUT_FILE_PURPOSE, contentType: 'text/csv' });
    expect((await bytesOf(csv!.id)).toString()).toBe('x\n1\n2\n');
  });

  it('tells limits and a full sandbox in the logs: the call itself succeeds', async () => {
    const slow = await tight.execute({
      workspaceId,
      sessionId: 'thread_limits',
      code: 'import time\nkept = 1\ntime.sleep(30)',
      fileIds: [],
    });
    expect(slow.logs).toMatch(/longer than 3 s, the sandbox's time limit/);
    expect(
      (await tight.execute({ workspaceId, sessionId: 'thread_limits', code: 'print(kept)', fileIds: [] }))
        .logs,
    ).toBe('1\n');

    // Two sandboxes at most, both running code: a third session is told to wait, not failed.
    const busy = ['thread_busy_1', 'thread_busy_2'].map((sessionId) =>
      tight.execute({ workspaceId, sessionId, code: 'import time; time.sleep(4)', fileIds: [] }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refused = await tight.execute({
      workspaceId,
      sessionId: 'thread_busy_3',
      code: 'print(1)',
      fileIds: [],
    });
    expect(refused).toEqual({
      logs: expect.stringMatching(/^\[sandbox\] The code interpreter is running code for 2 other sessions/),
      imageFileIds: [],
      files: [],
    });
    await Promise.all(busy);
  });

  it('aborting rejects (the run was cancelled), nothing is stored', async () => {
    const controller = new AbortController();
    const execution = tool.execute({
      workspaceId,
      sessionId: 'thread_abort',
      code: 'import time; open("/mnt/data/late.txt", "w").write("x"); time.sleep(20)',
      fileIds: [],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('cancelled')), 500);
    await expect(execution).rejects.toThrow('cancelled');
    const stored = await repositories.files.list({ workspaceId, limit: 100, order: 'desc' });
    expect(stored.data.map((file) => file.filename)).not.toContain('late.txt');
  });
});

describe('sandbox names', () => {
  it('keeps names, separates twins by id and never uses a reserved or unsafe name', () => {
    expect(
      sandboxNames([
        { id: 'file-a', filename: 'data.csv' },
        { id: 'file-b', filename: 'data.csv' },
        { id: 'file-c', filename: '.atelier-upload-x' },
        { id: 'file-d', filename: '..' },
        { id: 'file-e', filename: 'a/b\\c' },
        { id: 'file-f', filename: `${'é'.repeat(200)}.txt` },
      ]),
    ).toEqual([
      'data.csv',
      'data-file-b.csv',
      '_.atelier-upload-x',
      'file',
      'a_b_c',
      `${'é'.repeat(125)}.txt`,
    ]);
  });
});
