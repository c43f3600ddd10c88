// code_interpreter for runs: the tool spec's CodeInterpreterTool over the sandbox
// (tools/code-interpreter/). A session per thread (the engine's sessionId); the run's files are
// looked up in the workspace and placed under /mnt/data by their names; images the code made and
// files it wrote under /mnt/data are stored as files (purpose `assistants_output`), which become
// `image_file` content and the targets of `sandbox:/mnt/data/…` links. What stops one execution
// (a limit, a busy or broken sandbox) is told in its logs: the run goes on.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtelierError } from '../errors.js';
import type { StoredFile } from '../storage/repositories/files-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { CodeInterpreter, CodeInterpreterFile } from '../tools/code-interpreter/code-interpreter.js';
import { SandboxCapacityError, SandboxUnavailableError } from '../tools/code-interpreter/sandbox-errors.js';
import type { CodeInterpreterResult, CodeInterpreterTool } from '../tools/spec.js';
import type { FilesService } from './files-service.js';

/** Purpose of the files the code interpreter returns, as OpenAI names it. */
export const OUTPUT_FILE_PURPOSE = 'assistants_output';

export interface CreateCodeInterpreterToolOptions {
  readonly interpreter: CodeInterpreter;
  readonly repositories: Repositories;
  readonly files: FilesService;
  /**
   * Where the bytes of the run's files are copied once (by content hash) for the sandbox to
   * place from: a path is checked by size and time, not hashed again at every execution.
   */
  readonly cacheDir: string;
  /** A cached copy unused this long is removed (it is made again when needed). */
  readonly cacheTtlMs?: number;
}

export interface CodeInterpreterToolHandle extends CodeInterpreterTool {
  /** Removes the cached copies (the interpreter itself is closed by its owner). */
  close(): Promise<void>;
}

const IMAGE_CONTENT_TYPE = 'image/png';
const SWEEP_INTERVAL_MS = 10 * 60_000;
const MAX_NAME_BYTES = 255;
/** The sandbox's own temporaries start so (code-interpreter.ts): such names are not given to files. */
const RESERVED_PREFIX = '.atelier-upload-';

export async function createCodeInterpreterTool({
  interpreter,
  repositories,
  files,
  cacheDir,
  cacheTtlMs = 60 * 60_000,
}: CreateCodeInterpreterToolOptions): Promise<CodeInterpreterToolHandle> {
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const lastUsed = new Map<string, number>();
  const copying = new Map<string, Promise<string>>();

  /** The cached copy of a stored file's bytes, made on first use. */
  function cachedPath(workspaceId: string, file: StoredFile): Promise<string> {
    const target = path.join(cacheDir, file.sha256);
    lastUsed.set(file.sha256, Date.now());
    const running = copying.get(file.sha256);
    if (running) return running;
    const copy = (async () => {
      if ((await stat(target).catch(() => undefined))?.isFile()) return target;
      const partial = `${target}.${randomBytes(4).toString('hex')}.part`;
      const { stream } = await files.content(workspaceId, file.id);
      try {
        await pipeline(stream, createWriteStream(partial, { mode: 0o600 }));
        await rename(partial, target);
      } finally {
        await rm(partial, { force: true });
      }
      return target;
    })().finally(() => copying.delete(file.sha256));
    copying.set(file.sha256, copy);
    return copy;
  }

  const sweep = setInterval(() => {
    const before = Date.now() - cacheTtlMs;
    for (const [sha256, used] of lastUsed) {
      if (used >= before || copying.has(sha256)) continue;
      lastUsed.delete(sha256);
      void rm(path.join(cacheDir, sha256), { force: true });
    }
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  async function store(
    workspaceId: string,
    { name, bytes, contentType }: { name: string; bytes: Uint8Array; contentType: string | null },
  ): Promise<StoredFile> {
    const upload = await files.receive({ filename: name, source: Readable.from([bytes]) });
    return upload.finish({ workspaceId, purpose: OUTPUT_FILE_PURPOSE, contentType });
  }

  return {
    async execute({ workspaceId, sessionId, code, fileIds, signal }): Promise<CodeInterpreterResult> {
      const before: string[] = [];
      const after: string[] = [];
      const wanted = [...new Set(fileIds)];
      const found = new Map(
        (await repositories.files.findMany(workspaceId, wanted)).map((file) => [file.id, file]),
      );
      const present = wanted.flatMap((id) => {
        const file = found.get(id);
        if (!file) before.push(`The file ${id} was deleted: it is not in /mnt/data.`);
        return file ? [file] : [];
      });
      const names = sandboxNames(present);
      const inputs: CodeInterpreterFile[] = await Promise.all(
        present.map(async (file, index) => ({
          name: names[index]!,
          path: await cachedPath(workspaceId, file),
        })),
      );

      let result: Awaited<ReturnType<CodeInterpreter['execute']>>;
      try {
        result = await interpreter.execute({ sessionId, code, files: inputs, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted) throw error;
        // The sandbox could not take the code (every slot busy, or a kernel that cannot start):
        // the model and the user read why, and the run goes on.
        if (error instanceof SandboxCapacityError || error instanceof SandboxUnavailableError) {
          return { logs: joinLogs([...before, error.message], '', []), imageFileIds: [], files: [] };
        }
        throw error;
      }

      const imageFileIds: string[] = [];
      for (const image of result.images) {
        const stored = await store(workspaceId, {
          name: image.name,
          bytes: image.bytes,
          contentType: IMAGE_CONTENT_TYPE,
        });
        imageFileIds.push(stored.id);
      }
      const written: { fileId: string; path: string }[] = [];
      for (const output of result.outputFiles) {
        try {
          const stored = await store(workspaceId, {
            name: path.posix.basename(output.name),
            bytes: output.bytes,
            contentType: contentTypeOf(output.name),
          });
          written.push({ fileId: stored.id, path: output.path });
        } catch (error) {
          // An empty file, say: the others are still returned.
          if (!(error instanceof AtelierError)) throw error;
          after.push(`${output.path} is not returned: ${error.message}`);
        }
      }
      return { logs: joinLogs(before, result.logs, after), imageFileIds, files: written };
    },

    async close() {
      clearInterval(sweep);
      await Promise.allSettled(copying.values());
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/**
 * A name under /mnt/data for each file: its own where it can be, made unique with the file id
 * where two files share one, and never a name the sandbox keeps for itself.
 */
export function sandboxNames(files: readonly Pick<StoredFile, 'id' | 'filename'>[]): string[] {
  const taken = new Set<string>();
  return files.map((file) => {
    const own = clean(file.filename);
    const extension = /\.[A-Za-z0-9]{1,10}$/.exec(own)?.[0] ?? '';
    const stem = own.slice(0, own.length - extension.length);
    let name = own;
    for (let attempt = 1; taken.has(name); attempt++) {
      name = clean(`${stem}-${file.id}${attempt > 1 ? `-${attempt}` : ''}${extension}`);
    }
    taken.add(name);
    return name;
  });
}

function clean(raw: string): string {
  let name = raw.replace(/[/\\\0]/g, '_');
  if (name === '' || name === '.' || name === '..') name = 'file';
  if (name.startsWith(RESERVED_PREFIX)) name = `_${name}`;
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  // Too long for a file name: the stem is cut, the extension kept.
  const extension = /\.[A-Za-z0-9]{1,10}$/.exec(name)?.[0] ?? '';
  const stem = [...name.slice(0, name.length - extension.length)];
  while (stem.length > 0 && Buffer.byteLength(stem.join('') + extension) > MAX_NAME_BYTES) stem.pop();
  return stem.join('') + extension;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  csv: 'text/csv',
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  json: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  zip: 'application/zip',
};

/** A content type for downloads, from the name the code gave the file (null: unknown). */
function contentTypeOf(name: string): string | null {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[extension] ?? null;
}

/** Notices before and after the code's own output, marked as the sandbox marks its own. */
function joinLogs(before: readonly string[], logs: string, after: readonly string[]): string {
  const notice = (line: string) => `[sandbox] ${line}\n`;
  const middle = logs !== '' && after.length > 0 && !logs.endsWith('\n') ? `${logs}\n` : logs;
  return before.map(notice).join('') + middle + after.map(notice).join('');
}
