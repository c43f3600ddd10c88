// The code interpreter: a persistent Python kernel per session (one per thread), each in a
// sandbox of its own (see sandbox-command.ts), with its files at /mnt/data. The runs engine
// calls `execute` for each code_interpreter tool call and turns the result into the step's
// logs, image_file contents and file_path annotations.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { InvalidRequestError } from '../../errors.js';
import { describeExit } from './kernel-exit.js';
import { type Kernel, type KernelExit, KernelStartError, startKernel } from './kernel-process.js';
import { createInstanceDirectory, type InstanceDirectory } from './runtime-directory.js';
import { changedFiles, type FileSource, listFiles, placeFile, readFileBelow } from './safe-files.js';
import { detectSandboxCgroups, type SandboxCgroups, type SessionCgroup } from './sandbox-cgroup.js';
import {
  describeHostLayout,
  type HostLayout,
  SANDBOX_DATA_DIR,
  type SandboxBinaries,
  sandboxCommand,
} from './sandbox-command.js';
import { SandboxCapacityError, SandboxClosedError, SandboxUnavailableError } from './sandbox-errors.js';
import { resolveLimits, type SandboxLimits } from './sandbox-limits.js';
import { checkSandboxSupport } from './sandbox-support.js';
import { type MountCommands, mountSessionVolume, type SessionVolume } from './session-volume.js';
import { createUidPool, type UidLease, type UidPool, waitUntilNoProcessRunsAs } from './uid-pool.js';

/** A file to put at /mnt/data/<name> before the code runs: from a host path, or bytes. */
export type CodeInterpreterFile =
  | { readonly name: string; readonly path: string }
  | { readonly name: string; readonly bytes: Uint8Array };

export interface CodeExecutionRequest {
  /** The session (a thread): its kernel and /mnt/data persist across calls with the same id. */
  readonly sessionId: string;
  readonly code: string;
  /** Files the thread or assistant has: placed (again, if they changed or were deleted) before the code runs. */
  readonly files?: readonly CodeInterpreterFile[];
  /** Aborting interrupts the execution and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface CodeExecutionImage {
  /** `image-1.png`, … in the order the code produced them. */
  readonly name: string;
  readonly bytes: Buffer;
}

export interface CodeExecutionFile {
  /** Path relative to /mnt/data, e.g. `summary.csv` or `charts/a.png`. */
  readonly name: string;
  /** As the code sees it: `/mnt/data/summary.csv`. */
  readonly path: string;
  readonly bytes: Buffer;
}

export interface CodeExecutionError {
  /** The exception's class (`ZeroDivisionError`), or `TimeoutError` / `KernelDied` for the sandbox's own. */
  readonly name: string;
  readonly value: string;
  readonly traceback: string;
}

export interface CodeExecutionResult {
  /** Everything the code printed, stdout and stderr interleaved, with the sandbox's notices. */
  readonly logs: string;
  /** matplotlib figures (each open one at the end, or at `plt.show()`) and `display()`ed images, as PNG. */
  readonly images: readonly CodeExecutionImage[];
  /** Files under /mnt/data the execution created or changed. */
  readonly outputFiles: readonly CodeExecutionFile[];
  readonly error?: CodeExecutionError;
  /** The kernel is not the one earlier calls of this session ran on (the logs say why). */
  readonly restarted: boolean;
  readonly durationMs: number;
}

export interface SandboxInfo {
  readonly python: string;
  /** Version of each data-analysis package the sandbox has, null where it is missing. */
  readonly packages: Readonly<Record<string, string | null>>;
  readonly limits: SandboxLimits;
  /**
   * The cgroup version bounding each whole sandbox (memory + disk, tasks); null where none is
   * writable: then memory is bounded per process only (RLIMIT_AS).
   */
  readonly cgroup: 'v1' | 'v2' | null;
  readonly runtimeDir: string;
}

export interface CodeInterpreter {
  readonly sandbox: SandboxInfo;
  execute(request: CodeExecutionRequest): Promise<CodeExecutionResult>;
  /** Ends the session now (kernel and files); the next call with its id starts afresh. */
  reset(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

export interface CreateCodeInterpreterOptions {
  /**
   * Where sandboxes live while they run (the sessions' tmpfs mounts, the kernel's files). Not in
   * the data dir: every sandbox uid must be able to traverse its parents, and nothing in it
   * outlives the server.
   */
  readonly runtimeDir?: string;
  readonly limits?: Partial<SandboxLimits>;
  /** A session unused this long ends (kernel and files). */
  readonly idleMinutes?: number;
  /** A session ends this long after it started, used or not. */
  readonly maxSessionMinutes?: number;
  /** Sandboxes running at once; the least recently used idle one makes room for a new one. */
  readonly maxSessions?: number;
  /** Host uids reserved for sandboxes, one per running sandbox. */
  readonly uidRange?: { readonly first: number; readonly count: number };
  /**
   * Who holds which uid, for every Atelier process of the machine: keep the default unless
   * several servers deliberately use disjoint `uidRange`s.
   */
  readonly uidLeaseDir?: string;
  /** After the time limit interrupts the code, how long it has to stop before the kernel is killed. */
  readonly interruptGraceMs?: number;
  readonly python?: string;
  /** Output kept per execution (its beginning and its end). */
  readonly maxLogBytes?: number;
  /** Largest output file returned; larger ones are named in the logs instead. */
  readonly maxOutputFileBytes?: number;
  readonly maxOutputFiles?: number;
  readonly maxImages?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export const PYTHON_PACKAGES = [
  'numpy',
  'pandas',
  'matplotlib',
  'scipy',
  'openpyxl',
  'Pillow',
  'sympy',
  'scikit-learn',
] as const;

const MIB = 1024 * 1024;
const UPLOAD_PREFIX = '.atelier-upload-';
const START_TIMEOUT_MS = 30_000;
const MAX_IMAGE_BYTES = 32 * MIB;
const REMEMBERED_ENDINGS = 10_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

type EndReason = 'idle' | 'max-age' | 'evicted';
type Binaries = SandboxBinaries & MountCommands;

interface Session {
  readonly id: string;
  readonly lease: UidLease;
  readonly volume: SessionVolume;
  readonly cgroup: SessionCgroup | undefined;
  /** OOM kills in the session's cgroup when its kernel started. */
  oomKillsAtStart: number;
  readonly startedAt: number;
  lastUsedAt: number;
  busy: boolean;
  kernel: Kernel | undefined;
  /** Why the last kernel stopped, told by the next one. */
  deathNotice: string | undefined;
  /** File name → fingerprint of the source last placed under it. */
  readonly placed: Map<string, string>;
  idleTimer: NodeJS.Timeout | undefined;
  readonly maxAgeTimer: NodeJS.Timeout;
}

interface Settings {
  readonly limits: SandboxLimits;
  readonly idleMs: number;
  readonly maxAgeMs: number;
  readonly maxSessions: number;
  readonly maxLogBytes: number;
  readonly maxOutputFileBytes: number;
  readonly maxOutputFiles: number;
  readonly maxImages: number;
  readonly graceMs: number;
  readonly threads: number;
}

/** Checks the machine, prepares the runtime directory and starts one probe sandbox. */
export async function createCodeInterpreter({
  runtimeDir = '/run/atelier-sandbox',
  limits = {},
  idleMinutes = 20,
  maxSessionMinutes = 60,
  maxSessions = 8,
  uidRange = { first: 1_900_000_000, count: 65_536 },
  uidLeaseDir = '/run/atelier-sandbox/uids',
  interruptGraceMs = 3_000,
  python = '/usr/bin/python3',
  maxLogBytes = 256 * 1024,
  maxOutputFileBytes = 64 * MIB,
  maxOutputFiles = 50,
  maxImages = 20,
  log = () => undefined,
}: CreateCodeInterpreterOptions = {}): Promise<CodeInterpreter> {
  const resolvedLimits = resolveLimits(limits);
  for (const [name, value] of Object.entries({ idleMinutes, maxSessionMinutes, maxSessions })) {
    if (!(value > 0))
      throw new InvalidRequestError(`${name} must be positive (got ${value})`, { param: name });
  }
  const support = await checkSandboxSupport({ python, runtimeDir });
  if (!support.ok) throw new SandboxUnavailableError(support.problems);
  const root = path.resolve(runtimeDir);
  let instance: InstanceDirectory | undefined;
  try {
    instance = await createInstanceDirectory({ runtimeDir: root, commands: support.binaries });
    const pool = await createUidPool({ leaseDir: path.resolve(uidLeaseDir), ...uidRange });
    const cgroups = await detectSandboxCgroups('atelier-sandbox');
    const interpreter = new SandboxedCodeInterpreter({
      settings: {
        limits: resolvedLimits,
        idleMs: idleMinutes * 60_000,
        maxAgeMs: maxSessionMinutes * 60_000,
        maxSessions,
        maxLogBytes,
        maxOutputFileBytes,
        maxOutputFiles,
        maxImages,
        graceMs: interruptGraceMs,
        threads: Math.max(1, Math.min(4, availableParallelism())),
      },
      binaries: support.binaries,
      layout: await describeHostLayout(),
      pool,
      cgroups,
      instance,
      runtimeDir: root,
      log,
    });
    try {
      await interpreter.probe();
    } catch (error) {
      if (cgroups === undefined) throw error;
      log(
        'warn',
        `code interpreter: sandboxes fail to start in a cgroup (${explainStartFailure(error)}); going on without`,
      );
      interpreter.withoutCgroups();
      await interpreter.probe();
    }
    if (interpreter.sandbox.cgroup === null) {
      log(
        'warn',
        'code interpreter: no writable cgroup (memory, pids) here: memory is bounded per process of a sandbox, not per sandbox',
      );
    }
    return interpreter;
  } catch (error) {
    await instance?.remove();
    if (error instanceof SandboxUnavailableError || error instanceof InvalidRequestError) throw error;
    throw new SandboxUnavailableError([explainStartFailure(error)], { cause: error });
  }
}

class SandboxedCodeInterpreter implements CodeInterpreter {
  sandbox: SandboxInfo;
  readonly #settings: Settings;
  readonly #binaries: Binaries;
  readonly #layout: HostLayout;
  readonly #pool: UidPool;
  #cgroups: SandboxCgroups | undefined;
  readonly #instance: InstanceDirectory;
  readonly #log: NonNullable<CreateCodeInterpreterOptions['log']>;
  readonly #sessions = new Map<string, Session>();
  /** Sessions that ended on their own, so that the next call says why it starts afresh. */
  readonly #ended = new Map<string, EndReason>();
  readonly #chains = new Map<string, Promise<void>>();
  #opening = 0;
  #closed = false;

  constructor(options: {
    settings: Settings;
    binaries: Binaries;
    layout: HostLayout;
    pool: UidPool;
    cgroups: SandboxCgroups | undefined;
    instance: InstanceDirectory;
    runtimeDir: string;
    log: NonNullable<CreateCodeInterpreterOptions['log']>;
  }) {
    this.#settings = options.settings;
    this.#binaries = options.binaries;
    this.#layout = options.layout;
    this.#pool = options.pool;
    this.#cgroups = options.cgroups;
    this.#instance = options.instance;
    this.#log = options.log;
    this.sandbox = {
      python: '',
      packages: {},
      limits: options.settings.limits,
      cgroup: options.cgroups?.version ?? null,
      runtimeDir: options.runtimeDir,
    };
  }

  /** Sandboxes start without a cgroup from now on (the probe failed in one). */
  withoutCgroups(): void {
    this.#cgroups = undefined;
    this.sandbox = { ...this.sandbox, cgroup: null };
  }

  /** Starts one sandbox for real, and learns the Python and packages it offers. */
  async probe(): Promise<void> {
    const session = await this.#openSession('probe', { register: false });
    try {
      const kernel = await this.#startKernel(session);
      session.kernel = kernel;
      const outcome = await kernel.execute({
        code: [
          'import importlib.metadata as _m, json as _j',
          'def _v(name):',
          '    try: return _m.version(name)',
          '    except _m.PackageNotFoundError: return None',
          `print(_j.dumps({n: _v(n) for n in ${JSON.stringify(PYTHON_PACKAGES)}}))`,
        ].join('\n'),
        timeoutMs: START_TIMEOUT_MS,
        graceMs: this.#settings.graceMs,
      });
      if (outcome.error || outcome.exit) {
        throw new KernelStartError('the probe sandbox failed', outcome.error?.traceback ?? outcome.logs);
      }
      const packages = JSON.parse(outcome.logs.trim().split('\n').at(-1) ?? '{}') as Record<
        string,
        string | null
      >;
      this.sandbox = { ...this.sandbox, python: kernel.python, packages };
      const missing = PYTHON_PACKAGES.filter((name) => !packages[name]);
      if (missing.length > 0) {
        this.#log(
          'warn',
          `code interpreter: Python packages missing from the sandbox: ${missing.join(', ')}`,
        );
      }
    } finally {
      await this.#teardown(session);
    }
  }

  execute(request: CodeExecutionRequest): Promise<CodeExecutionResult> {
    const started = performance.now();
    if (typeof request.sessionId !== 'string' || request.sessionId === '') {
      return Promise.reject(
        new InvalidRequestError('sessionId must be a non-empty string', { param: 'sessionId' }),
      );
    }
    if (typeof request.code !== 'string') {
      return Promise.reject(new InvalidRequestError('code must be a string', { param: 'code' }));
    }
    try {
      for (const file of request.files ?? []) validateFile(file);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#exclusive(request.sessionId, () => this.#execute(request, started));
  }

  async reset(sessionId: string): Promise<void> {
    // Now, not after the running execution: that one ends with "the session was reset".
    this.#sessions.get(sessionId)?.kernel?.kill('reset');
    await this.#exclusive(sessionId, async () => {
      const session = this.#sessions.get(sessionId);
      if (session) await this.#end(session, undefined);
      this.#ended.delete(sessionId);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#sessions.values()) session.kernel?.kill('shutdown');
    await Promise.allSettled([...this.#chains.values()]);
    await Promise.allSettled([...this.#sessions.values()].map((session) => this.#end(session, undefined)));
    await this.#instance.remove();
  }

  async #execute(request: CodeExecutionRequest, started: number): Promise<CodeExecutionResult> {
    if (this.#closed) throw new SandboxClosedError();
    request.signal?.throwIfAborted();
    const { limits } = this.#settings;
    const before: string[] = [];
    const after: string[] = [];
    let restarted = false;
    let session = this.#sessions.get(request.sessionId);
    if (session === undefined) {
      const ended = this.#ended.get(request.sessionId);
      if (ended !== undefined) {
        restarted = true;
        before.push(this.#newSessionNotice(ended));
        this.#ended.delete(request.sessionId);
      }
      session = await this.#openSession(request.sessionId, { register: true });
    }
    session.busy = true;
    clearTimeout(session.idleTimer);
    try {
      if (!session.kernel?.alive) {
        if (session.kernel !== undefined) {
          restarted = true;
          before.push(
            `The Python kernel was restarted (${session.deathNotice ?? 'the previous one stopped'}). ` +
              'Variables, imports and functions from earlier calls are gone; files in /mnt/data are kept.',
          );
        }
        session.kernel = await this.#startKernel(session);
      }
      const kernel = session.kernel;
      before.push(...(await this.#placeFiles(session, request.files ?? [])));
      const snapshot = await listFiles(session.volume.dataDir, { ignore: isUploadTemporary });
      const outcome = await kernel.execute({
        code: request.code,
        timeoutMs: limits.timeoutSeconds * 1000,
        graceMs: this.#settings.graceMs,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const written = changedFiles(
        snapshot,
        await listFiles(session.volume.dataDir, { ignore: isUploadTemporary }),
      );
      const outputFiles = await this.#readOutputs(session, written, after);
      if (outcome.stopped === 'aborted') {
        throw request.signal?.reason ?? new DOMException('The execution was aborted.', 'AbortError');
      }
      let error: CodeExecutionError | undefined = outcome.error;
      if (outcome.exit !== undefined) {
        error = this.#deathError(outcome.exit, await this.#explainExit(session, outcome.exit));
        after.unshift(error.value);
      } else if (outcome.stopped === 'timeout' && outcome.error !== undefined) {
        error = {
          name: 'TimeoutError',
          value:
            `The execution ran longer than ${limits.timeoutSeconds} s, the sandbox's time limit, and was stopped. ` +
            'The kernel is still running and keeps its variables.',
          traceback: outcome.error.traceback,
        };
        after.unshift(error.value);
      }
      const images = outcome.images
        .filter((image) => image.subarray(0, 8).equals(PNG_SIGNATURE))
        .map((bytes, index) => ({ name: `image-${index + 1}.png`, bytes }));
      return {
        logs: joinLogs(before, outcome.logs, after),
        images,
        outputFiles,
        ...(error ? { error } : {}),
        restarted,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      session.busy = false;
      session.lastUsedAt = Date.now();
      if (this.#sessions.get(session.id) === session) this.#armIdleTimer(session);
    }
  }

  #deathError(exit: KernelExit, why: string): CodeExecutionError {
    const { timeoutSeconds } = this.#settings.limits;
    const next = 'The next execution starts a new kernel: variables are lost, files in /mnt/data are kept.';
    switch (exit.killedFor) {
      case 'timeout':
        return {
          name: 'TimeoutError',
          value: `The execution ran longer than ${timeoutSeconds} s, the sandbox's time limit, and did not stop when interrupted, so its kernel was stopped. ${next}`,
          traceback: '',
        };
      case 'reset':
        return { name: 'SessionReset', value: 'The session was reset while the code ran.', traceback: '' };
      case 'shutdown':
        return { name: 'SandboxClosed', value: 'The server is shutting down.', traceback: '' };
      default:
        return {
          name: 'KernelDied',
          value: `The Python kernel stopped during the execution: ${why}. ${next}`,
          traceback: '',
        };
    }
  }

  #newSessionNotice(reason: EndReason): string {
    const { idleMs, maxAgeMs, maxSessions } = this.#settings;
    const why = {
      idle: `the previous one ended after ${idleMs / 60_000} minutes without use`,
      'max-age': `the previous one reached ${maxAgeMs / 60_000} minutes, the longest a session lasts`,
      evicted: `the previous one was ended to make room for others (${maxSessions} run at once)`,
    }[reason];
    return `This is a new Python session: ${why}. Variables and files from earlier calls are gone.`;
  }

  async #openSession(id: string, { register }: { register: boolean }): Promise<Session> {
    this.#opening += 1;
    try {
      if (register) await this.#makeRoom();
      const lease = await this.#pool.acquire();
      if (lease === undefined) throw new SandboxCapacityError(this.#settings.maxSessions);
      const { limits } = this.#settings;
      let volume: SessionVolume;
      let cgroup: SessionCgroup | undefined;
      try {
        // The session's tmpfs pages are charged to it too: memory and disk together.
        // Named apart from earlier sessions of this uid, whose cgroups may still be going away.
        cgroup = await this.#cgroups?.create(`session-${lease.uid}-${randomBytes(3).toString('hex')}`, {
          memoryBytes: (limits.memoryMb + limits.diskMb) * MIB,
          tasks: limits.processes,
        });
        volume = await mountSessionVolume({
          mountPoint: path.join(this.#instance.sessionsDir, String(lease.uid)),
          uid: lease.uid,
          sizeBytes: limits.diskMb * MIB,
          inodes: Math.max(4096, limits.diskMb * 64),
          commands: this.#binaries,
        });
      } catch (error) {
        await cgroup?.destroy();
        await lease.release();
        throw error;
      }
      const now = Date.now();
      const session: Session = {
        id,
        lease,
        volume,
        cgroup,
        oomKillsAtStart: 0,
        startedAt: now,
        lastUsedAt: now,
        busy: false,
        kernel: undefined,
        deathNotice: undefined,
        placed: new Map(),
        idleTimer: undefined,
        maxAgeTimer: setTimeout(() => this.#expire(session, 'max-age'), this.#settings.maxAgeMs).unref(),
      };
      if (register) this.#sessions.set(id, session);
      else clearTimeout(session.maxAgeTimer);
      return session;
    } finally {
      this.#opening -= 1;
    }
  }

  /** At capacity, ends the least recently used session that is not running code. */
  async #makeRoom(): Promise<void> {
    while (this.#sessions.size + this.#opening > this.#settings.maxSessions) {
      const idle = [...this.#sessions.values()]
        .filter((session) => !session.busy && !this.#chains.has(session.id))
        .sort((a, b) => a.lastUsedAt - b.lastUsedAt);
      const victim = idle[0];
      if (victim === undefined) throw new SandboxCapacityError(this.#settings.maxSessions);
      await this.#end(victim, 'evicted');
    }
  }

  async #startKernel(session: Session): Promise<Kernel> {
    const { limits, maxAgeMs, threads, maxLogBytes, maxImages } = this.#settings;
    const command = sandboxCommand({
      binaries: this.#binaries,
      layout: this.#layout,
      uid: session.lease.uid,
      limits,
      // A kernel cannot outlive its session: all its threads busy all along is the ceiling.
      lifetimeCpuSeconds: Math.ceil(maxAgeMs / 1000) * threads,
      dataDir: session.volume.dataDir,
      tmpDir: session.volume.tmpDir,
      shmDir: session.volume.shmDir,
      staticDir: this.#instance.staticDir,
      threads,
      maxImages,
      maxImageBytes: MAX_IMAGE_BYTES,
      ...(session.cgroup ? { cgroupProcsFiles: session.cgroup.procsFiles } : {}),
    });
    session.oomKillsAtStart = (await session.cgroup?.oomKills()) ?? 0;
    let kernel: Kernel;
    try {
      kernel = await startKernel({
        ...command,
        startTimeoutMs: START_TIMEOUT_MS,
        maxLogBytes,
        maxMessageBytes: Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 2 * MIB,
      });
    } catch (error) {
      throw new SandboxUnavailableError([explainStartFailure(error)], { cause: error });
    }
    session.deathNotice = undefined;
    void kernel.exited.then(async (exit) => {
      const why = await this.#explainExit(session, exit);
      if (session.kernel === kernel) session.deathNotice = why;
    });
    return kernel;
  }

  /** describeExit, or what the cgroup knows: its OOM killer ended the kernel. */
  async #explainExit(session: Session, exit: KernelExit): Promise<string> {
    if (exit.killedFor === undefined && session.cgroup !== undefined) {
      if ((await session.cgroup.oomKills()) > session.oomKillsAtStart) {
        const { memoryMb, diskMb } = this.#settings.limits;
        return `the sandbox ran out of memory: its processes and files may use ${memoryMb + diskMb} MB together`;
      }
    }
    return describeExit(exit);
  }

  /** Places the request's files; returns notices for those that could not be. */
  async #placeFiles(session: Session, files: readonly CodeInterpreterFile[]): Promise<string[]> {
    const notices: string[] = [];
    for (const file of files) {
      const fingerprint = await fingerprintOf(file);
      const target = path.join(session.volume.dataDir, file.name);
      const present = await lstat(target).then(
        () => true,
        () => false,
      );
      if (present && session.placed.get(file.name) === fingerprint) continue;
      const source: FileSource = 'bytes' in file ? { bytes: file.bytes } : { path: file.path };
      try {
        await placeFile({
          directory: session.volume.dataDir,
          name: file.name,
          source,
          uid: session.lease.uid,
          temporaryPrefix: UPLOAD_PREFIX,
        });
        session.placed.set(file.name, fingerprint);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOSPC'
            ? `the sandbox's disk (${this.#settings.limits.diskMb} MB) is full`
            : code === 'EISDIR'
              ? 'a directory has that name'
              : String((error as Error).message);
        notices.push(`Could not put ${file.name} in /mnt/data: ${why}.`);
      }
    }
    return notices;
  }

  async #readOutputs(
    session: Session,
    written: readonly string[],
    notices: string[],
  ): Promise<CodeExecutionFile[]> {
    const { maxOutputFiles, maxOutputFileBytes } = this.#settings;
    const files: CodeExecutionFile[] = [];
    for (const name of written.slice(0, maxOutputFiles)) {
      const read = await readFileBelow({
        root: session.volume.dataDir,
        relativePath: name,
        maxBytes: maxOutputFileBytes,
      });
      if (read.kind === 'file') files.push({ name, path: `${SANDBOX_DATA_DIR}/${name}`, bytes: read.bytes });
      else if (read.kind === 'too-large') {
        notices.push(
          `${SANDBOX_DATA_DIR}/${name} is ${(read.size / MIB).toFixed(1)} MB, more than the ${maxOutputFileBytes / MIB} MB an output file may be: it stays in the sandbox and is not returned.`,
        );
      }
    }
    if (written.length > maxOutputFiles) {
      notices.push(
        `The execution wrote ${written.length} files; only the first ${maxOutputFiles} are returned.`,
      );
    }
    return files;
  }

  #armIdleTimer(session: Session): void {
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => this.#expire(session, 'idle'), this.#settings.idleMs).unref();
  }

  #expire(session: Session, reason: 'idle' | 'max-age'): void {
    void this.#exclusive(session.id, async () => {
      if (this.#sessions.get(session.id) !== session || session.busy) return;
      if (reason === 'idle' && Date.now() - session.lastUsedAt < this.#settings.idleMs) {
        this.#armIdleTimer(session);
        return;
      }
      await this.#end(session, reason);
    }).catch((error) =>
      this.#log('error', `code interpreter: ending session ${session.id} failed: ${error}`),
    );
  }

  /** Ends a session: kernel, disk, uid. `reason` is told to the next call with its id. */
  async #end(session: Session, reason: EndReason | undefined): Promise<void> {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (reason !== undefined) {
      this.#ended.set(session.id, reason);
      if (this.#ended.size > REMEMBERED_ENDINGS) this.#ended.delete(this.#ended.keys().next().value!);
    }
    await this.#teardown(session);
  }

  async #teardown(session: Session): Promise<void> {
    clearTimeout(session.idleTimer);
    clearTimeout(session.maxAgeTimer);
    const kernel = session.kernel;
    if (kernel !== undefined) {
      kernel.kill('expired');
      await kernel.exited;
    }
    try {
      await session.volume.destroy();
    } catch (error) {
      this.#log('error', `code interpreter: could not unmount ${session.volume.mountPoint}: ${error}`);
    }
    await session.cgroup?.destroy().catch(() => undefined);
    // A uid goes back to the pool only once nothing runs as it: two sandboxes never share one.
    if (await waitUntilNoProcessRunsAs(session.lease.uid)) {
      await session.lease.release();
    } else {
      this.#log(
        'error',
        `code interpreter: processes of uid ${session.lease.uid} outlived their sandbox; the uid stays leased`,
      );
    }
  }

  /** Runs `task` after every earlier task of the same session: one execution at a time. */
  #exclusive<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(sessionId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(sessionId, tail);
    void tail.then(() => {
      if (this.#chains.get(sessionId) === tail) this.#chains.delete(sessionId);
    });
    return result;
  }
}

function validateFile(file: CodeInterpreterFile): void {
  const name = (file as { name?: unknown }).name;
  if (
    typeof name !== 'string' ||
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\0') ||
    Buffer.byteLength(name) > 255 ||
    isUploadTemporary(name)
  ) {
    throw new InvalidRequestError(`files: ${JSON.stringify(name)} is not a valid file name`, {
      param: 'files',
    });
  }
  const hasPath = typeof (file as { path?: unknown }).path === 'string';
  const hasBytes = (file as { bytes?: unknown }).bytes instanceof Uint8Array;
  if (hasPath === hasBytes) {
    throw new InvalidRequestError(`files: ${name} needs exactly one of path or bytes`, { param: 'files' });
  }
}

async function fingerprintOf(file: CodeInterpreterFile): Promise<string> {
  if ('bytes' in file) return `bytes:${createHash('sha256').update(file.bytes).digest('hex')}`;
  const stats = await stat(file.path).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) {
    throw new InvalidRequestError(`files: ${file.name}: ${file.path} is not a readable file`, {
      param: 'files',
    });
  }
  return `path:${file.path}:${stats.size}:${stats.mtimeMs}`;
}

function isUploadTemporary(name: string): boolean {
  return name.startsWith(UPLOAD_PREFIX);
}

function joinLogs(before: readonly string[], logs: string, after: readonly string[]): string {
  const notice = (line: string) => `[sandbox] ${line}\n`;
  const middle = logs !== '' && after.length > 0 && !logs.endsWith('\n') ? `${logs}\n` : logs;
  return before.map(notice).join('') + middle + after.map(notice).join('');
}

function explainStartFailure(error: unknown): string {
  const detail =
    error instanceof KernelStartError ? error.detail : String((error as Error)?.message ?? error);
  if (
    /uid map|setting up uid|user namespace|Operation not permitted|No permissions to create new namespace/i.test(
      detail,
    )
  ) {
    return `a sandbox could not create its user namespace (${detail.split('\n')[0]}); unprivileged user namespaces must be enabled`;
  }
  return `a test sandbox failed to start: ${detail || String(error)}`;
}
