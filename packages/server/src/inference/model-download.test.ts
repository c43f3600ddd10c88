// Drives downloadModel against a real local HTTP server serving a fake GGUF file: full downloads,
// interrupted and resumed ones, servers that ignore ranges, and the failures a user would meet.

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DownloadProgress,
  downloadModel,
  fileNameFromContentDisposition,
  ModelDownloadError,
  toModelFileName,
} from './model-download.js';

const MiB = 1024 * 1024;
const ETAG = '"blob-v1"';

/** `GGUF` followed by 4 MiB of deterministic pseudo-random bytes (xorshift32). */
function makeBlob(size = 4 * MiB): Buffer {
  const blob = Buffer.alloc(size);
  blob.write('GGUF', 0, 'ascii');
  let state = 0x9e3779b9;
  for (let index = 4; index < size; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    blob[index] = state & 0xff;
  }
  return blob;
}

const BLOB = makeBlob();
const BLOB_SHA256 = createHash('sha256').update(BLOB).digest('hex');

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

interface TestServer {
  readonly origin: string;
  readonly requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    handler(request, response, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface BlobOptions {
  readonly honorRange?: boolean;
  /** Destroys the socket after this many body bytes, like a dropped connection. */
  readonly cutAfter?: number;
  /** Sends the body in 64 KiB pieces this many ms apart. */
  readonly chunkDelayMs?: number;
  readonly headers?: Record<string, string>;
}

/** Serves BLOB like a CDN: Range, If-Range against a strong ETag, 416 past the end. */
function sendBlob(
  request: IncomingMessage,
  response: ServerResponse,
  { honorRange = true, cutAfter = undefined, chunkDelayMs = undefined, headers = {} }: BlobOptions = {},
): void {
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  const ifRange = request.headers['if-range'];
  let start = 0;
  if (honorRange && range !== null && (ifRange === undefined || ifRange === ETAG)) {
    start = Number(range[1]);
    if (start >= BLOB.length) {
      response.writeHead(416, { 'content-range': `bytes */${BLOB.length}` });
      response.end();
      return;
    }
    response.writeHead(206, {
      ...headers,
      etag: ETAG,
      'content-length': BLOB.length - start,
      'content-range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}`,
    });
  } else {
    response.writeHead(200, {
      ...headers,
      etag: ETAG,
      'content-length': BLOB.length,
      'content-type': 'application/octet-stream',
    });
  }
  const body = BLOB.subarray(start);
  if (cutAfter !== undefined) {
    response.write(body.subarray(0, cutAfter), () => response.socket?.destroy());
    return;
  }
  if (chunkDelayMs === undefined) {
    response.end(body);
    return;
  }
  let offset = 0;
  const timer = setInterval(() => {
    if (response.destroyed) {
      clearInterval(timer);
      return;
    }
    const piece = body.subarray(offset, offset + 64 * 1024);
    offset += piece.length;
    if (offset >= body.length) {
      clearInterval(timer);
      response.end(piece);
    } else {
      response.write(piece);
    }
  }, chunkDelayMs);
  response.on('close', () => clearInterval(timer));
}

async function captureError(promise: Promise<unknown>): Promise<ModelDownloadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelDownloadError);
    return error as ModelDownloadError;
  }
  throw new Error('expected the download to fail');
}

async function exists(filePath: string): Promise<boolean> {
  return stat(filePath).then(
    () => true,
    () => false,
  );
}

let modelsDir: string;
let server: TestServer | undefined;

beforeEach(async () => {
  modelsDir = await mkdtemp(path.join(tmpdir(), 'atelier-model-download-'));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(modelsDir, { recursive: true, force: true });
});

describe('downloadModel', () => {
  it('downloads a whole file, checks its SHA-256 and leaves no part behind', async () => {
    server = await startServer((request, response) => sendBlob(request, response));
    const result = await downloadModel({
      url: `${server.origin}/org/repo/resolve/main/tiny-q4.gguf?download=true`,
      modelsDir,
      sha256: BLOB_SHA256.toUpperCase(),
    });

    expect(result).toEqual({
      path: path.join(modelsDir, 'tiny-q4.gguf'),
      bytes: BLOB.length,
      sha256: BLOB_SHA256,
      resumed: false,
    });
    expect((await readFile(result.path)).equals(BLOB)).toBe(true);
    expect(await readdir(modelsDir)).toEqual(['tiny-q4.gguf']);
    expect(server.requests[0]?.range).toBeUndefined();
  });

  it('resumes a dropped connection with Range and If-Range and ends with the same bytes', async () => {
    server = await startServer((request, response, index) =>
      sendBlob(request, response, index === 0 ? { cutAfter: 1.5 * MiB } : {}),
    );
    const url = `${server.origin}/models/tiny.gguf`;
    const partPath = path.join(modelsDir, 'tiny.gguf.part');

    const failure = await captureError(downloadModel({ url, modelsDir, sha256: BLOB_SHA256 }));
    expect(failure.code).toBe('network_error');
    expect(failure.message).toContain(partPath);
    const partSize = (await stat(partPath)).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(BLOB.length);
    expect(await exists(`${partPath}.json`)).toBe(true);

    const result = await downloadModel({ url, modelsDir, sha256: BLOB_SHA256 });
    expect(server.requests[1]?.range).toBe(`bytes=${partSize}-`);
    expect(server.requests[1]?.['if-range']).toBe(ETAG);
    expect(result).toMatchObject({ bytes: BLOB.length, sha256: BLOB_SHA256, resumed: true });
    expect((await readFile(result.path)).equals(BLOB)).toBe(true);
    expect(await readdir(modelsDir)).toEqual(['tiny.gguf']);
  });

  it('keeps the part when aborted through the signal, and resumes it later', async () => {
    // ~6 MiB/s: progress (every 100 ms) sees the threshold long before the 4 MiB are through.
    server = await startServer((request, response) => sendBlob(request, response, { chunkDelayMs: 10 }));
    const url = `${server.origin}/tiny.gguf`;
    const controller = new AbortController();

    const failure = await captureError(
      downloadModel({
        url,
        modelsDir,
        signal: controller.signal,
        onProgress: ({ receivedBytes }) => {
          if (receivedBytes > MiB / 4) controller.abort();
        },
      }),
    );
    expect(failure.code).toBe('aborted');
    const partSize = (await stat(path.join(modelsDir, 'tiny.gguf.part'))).size;
    expect(partSize).toBeGreaterThan(MiB / 4);
    expect(partSize).toBeLessThan(BLOB.length);

    const progress: DownloadProgress[] = [];
    const result = await downloadModel({ url, modelsDir, onProgress: (update) => progress.push(update) });
    expect(server.requests.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect(result.resumed).toBe(true);
    expect(result.sha256).toBe(BLOB_SHA256);
    expect((await readFile(result.path)).equals(BLOB)).toBe(true);
    expect(progress[0]).toMatchObject({
      receivedBytes: partSize,
      resumedFrom: partSize,
      totalBytes: BLOB.length,
    });
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    server = await startServer((request, response, index) =>
      sendBlob(request, response, index === 0 ? { cutAfter: MiB } : { honorRange: false }),
    );
    const url = `${server.origin}/tiny.gguf`;
    await captureError(downloadModel({ url, modelsDir }));

    const result = await downloadModel({ url, modelsDir, sha256: BLOB_SHA256 });
    expect(server.requests[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(result).toMatchObject({ bytes: BLOB.length, sha256: BLOB_SHA256, resumed: false });
    expect((await readFile(result.path)).equals(BLOB)).toBe(true);
  });

  it('finishes from a complete part when the server answers 416', async () => {
    server = await startServer((request, response) => sendBlob(request, response));
    // A complete part without a sidecar: resumed with Range but without If-Range.
    await writeFile(path.join(modelsDir, 'tiny.gguf.part'), BLOB);

    const result = await downloadModel({ url: `${server.origin}/tiny.gguf`, modelsDir });
    expect(server.requests[0]?.range).toBe(`bytes=${BLOB.length}-`);
    expect(server.requests[0]?.['if-range']).toBeUndefined();
    expect(result).toMatchObject({ bytes: BLOB.length, sha256: BLOB_SHA256, resumed: true });
    expect(await readdir(modelsDir)).toEqual(['tiny.gguf']);
  });

  it('discards a part that came from another URL instead of splicing two files', async () => {
    server = await startServer((request, response) => sendBlob(request, response));
    await writeFile(path.join(modelsDir, 'tiny.gguf.part'), BLOB.subarray(0, MiB));
    await writeFile(
      path.join(modelsDir, 'tiny.gguf.part.json'),
      JSON.stringify({
        source: 'https://elsewhere.example/tiny.gguf',
        etag: null,
        lastModified: null,
        totalBytes: null,
      }),
    );

    const result = await downloadModel({ url: `${server.origin}/tiny.gguf`, modelsDir });
    expect(server.requests[0]?.range).toBeUndefined();
    expect(result.resumed).toBe(false);
    expect(result.sha256).toBe(BLOB_SHA256);
  });

  it('deletes the download and shows both checksums on a mismatch', async () => {
    server = await startServer((request, response) => sendBlob(request, response));
    const expected = 'ab'.repeat(32);

    const failure = await captureError(
      downloadModel({ url: `${server.origin}/tiny.gguf`, modelsDir, sha256: expected }),
    );
    expect(failure.code).toBe('checksum_mismatch');
    expect(failure.message).toContain(`expected SHA-256 ${expected}, got ${BLOB_SHA256}`);
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it('reports an HTTP 404 with the status and the URL, without the query string', async () => {
    server = await startServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Entry not found');
    });

    const failure = await captureError(
      downloadModel({ url: `${server.origin}/org/repo/resolve/main/missing.gguf?token=hunter2`, modelsDir }),
    );
    expect(failure.code).toBe('http_error');
    expect(failure.upstreamStatus).toBe(404);
    expect(failure.message).toContain('HTTP 404');
    expect(failure.message).toContain(`${server.origin}/org/repo/resolve/main/missing.gguf`);
    expect(failure.message).not.toContain('hunter2');
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it('refuses a body that is not GGUF, such as an HTML error page', async () => {
    server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!DOCTYPE html><html><body>Please log in</body></html>');
    });

    const failure = await captureError(downloadModel({ url: `${server.origin}/tiny.gguf`, modelsDir }));
    expect(failure.code).toBe('not_gguf');
    expect(failure.message).toContain('text/html');
    expect(failure.message).toContain('<!DOCTYPE html>');
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it('reports progress up to the total, no more often than about ten times a second', async () => {
    server = await startServer((request, response) => sendBlob(request, response, { chunkDelayMs: 1 }));
    const progress: DownloadProgress[] = [];
    const started = performance.now();

    await downloadModel({
      url: `${server.origin}/tiny.gguf`,
      modelsDir,
      onProgress: (update) => progress.push(update),
    });
    const seconds = (performance.now() - started) / 1000;

    expect(progress.at(-1)).toMatchObject({
      receivedBytes: BLOB.length,
      totalBytes: BLOB.length,
      resumedFrom: 0,
    });
    expect(progress.at(-1)?.bytesPerSecond).toBeGreaterThan(0);
    const received = progress.map((update) => update.receivedBytes);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    // A start call, ~10 a second, and a final one.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 3);
  });

  it('names the file from Content-Disposition when the URL does not end in .gguf', async () => {
    server = await startServer((request, response) =>
      sendBlob(request, response, {
        headers: {
          'content-disposition': `attachment; filename*=UTF-8''Tiny%20Model.gguf; filename="tiny.gguf"`,
        },
      }),
    );

    const result = await downloadModel({ url: `${server.origin}/download?id=7`, modelsDir });
    expect(result.path).toBe(path.join(modelsDir, 'Tiny Model.gguf'));
    expect(server.requests).toHaveLength(1);
  });

  it('refuses file names that would leave the models directory', async () => {
    server = await startServer((request, response) =>
      sendBlob(request, response, {
        headers: { 'content-disposition': 'attachment; filename="../../evil.gguf"' },
      }),
    );

    const fromHeader = await captureError(downloadModel({ url: `${server.origin}/download`, modelsDir }));
    expect(fromHeader.code).toBe('invalid_file_name');
    const fromOption = await captureError(
      downloadModel({ url: `${server.origin}/tiny.gguf`, modelsDir, fileName: '../evil.gguf' }),
    );
    expect(fromOption.code).toBe('invalid_file_name');
    const fromUrl = await captureError(
      downloadModel({ url: `${server.origin}/x/..%2Fevil.gguf`, modelsDir }),
    );
    expect(fromUrl.code).toBe('invalid_file_name');
    expect(await readdir(modelsDir)).toEqual([]);
    expect(await exists(path.join(modelsDir, '..', 'evil.gguf'))).toBe(false);
  });

  it('accepts an identical existing file and refuses to replace a different one', async () => {
    server = await startServer((request, response) => sendBlob(request, response));
    const url = `${server.origin}/tiny.gguf`;
    const finalPath = path.join(modelsDir, 'tiny.gguf');

    await writeFile(finalPath, BLOB);
    const identical = await downloadModel({ url, modelsDir });
    expect(identical).toMatchObject({ path: finalPath, sha256: BLOB_SHA256 });
    // With the checksum known, an identical file needs no download at all.
    const requestsBefore = server.requests.length;
    await downloadModel({ url, modelsDir, sha256: BLOB_SHA256 });
    expect(server.requests).toHaveLength(requestsBefore);

    const different = Buffer.from(BLOB);
    different[BLOB.length - 1] = (different[BLOB.length - 1] ?? 0) ^ 0xff;
    await writeFile(finalPath, different);
    const failure = await captureError(downloadModel({ url, modelsDir }));
    expect(failure.code).toBe('file_exists');
    expect(failure.status).toBe(409);
    expect((await readFile(finalPath)).equals(different)).toBe(true);
  });

  it('reports a server that cannot be reached', async () => {
    const closed = await startServer(() => {});
    await closed.close();

    const failure = await captureError(downloadModel({ url: `${closed.origin}/tiny.gguf`, modelsDir }));
    expect(failure.code).toBe('network_error');
    expect(failure.message).toContain('ECONNREFUSED');
  });

  it('rejects a malformed checksum and non-http URLs before any request', async () => {
    expect((await captureError(downloadModel({ url: 'ftp://example.com/a.gguf', modelsDir }))).code).toBe(
      'invalid_url',
    );
    expect(
      (await captureError(downloadModel({ url: 'https://example.com/a.gguf', modelsDir, sha256: 'abc' })))
        .code,
    ).toBe('invalid_sha256');
  });
});

describe('toModelFileName', () => {
  it('keeps plain names and appends .gguf', () => {
    expect(toModelFileName('Llama-3.2-1B-Instruct-Q4_K_M.gguf')).toBe('Llama-3.2-1B-Instruct-Q4_K_M.gguf');
    expect(toModelFileName('tiny')).toBe('tiny.gguf');
    expect(toModelFileName('TINY.GGUF')).toBe('TINY.GGUF');
  });

  it('refuses traversal, separators, hidden and empty names', () => {
    for (const name of [
      '',
      '.gguf',
      '..',
      '../x.gguf',
      'a/b.gguf',
      'a\\b.gguf',
      '.hidden.gguf',
      'a\u0000.gguf',
    ]) {
      expect(toModelFileName(name), JSON.stringify(name)).toBeNull();
    }
  });
});

describe('fileNameFromContentDisposition', () => {
  it('prefers the RFC 8187 form and unquotes the plain one', () => {
    expect(
      fileNameFromContentDisposition(`attachment; filename*=UTF-8''Llama%203.gguf; filename="llama.gguf";`),
    ).toBe('Llama 3.gguf');
    expect(fileNameFromContentDisposition('attachment; filename="my \\"q\\".gguf"')).toBe('my "q".gguf');
    expect(fileNameFromContentDisposition('attachment; filename=plain.gguf')).toBe('plain.gguf');
    expect(fileNameFromContentDisposition('inline')).toBeUndefined();
    expect(fileNameFromContentDisposition(null)).toBeUndefined();
  });
});
