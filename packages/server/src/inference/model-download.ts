// Downloads a GGUF model into the models directory (`atelier models pull`): streams to `<name>.part`,
// resumes with HTTP ranges, checks the GGUF magic and the SHA-256, then moves the file into place.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AtelierError } from '../errors.js';

export interface DownloadProgress {
  /** Bytes of the file on disk so far, the resumed part included. */
  readonly receivedBytes: number;
  /** Size of the whole file, or null when the server did not say. */
  readonly totalBytes: number | null;
  /** Recent transfer rate of this run (over the last few seconds). */
  readonly bytesPerSecond: number;
  /** Bytes that were already on disk when this run started (0 for a fresh download). */
  readonly resumedFrom: number;
}

export interface DownloadModelOptions {
  readonly url: string;
  /** Created if missing. */
  readonly modelsDir: string;
  /** Overrides the name taken from the URL or Content-Disposition; `.gguf` is appended if missing. */
  readonly fileName?: string | undefined;
  /** Expected SHA-256 of the whole file, 64 hex digits. */
  readonly sha256?: string | undefined;
  /** Extra request headers, e.g. `authorization: Bearer <token>` for gated Hugging Face models. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Called at most ~10 times a second, plus once at the start and once at the end. */
  readonly onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /** Aborting keeps the `.part` file so that the next call resumes it. */
  readonly signal?: AbortSignal | undefined;
  readonly fetch?: typeof globalThis.fetch;
}

export interface DownloadModelResult {
  readonly path: string;
  readonly bytes: number;
  /** Lowercase hex SHA-256 of the whole file. */
  readonly sha256: string;
  /** True when bytes already on disk from an earlier attempt were reused. */
  readonly resumed: boolean;
}

export type ModelDownloadErrorCode =
  | 'invalid_url'
  | 'invalid_file_name'
  | 'invalid_sha256'
  | 'http_error'
  | 'network_error'
  | 'aborted'
  | 'not_gguf'
  | 'checksum_mismatch'
  | 'incomplete_download'
  | 'file_exists'
  | 'file_system_error';

const STATUS_BY_CODE: Readonly<Record<ModelDownloadErrorCode, number>> = {
  invalid_url: 400,
  invalid_file_name: 400,
  invalid_sha256: 400,
  http_error: 502,
  network_error: 502,
  aborted: 500,
  not_gguf: 502,
  checksum_mismatch: 502,
  incomplete_download: 502,
  file_exists: 409,
  file_system_error: 500,
};

export class ModelDownloadError extends AtelierError {
  override readonly code: ModelDownloadErrorCode;
  /** The HTTP status the model server answered with, for `http_error`. */
  readonly upstreamStatus: number | null;

  constructor(
    message: string,
    {
      code,
      upstreamStatus = null,
      cause = undefined,
    }: { code: ModelDownloadErrorCode; upstreamStatus?: number | null; cause?: unknown },
  ) {
    const status = STATUS_BY_CODE[code];
    super(message, {
      status,
      type: status < 500 ? 'invalid_request_error' : 'server_error',
      code,
      cause,
    });
    this.code = code;
    this.upstreamStatus = upstreamStatus;
  }
}

const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');
const GGUF_SUFFIX = '.gguf';
/** Leaves room for `.part.json` within the usual 255-byte file name limit. */
const MAX_NAME_BYTES = 200;
/** Restarts (416, a misplaced 206) before giving up, so a confused server cannot loop us forever. */
const MAX_ATTEMPTS = 3;
const PROGRESS_INTERVAL_MS = 100;
const RATE_WINDOW_MS = 5_000;

interface Job {
  readonly source: URL;
  /** The URL without credentials, query or fragment: safe for messages and the sidecar. */
  readonly shownUrl: string;
  readonly expectedSha256: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly onProgress: ((progress: DownloadProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly fetch: typeof globalThis.fetch;
}

interface Target {
  readonly finalPath: string;
  readonly partPath: string;
  readonly sidecarPath: string;
}

/** What `<name>.part.json` remembers about the first attempt, to resume only the same file. */
interface PartInfo {
  readonly source: string;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly totalBytes: number | null;
}

interface Part {
  readonly size: number;
  readonly info: PartInfo | null;
}

type Plan =
  | {
      readonly kind: 'write';
      readonly startAt: number;
      readonly totalBytes: number | null;
      readonly info: PartInfo;
    }
  | { readonly kind: 'verify'; readonly totalBytes: number | null }
  | { readonly kind: 'restart' };

export async function downloadModel({
  url,
  modelsDir,
  fileName = undefined,
  sha256 = undefined,
  headers = undefined,
  onProgress = undefined,
  signal = undefined,
  fetch = globalThis.fetch,
}: DownloadModelOptions): Promise<DownloadModelResult> {
  const source = parseSourceUrl(url);
  const job: Job = {
    source,
    shownUrl: redactUrl(source),
    expectedSha256: sha256 === undefined ? null : parseSha256(sha256),
    headers: headers ?? {},
    onProgress,
    signal,
    fetch,
  };
  // A URL that names a .gguf file (Hugging Face `resolve` URLs do) lets us resume without asking first.
  const urlName = nameFromUrl(source, { requireSuffix: true });
  let name =
    fileName !== undefined
      ? checkedName(fileName, 'the fileName option')
      : urlName === undefined
        ? undefined
        : checkedName(urlName, `the URL ${job.shownUrl}`);
  let response: Response | undefined;
  try {
    await mkdir(modelsDir, { recursive: true });
    if (name === undefined) {
      response = await send(job, { from: 0, validator: null });
      await throwIfHttpError(job, response);
      name = nameFromResponse(job, response);
    }
    const target: Target = {
      finalPath: path.join(modelsDir, name),
      partPath: path.join(modelsDir, `${name}.part`),
      sidecarPath: path.join(modelsDir, `${name}.part.json`),
    };
    const existing = await checkExisting(job, target);
    if (existing.result !== null) {
      await discard(response);
      return existing.result;
    }
    if (response !== undefined && ((await fileSize(target.partPath)) ?? 0) > 0) {
      // The naming request asked for the whole file; resuming needs a ranged one.
      await discard(response);
      response = undefined;
    }
    return await downloadInto(job, target, response, existing.size);
  } catch (error) {
    await discard(response);
    throw asDownloadError(job, error, modelsDir);
  }
}

async function downloadInto(
  job: Job,
  target: Target,
  firstResponse: Response | undefined,
  existingSize: number | null,
): Promise<DownloadModelResult> {
  let pending = firstResponse;
  for (let attempt = 1; ; attempt++) {
    const part = await inspectPart(job, target);
    const response =
      pending ??
      (await send(job, {
        from: part.size,
        validator: part.info === null ? null : ifRangeValidator(part.info),
      }));
    pending = undefined;
    const plan = await planTransfer(job, response, part);
    if (plan.kind === 'write') {
      if (existingSize !== null && plan.totalBytes !== null && plan.totalBytes !== existingSize) {
        await discard(response);
        throw fileExistsError(target, 'with a different size');
      }
      return await receive(job, target, response, plan);
    }
    await discard(response);
    if (plan.kind === 'verify') {
      const result = await completeFromPart(job, target, part.size, plan.totalBytes);
      if (result !== null) return result;
    }
    await removePart(target);
    if (attempt >= MAX_ATTEMPTS) {
      throw new ModelDownloadError(
        `Download of ${job.shownUrl} failed: the server kept answering range requests inconsistently`,
        { code: 'http_error', upstreamStatus: response.status },
      );
    }
  }
}

/** Decides what to do with a response given what is already on disk. */
async function planTransfer(job: Job, response: Response, part: Part): Promise<Plan> {
  if (response.status === 416 && part.size > 0) {
    // Nothing left to send from our offset: the part is complete, or longer than the file and useless.
    const totalBytes =
      parseUnsatisfiedRange(response.headers.get('content-range')) ?? part.info?.totalBytes ?? null;
    if (totalBytes === part.size || (totalBytes === null && job.expectedSha256 !== null)) {
      return { kind: 'verify', totalBytes };
    }
    return { kind: 'restart' };
  }
  await throwIfHttpError(job, response);
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (range === null || range.start !== part.size) return { kind: 'restart' };
    return {
      kind: 'write',
      startAt: part.size,
      totalBytes: range.totalBytes,
      info: partInfoFrom(job, response, range.totalBytes, part.info),
    };
  }
  if (response.status !== 200) {
    throw new ModelDownloadError(
      `Download of ${job.shownUrl} failed: unexpected HTTP ${response.status} ${response.statusText}`.trim(),
      { code: 'http_error', upstreamStatus: response.status },
    );
  }
  // A 200 to a ranged request means the server ignores Range, or the file changed (If-Range): start over.
  const totalBytes = parseLength(response.headers.get('content-length'));
  return { kind: 'write', startAt: 0, totalBytes, info: partInfoFrom(job, response, totalBytes, null) };
}

/** Streams the body into the part file, then verifies and moves it into place. */
async function receive(
  job: Job,
  target: Target,
  response: Response,
  plan: Extract<Plan, { kind: 'write' }>,
): Promise<DownloadModelResult> {
  await writeFile(target.sidecarPath, `${JSON.stringify(plan.info)}\n`);
  const hash = createHash('sha256');
  // inspectPart already checked the magic of a part we resume from.
  if (plan.startAt > 0)
    await hashFile({ hash, filePath: target.partPath, length: plan.startAt, signal: job.signal });
  let head = plan.startAt > 0 ? GGUF_MAGIC : Buffer.alloc(0);
  let received = plan.startAt;
  const meter = createProgressMeter({
    onProgress: job.onProgress,
    resumedFrom: plan.startAt,
    totalBytes: plan.totalBytes,
  });
  meter.report(received);

  const handle = await open(target.partPath, plan.startAt > 0 ? 'a' : 'w');
  const reader = response.body?.getReader();
  try {
    while (reader !== undefined) {
      const chunk = await reader.read().catch((error: unknown) => {
        throw transferError(job, error, { received, totalBytes: plan.totalBytes, target });
      });
      if (chunk.done) break;
      if (head.length < GGUF_MAGIC.length) {
        // Keep a little more than the magic: it makes a readable preview of an HTML error page.
        head = Buffer.concat([head, chunk.value]).subarray(0, 64);
        if (head.length >= GGUF_MAGIC.length) assertGguf(job, response, head, target);
      }
      hash.update(chunk.value);
      try {
        await handle.write(chunk.value);
      } catch (error) {
        throw new ModelDownloadError(`Could not write ${target.partPath}: ${describeCause(error)}`, {
          code: 'file_system_error',
          cause: error,
        });
      }
      received += chunk.value.length;
      meter.report(received);
    }
  } catch (error) {
    await reader?.cancel().catch(() => {});
    await handle.close();
    if (error instanceof ModelDownloadError && error.code === 'not_gguf') await removePart(target);
    throw error;
  }
  await handle.close();

  if (head.length < GGUF_MAGIC.length) {
    await removePart(target);
    throw new ModelDownloadError(
      `${job.shownUrl} is not a GGUF model: the server sent ${received} byte${received === 1 ? '' : 's'}`,
      { code: 'not_gguf' },
    );
  }
  if (plan.totalBytes !== null && received !== plan.totalBytes) {
    throw new ModelDownloadError(
      `Download of ${job.shownUrl} ended early (${received} of ${plan.totalBytes} bytes); ` +
        `the partial file is kept at ${target.partPath}, run the download again to resume`,
      { code: 'incomplete_download' },
    );
  }
  meter.report(received, { final: true });
  return await finish(job, target, {
    bytes: received,
    sha256: hash.digest('hex'),
    resumed: plan.startAt > 0,
  });
}

/** The server says the part already holds everything (416): verify it instead of downloading. */
async function completeFromPart(
  job: Job,
  target: Target,
  size: number,
  totalBytes: number | null,
): Promise<DownloadModelResult | null> {
  const hash = createHash('sha256');
  await hashFile({ hash, filePath: target.partPath, length: size, signal: job.signal });
  const digest = hash.digest('hex');
  // Without a known total only the checksum says the part is whole; otherwise download it again.
  if (totalBytes === null && digest !== job.expectedSha256) return null;
  job.onProgress?.({ receivedBytes: size, totalBytes: size, bytesPerSecond: 0, resumedFrom: size });
  return await finish(job, target, { bytes: size, sha256: digest, resumed: true });
}

/** Checks the checksum, then moves the part into place without replacing a different file. */
async function finish(
  job: Job,
  target: Target,
  { bytes, sha256, resumed }: { bytes: number; sha256: string; resumed: boolean },
): Promise<DownloadModelResult> {
  if (job.expectedSha256 !== null && sha256 !== job.expectedSha256) {
    await removePart(target);
    throw new ModelDownloadError(
      `Checksum mismatch for ${job.shownUrl}: expected SHA-256 ${job.expectedSha256}, got ${sha256}; ` +
        'the download was deleted',
      { code: 'checksum_mismatch' },
    );
  }
  try {
    // link() fails with EEXIST rather than replacing, and the final name appears all at once.
    await link(target.partPath, target.finalPath);
    await rm(target.partPath, { force: true });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST' && (await fileSize(target.finalPath)) === null) {
      // Some file systems have no hard links: fall back to a rename (still atomic, checked just above).
      await rename(target.partPath, target.finalPath);
    } else if (await isSameFile(target.finalPath, { bytes, sha256 })) {
      await rm(target.partPath, { force: true });
    } else {
      throw fileExistsError(target, 'with different content', { keptPart: true });
    }
  }
  await rm(target.sidecarPath, { force: true });
  return { path: target.finalPath, bytes, sha256, resumed };
}

/** An existing model file: done already when it matches the expected checksum, a conflict when not. */
async function checkExisting(
  job: Job,
  target: Target,
): Promise<{ readonly size: number | null; readonly result: DownloadModelResult | null }> {
  const size = await fileSize(target.finalPath);
  if (size === null || job.expectedSha256 === null) return { size, result: null };
  const hash = createHash('sha256');
  await hashFile({ hash, filePath: target.finalPath, length: size, signal: job.signal });
  const digest = hash.digest('hex');
  if (digest !== job.expectedSha256) throw fileExistsError(target, `with SHA-256 ${digest}`);
  await removePart(target);
  job.onProgress?.({ receivedBytes: size, totalBytes: size, bytesPerSecond: 0, resumedFrom: size });
  return { size, result: { path: target.finalPath, bytes: size, sha256: digest, resumed: false } };
}

/** Looks at a leftover part; drops it when it belongs to another URL or is not a GGUF start. */
async function inspectPart(job: Job, target: Target): Promise<Part> {
  const size = await fileSize(target.partPath);
  const info = size === null ? null : await readPartInfo(target.sidecarPath);
  const usable =
    size !== null &&
    size >= GGUF_MAGIC.length &&
    (info === null || info.source === job.shownUrl) &&
    (await startsWithMagic(target.partPath));
  if (!usable) {
    await removePart(target);
    return { size: 0, info: null };
  }
  return { size, info };
}

async function send(
  job: Job,
  { from, validator }: { from: number; validator: string | null },
): Promise<Response> {
  const headers = new Headers(job.headers);
  // Ranges and Content-Length must refer to the file's own bytes, not to a compressed form.
  headers.set('accept-encoding', 'identity');
  if (from > 0) {
    headers.set('range', `bytes=${from}-`);
    if (validator !== null) headers.set('if-range', validator);
  }
  try {
    return await job.fetch(job.source.href, { headers, signal: job.signal, redirect: 'follow' });
  } catch (error) {
    if (job.signal?.aborted) throw abortedError(job, error);
    throw new ModelDownloadError(`Could not reach ${job.shownUrl}: ${describeCause(error)}`, {
      code: 'network_error',
      cause: error,
    });
  }
}

async function throwIfHttpError(job: Job, response: Response): Promise<void> {
  if (response.status < 400) return;
  await discard(response);
  const hint =
    response.status === 401 || response.status === 403
      ? ' (a gated or private model needs an access token, e.g. an authorization header)'
      : response.status === 404
        ? ' (check the URL; Hugging Face file URLs look like https://huggingface.co/<org>/<repo>/resolve/main/<file>.gguf)'
        : '';
  throw new ModelDownloadError(
    `Download of ${job.shownUrl} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${hint}`,
    { code: 'http_error', upstreamStatus: response.status },
  );
}

function assertGguf(job: Job, response: Response, head: Buffer, target: Target): void {
  if (head.subarray(0, GGUF_MAGIC.length).equals(GGUF_MAGIC)) return;
  const contentType = response.headers.get('content-type');
  const preview = head
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  throw new ModelDownloadError(
    `${job.shownUrl} is not a GGUF model: the file does not start with "GGUF"` +
      `${contentType === null ? '' : ` (the server sent ${contentType})`}` +
      `${preview === '' ? '' : `; it starts with "${preview.slice(0, 40)}"`}; nothing was saved as ${target.finalPath}`,
    { code: 'not_gguf' },
  );
}

function transferError(
  job: Job,
  error: unknown,
  { received, totalBytes, target }: { received: number; totalBytes: number | null; target: Target },
): ModelDownloadError {
  if (job.signal?.aborted) return abortedError(job, error, target);
  const progress = totalBytes === null ? `${received} bytes` : `${received} of ${totalBytes} bytes`;
  return new ModelDownloadError(
    `Connection lost while downloading ${job.shownUrl} after ${progress} (${describeCause(error)}); ` +
      `the partial file is kept at ${target.partPath}, run the download again to resume`,
    { code: 'network_error', cause: error },
  );
}

function abortedError(job: Job, cause: unknown, target: Target | null = null): ModelDownloadError {
  const kept = target === null ? '' : `; the partial file is kept at ${target.partPath} for a later resume`;
  return new ModelDownloadError(`Download of ${job.shownUrl} was cancelled${kept}`, {
    code: 'aborted',
    cause,
  });
}

function fileExistsError(target: Target, how: string, { keptPart = false } = {}): ModelDownloadError {
  return new ModelDownloadError(
    `${target.finalPath} already exists ${how}; move it away or pick another file name` +
      (keptPart ? ` (the download is kept at ${target.partPath})` : ''),
    { code: 'file_exists' },
  );
}

/** Errors that escaped the specific handlers: cancellation, or the local file system. */
function asDownloadError(job: Job, error: unknown, modelsDir: string): unknown {
  if (error instanceof ModelDownloadError) return error;
  if (job.signal?.aborted) return abortedError(job, error);
  const code = errorCode(error);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new ModelDownloadError(`Could not save the model in ${modelsDir}: ${describeCause(error)}`, {
      code: 'file_system_error',
      cause: error,
    });
  }
  return error;
}

// --- Names -----------------------------------------------------------------------------------

function nameFromUrl(url: URL, { requireSuffix }: { requireSuffix: boolean }): string | undefined {
  const segment = url.pathname.split('/').pop() ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (decoded === '' || (requireSuffix && !decoded.toLowerCase().endsWith(GGUF_SUFFIX))) return undefined;
  return decoded;
}

function nameFromResponse(job: Job, response: Response): string {
  const fromHeader = fileNameFromContentDisposition(response.headers.get('content-disposition'));
  if (fromHeader !== undefined) return checkedName(fromHeader, 'the server’s Content-Disposition header');
  // After redirects (Hugging Face sends the file from a CDN) the final URL may name the file.
  let finalUrl: URL | undefined;
  try {
    finalUrl = response.url === '' ? undefined : new URL(response.url);
  } catch {
    finalUrl = undefined;
  }
  const fromUrl =
    (finalUrl === undefined ? undefined : nameFromUrl(finalUrl, { requireSuffix: true })) ??
    nameFromUrl(job.source, { requireSuffix: false });
  if (fromUrl === undefined) {
    throw new ModelDownloadError(`Cannot tell a file name from ${job.shownUrl}; pass a file name`, {
      code: 'invalid_file_name',
    });
  }
  return checkedName(fromUrl, `the URL ${job.shownUrl}`);
}

/** `filename*=UTF-8''name.gguf` (RFC 6266/8187) wins over `filename="name.gguf"`. */
export function fileNameFromContentDisposition(header: string | null): string | undefined {
  if (header === null) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^;]+)/i.exec(header)?.[1]?.trim();
  if (extended !== undefined) {
    const match = /^([^']*)'[^']*'(.*)$/.exec(extended);
    if (match !== null) {
      const [, charset = '', encoded = ''] = match;
      try {
        if (charset.toLowerCase() === 'utf-8') return decodeURIComponent(encoded);
        // ISO-8859-1: each escape is one byte, which is one code point.
        return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
      } catch {
        // Fall through to the plain parameter.
      }
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  if (plain === null) return undefined;
  return plain[1] === undefined ? plain[2] : plain[1].replace(/\\(.)/g, '$1');
}

/**
 * A bare file name that cannot leave the models directory, ending in `.gguf`.
 * Unsafe names are refused, not repaired, so the user sees what the server sent.
 */
export function toModelFileName(candidate: string): string | null {
  const trimmed = candidate.trim();
  const name = trimmed.toLowerCase().endsWith(GGUF_SUFFIX) ? trimmed : `${trimmed}${GGUF_SUFFIX}`;
  const stem = name.slice(0, -GGUF_SUFFIX.length);
  // A leading dot would hide the file (and covers `.` and `..`).
  if (stem === '' || stem.startsWith('.')) return null;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return null;
  for (const character of name) {
    const code = character.codePointAt(0) ?? 0;
    // Separators, control characters and what Windows forbids in names.
    if (code < 0x20 || code === 0x7f || '/\\<>:"|?*'.includes(character)) return null;
  }
  return name;
}

function checkedName(candidate: string, origin: string): string {
  const name = toModelFileName(candidate);
  if (name === null) {
    throw new ModelDownloadError(
      `Unsafe model file name ${JSON.stringify(candidate)} from ${origin}: ` +
        'use a plain name such as model-q4_k_m.gguf, without path separators',
      { code: 'invalid_file_name' },
    );
  }
  return name;
}

// --- HTTP details ------------------------------------------------------------------------------

function parseSourceUrl(url: string): URL {
  let source: URL;
  try {
    source = new URL(url);
  } catch {
    throw new ModelDownloadError(`Not a valid URL: ${JSON.stringify(url.slice(0, 200))}`, {
      code: 'invalid_url',
    });
  }
  if (source.protocol !== 'https:' && source.protocol !== 'http:') {
    throw new ModelDownloadError(`Only http and https URLs can be downloaded, not ${source.protocol}`, {
      code: 'invalid_url',
    });
  }
  return source;
}

/** Query strings and user info often carry tokens (signed URLs): never print or store them. */
function redactUrl(url: URL): string {
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  shown.search = '';
  shown.hash = '';
  return shown.href;
}

function parseSha256(value: string): string {
  const normalized = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(normalized)) {
    throw new ModelDownloadError(
      `Not a SHA-256 checksum (64 hex digits): ${JSON.stringify(value.slice(0, 100))}`,
      {
        code: 'invalid_sha256',
      },
    );
  }
  return normalized;
}

function parseLength(value: string | null): number | null {
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

function parseContentRange(value: string | null): { start: number; totalBytes: number | null } | null {
  const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (match === null) return null;
  const [, start = '', , total = '*'] = match;
  return { start: Number(start), totalBytes: total === '*' ? null : Number(total) };
}

function parseUnsatisfiedRange(value: string | null): number | null {
  const match = /^bytes\s+\*\/(\d+)$/i.exec(value?.trim() ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

function partInfoFrom(
  job: Job,
  response: Response,
  totalBytes: number | null,
  previous: PartInfo | null,
): PartInfo {
  return {
    source: job.shownUrl,
    etag: response.headers.get('etag') ?? previous?.etag ?? null,
    lastModified: response.headers.get('last-modified') ?? previous?.lastModified ?? null,
    totalBytes,
  };
}

/** If-Range needs a strong validator: a weak ETag would never match, so fall back to the date. */
function ifRangeValidator(info: PartInfo): string | null {
  if (info.etag !== null && !info.etag.startsWith('W/')) return info.etag;
  return info.lastModified;
}

async function readPartInfo(sidecarPath: string): Promise<PartInfo | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(sidecarPath, 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { source, etag, lastModified, totalBytes } = parsed as Record<string, unknown>;
  const isOptionalString = (value: unknown) => value === null || typeof value === 'string';
  if (typeof source !== 'string' || !isOptionalString(etag) || !isOptionalString(lastModified)) return null;
  if (totalBytes !== null && !(typeof totalBytes === 'number' && Number.isSafeInteger(totalBytes)))
    return null;
  return {
    source,
    etag: etag as string | null,
    lastModified: lastModified as string | null,
    totalBytes: totalBytes as number | null,
  };
}

async function discard(response: Response | undefined): Promise<void> {
  if (response?.body == null || response.bodyUsed) return;
  await response.body.cancel().catch(() => {});
}

// --- Files and hashing ---------------------------------------------------------------------------

async function fileSize(filePath: string): Promise<number | null> {
  try {
    const stats = await stat(filePath);
    return stats.isFile() ? stats.size : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

async function startsWithMagic(filePath: string): Promise<boolean> {
  const handle = await open(filePath, 'r');
  try {
    const head = Buffer.alloc(GGUF_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(GGUF_MAGIC);
  } finally {
    await handle.close();
  }
}

async function hashFile({
  hash,
  filePath,
  length,
  signal,
}: {
  hash: Hash;
  filePath: string;
  length: number;
  signal: AbortSignal | undefined;
}): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(filePath, {
    start: 0,
    end: length - 1,
    ...(signal === undefined ? {} : { signal }),
  });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

async function isSameFile(
  filePath: string,
  { bytes, sha256 }: { bytes: number; sha256: string },
): Promise<boolean> {
  if ((await fileSize(filePath)) !== bytes) return false;
  const hash = createHash('sha256');
  await hashFile({ hash, filePath, length: bytes, signal: undefined });
  return hash.digest('hex') === sha256;
}

async function removePart(target: Target): Promise<void> {
  await rm(target.partPath, { force: true });
  await rm(target.sidecarPath, { force: true });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The innermost message: fetch wraps the useful part (ECONNREFUSED, "other side closed") in `cause`. */
function describeCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}

// --- Progress ----------------------------------------------------------------------------------

function createProgressMeter({
  onProgress,
  resumedFrom,
  totalBytes,
  now = () => performance.now(),
}: {
  onProgress: ((progress: DownloadProgress) => void) | undefined;
  resumedFrom: number;
  totalBytes: number | null;
  now?: () => number;
}): { report(receivedBytes: number, options?: { final?: boolean }): void } {
  // Samples over the last few seconds give a rate that follows the network without jumping around.
  const samples: { time: number; bytes: number }[] = [{ time: now(), bytes: resumedFrom }];
  let lastEmit = Number.NEGATIVE_INFINITY;
  return {
    report(receivedBytes, { final = false } = {}) {
      if (onProgress === undefined) return;
      const time = now();
      if (!final && time - lastEmit < PROGRESS_INTERVAL_MS) return;
      lastEmit = time;
      samples.push({ time, bytes: receivedBytes });
      while (samples.length > 2 && time - (samples[0]?.time ?? time) > RATE_WINDOW_MS) samples.shift();
      const oldest = samples[0] ?? { time, bytes: receivedBytes };
      const seconds = (time - oldest.time) / 1000;
      const bytesPerSecond = seconds > 0 ? (receivedBytes - oldest.bytes) / seconds : 0;
      onProgress({ receivedBytes, totalBytes, bytesPerSecond, resumedFrom });
    },
  };
}
