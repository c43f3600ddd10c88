// The built-in tools as the server starts them: both on a machine that runs the sandbox, closed
// with the server; file_search alone, and the reason in the log, on one that cannot.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from './config/config.js';
import { createFilesService } from './platform/files-service.js';
import { createVectorStoresService } from './platform/vector-stores-service.js';
import { startBuiltInTools } from './start-tools.js';
import { createFileBlobStore } from './storage/file-blob-store.js';
import { openSearchIndex } from './storage/open-search-index.js';
import { createRepositories } from './storage/repositories.js';
import { createTestDatabase, type TestDatabase } from './storage/test-support/dialects.js';
import { SandboxUnavailableError } from './tools/code-interpreter/sandbox-errors.js';
import { createRetrieval } from './tools/retrieval/search-vector-stores.js';

let database: TestDatabase;
let dataDir: string;
let config: Config;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-start-tools-'));
  config = loadConfig({
    env: { ATELIER_DATA_DIR: dataDir, ATELIER_SANDBOX_MAX_SESSIONS: '2' },
    cwd: dataDir,
  });
  database = await createTestDatabase({ dialect: 'sqlite' });
});
afterAll(async () => {
  await database?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

function services() {
  const repositories = createRepositories(database.db);
  const retrieval = createRetrieval({
    repositories,
    searchIndex: openSearchIndex(database),
    embeddingModel: null,
  });
  return {
    config,
    repositories,
    files: createFilesService({
      repositories,
      blobStore: createFileBlobStore({ root: path.join(dataDir, 'files') }),
    }),
    vectorStores: createVectorStoresService({ repositories, retrieval }),
    retrieval,
  };
}

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('startBuiltInTools', () => {
  it('starts file_search and the sandbox from the config; closing ends every session', async () => {
    const { logger, lines } = recordingLogger();
    const started = await startBuiltInTools({ ...services(), log: logger });
    expect(started.tools.fileSearch?.createVectorStore).toBeTypeOf('function');
    expect(started.tools.codeInterpreter).toBeDefined();
    expect(started.interpreter?.sandbox.limits).toMatchObject({ memoryMb: 2048, timeoutSeconds: 120 });
    expect(lines.map((line) => line.msg)).toContainEqual(
      expect.stringMatching(/^code interpreter: Python 3\./),
    );
    const workspaceId = (await createRepositories(database.db).workspaces.create({ name: 'w' })).id;
    const result = await started.tools.codeInterpreter!.execute({
      workspaceId,
      sessionId: 'thread_x',
      code: 'print(6 * 7)',
      fileIds: [],
    });
    expect(result.logs).toBe('42\n');
    const instances = path.join(started.interpreter!.sandbox.runtimeDir, 'instances');
    const ours = async () => (await readdir(instances)).filter((name) => name.startsWith(`${process.pid}-`));
    expect(await ours()).toHaveLength(1);
    await started.close();
    expect(await ours()).toEqual([]);
    await expect(
      started.tools.codeInterpreter!.execute({ workspaceId, sessionId: 'thread_x', code: '1', fileIds: [] }),
    ).rejects.toThrow('The code interpreter is shutting down.');
  });

  it('without a sandbox: file_search only, and the log says why', async () => {
    const { logger, lines } = recordingLogger();
    const started = await startBuiltInTools({
      ...services(),
      log: logger,
      createInterpreter: async () => {
        throw new SandboxUnavailableError(['bwrap is not installed (apt-get install bubblewrap)']);
      },
    });
    expect(started.tools.fileSearch).toBeDefined();
    expect(started.tools.codeInterpreter).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "code interpreter is off: The code interpreter's sandbox cannot run on this machine: bwrap is not installed (apt-get install bubblewrap)",
      }),
    );
    await started.close();
  });
});
