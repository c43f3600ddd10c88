// One running sandbox and the Python kernel in it, seen from the server: JSON lines on fd 3
// (requests in, results out), the code's output on fd 1 (stderr joins it inside), and the
// sandbox's own diagnostics on fd 2. Everything read from the sandbox is bounded and parsed;
// nothing it sends can make the server wait forever or hold unbounded memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { z } from 'zod';
import { CappedLog } from './capped-log.js';

export interface KernelError {
  readonly name: string;
  readonly value: string;
  readonly traceback: string;
}

/** Why the server ended a kernel, when it did. */
export type KernelKillReason = 'timeout' | 'aborted' | 'reset' | 'expired' | 'shutdown' | 'protocol';

export interface KernelExit {
  /** Exit status of the sandbox; 128 + N when the kernel was killed by signal N inside it. */
  readonly code: number | null;
  /** Signal that ended the sandbox itself (the server's SIGKILL). */
  readonly signal: NodeJS.Signals | null;
  readonly killedFor: KernelKillReason | undefined;
}

export interface KernelOutcome {
  /** What the code printed, stdout and stderr interleaved, the traceback included. */
  readonly logs: string;
  readonly error: KernelError | undefined;
  readonly images: readonly Buffer[];
  /** Set when the server interrupted the execution (time limit, abort). */
  readonly stopped: 'timeout' | 'aborted' | undefined;
  /** Set when the kernel is gone: it died, or was killed, during this execution. */
  readonly exit: KernelExit | undefined;
}

export interface KernelExecution {
  readonly code: string;
  readonly timeoutMs: number;
  /** After an interrupt, how long the kernel has to stop before it is killed. */
  readonly graceMs: number;
  readonly signal?: AbortSignal;
}

export interface Kernel {
  readonly python: string;
  readonly alive: boolean;
  readonly exited: Promise<KernelExit>;
  /** One at a time: the caller serialises executions. */
  execute(execution: KernelExecution): Promise<KernelOutcome>;
  kill(reason: KernelKillReason): void;
}

export interface StartKernelOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly startTimeoutMs: number;
  /** Output kept per execution (head and tail). */
  readonly maxLogBytes: number;
  /** Longest protocol line (a result with its images). */
  readonly maxMessageBytes: number;
}

/** The sandbox did not come up; `detail` is what bubblewrap or Python said. */
export class KernelStartError extends Error {
  readonly detail: string;
  constructor(message: string, detail: string) {
    super(detail ? `${message}: ${detail}` : message);
    this.name = 'KernelStartError';
    this.detail = detail;
  }
}

const ReadyMessage = z.object({ type: z.literal('ready'), python: z.string() });
const ResultMessage = z.object({
  type: z.literal('result'),
  id: z.number(),
  error: z.object({ name: z.string(), value: z.string(), traceback: z.string() }).nullable(),
  images: z.array(z.string()),
});
type Result = z.infer<typeof ResultMessage>;

const DIAGNOSTIC_BYTES = 8 * 1024;
/** Output arriving while nothing executes, or past the kept budget, is read at this pace. */
const DRAIN_PAUSE_MS = 10;
/** After the result, how long the end-of-output marker may take to arrive. */
const MARKER_WAIT_MS = 2_000;

interface Running {
  readonly id: number;
  readonly marker: Buffer;
  readonly log: CappedLog;
  /** Bytes that may be the start of the marker, not yet in the log. */
  carry: Buffer;
  result: Result | undefined;
  markerSeen: boolean;
  stopped: 'timeout' | 'aborted' | undefined;
  readonly timers: NodeJS.Timeout[];
  readonly finish: (exit: KernelExit | undefined) => void;
}

export async function startKernel(options: StartKernelOptions): Promise<Kernel> {
  const child = spawn(options.file, [...options.args], {
    // fd 3: the protocol; fd 4: bubblewrap's --info-fd (the sandbox init's pid).
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: {},
  });
  const kernel = new KernelProcess(child, options);
  await kernel.ready(options.startTimeoutMs);
  return kernel;
}

class KernelProcess implements Kernel {
  python = '';
  readonly exited: Promise<KernelExit>;
  readonly #child: ChildProcess;
  readonly #control: Duplex;
  readonly #output: Readable;
  readonly #options: StartKernelOptions;
  #diagnostics = '';
  #lineChunks: Buffer[] = [];
  #lineBytes = 0;
  #nextId = 0;
  #running: Running | undefined;
  #killedFor: KernelKillReason | undefined;
  #exit: KernelExit | undefined;
  #onReady: ((python: string) => void) | undefined;
  /** Host pid of the sandbox's init (pid 1 inside), once bubblewrap told it. */
  #initPid: number | undefined;
  #info = '';

  constructor(child: ChildProcess, options: StartKernelOptions) {
    this.#child = child;
    this.#options = options;
    this.#control = child.stdio[3] as Duplex;
    this.#output = child.stdout!;
    for (const stream of [this.#control, this.#output, child.stderr!]) stream.on('error', () => undefined);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.#diagnostics.length < DIAGNOSTIC_BYTES) this.#diagnostics += chunk.toString('utf8');
    });
    this.#control.on('data', (chunk: Buffer) => this.#onProtocolData(chunk));
    const info = child.stdio[4] as Readable;
    info.on('error', () => undefined);
    info.on('data', (chunk: Buffer) => {
      if (this.#info.length > 4096) return;
      this.#info += chunk.toString('utf8');
      const match = /"child-pid"\s*:\s*(\d+)/.exec(this.#info);
      if (match) this.#initPid = Number(match[1]);
    });
    this.#output.on('data', (chunk: Buffer) => this.#onOutput(chunk));
    this.exited = new Promise((resolve) => {
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        this.#exit = { code, signal, killedFor: this.#killedFor };
        this.#running?.finish(this.#exit);
        resolve(this.#exit);
      };
      // 'close' comes once the pipes are drained (all output read); should something keep them
      // open after the sandbox is gone, 'exit' settles it shortly after.
      child.on('close', settle);
      child.on('exit', (code, signal) => setTimeout(() => settle(code, signal), 1_000).unref());
      child.on('error', () => settle(null, null));
    });
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      new Promise<'ready'>((resolve) => {
        this.#onReady = (python) => {
          this.python = python;
          resolve('ready');
        };
      }),
      this.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#onReady = undefined;
    if (outcome === 'ready') return;
    this.kill('shutdown');
    const exit = await this.exited;
    const detail = this.#diagnostics.trim();
    throw new KernelStartError(
      outcome === 'timeout'
        ? `the sandbox did not start within ${timeoutMs} ms`
        : `the sandbox exited while starting (status ${exit.code ?? exit.signal})`,
      detail,
    );
  }

  kill(reason: KernelKillReason): void {
    if (this.#exit !== undefined) return;
    this.#killedFor ??= reason;
    // Killing the sandbox's init ends its pid namespace, every process in it, and bubblewrap
    // (which reaps it, so nothing is left for the host's init to reap). Killing bubblewrap
    // itself would do too (--die-with-parent), as the fallback it is.
    if (this.#initPid !== undefined) {
      try {
        process.kill(this.#initPid, 'SIGKILL');
        setTimeout(() => this.#child.kill('SIGKILL'), 2_000).unref();
        return;
      } catch {
        // Already gone: bubblewrap is on its way out.
      }
    }
    this.#child.kill('SIGKILL');
  }

  execute({ code, timeoutMs, graceMs, signal }: KernelExecution): Promise<KernelOutcome> {
    if (this.#running) return Promise.reject(new Error('the kernel is already executing'));
    return new Promise((resolve) => {
      const id = ++this.#nextId;
      const marker = `\u0000atelier-end:${randomUUID()}\u0000`;
      const onAbort = () => this.#stop(running, 'aborted', graceMs);
      const running: Running = {
        id,
        marker: Buffer.from(marker, 'utf8'),
        log: new CappedLog(this.#options.maxLogBytes),
        carry: Buffer.alloc(0),
        result: undefined,
        markerSeen: false,
        stopped: undefined,
        timers: [],
        finish: (exit) => {
          if (this.#running !== running) return;
          this.#running = undefined;
          for (const timer of running.timers) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          running.log.append(running.carry);
          const result = running.result;
          resolve({
            logs: running.log.text(),
            error: result?.error ?? undefined,
            images: (result?.images ?? []).map((image) => Buffer.from(image, 'base64')),
            stopped: running.stopped,
            exit,
          });
        },
      };
      this.#running = running;
      if (this.#exit !== undefined) {
        running.finish(this.#exit);
        return;
      }
      this.#output.resume();
      this.#control.write(`${JSON.stringify({ type: 'execute', id, code, nonce: marker })}\n`);
      running.timers.push(setTimeout(() => this.#stop(running, 'timeout', graceMs), timeoutMs));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Interrupts the execution (KeyboardInterrupt in the kernel); kills the kernel if that fails. */
  #stop(running: Running, reason: 'timeout' | 'aborted', graceMs: number): void {
    if (this.#running !== running || running.stopped !== undefined) return;
    running.stopped = reason;
    this.#control.write(`${JSON.stringify({ type: 'interrupt', id: running.id })}\n`);
    running.timers.push(setTimeout(() => this.kill(reason), graceMs));
  }

  #onProtocolData(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.#lineChunks.push(chunk.subarray(start, newline));
      const line = Buffer.concat(this.#lineChunks).toString('utf8');
      this.#lineChunks = [];
      this.#lineBytes = 0;
      start = newline + 1;
      this.#onMessage(line);
    }
    if (start < chunk.length) {
      this.#lineChunks.push(chunk.subarray(start));
      this.#lineBytes += chunk.length - start;
      if (this.#lineBytes > this.#options.maxMessageBytes) {
        this.#lineChunks = [];
        this.#lineBytes = 0;
        this.kill('protocol');
      }
    }
  }

  #onMessage(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    const ready = ReadyMessage.safeParse(message);
    if (ready.success) {
      this.#onReady?.(ready.data.python);
      return;
    }
    const result = ResultMessage.safeParse(message);
    const running = this.#running;
    if (!result.success || running === undefined || result.data.id !== running.id || running.result) return;
    running.result = result.data;
    this.#output.resume();
    if (running.markerSeen) running.finish(undefined);
    else running.timers.push(setTimeout(() => running.finish(undefined), MARKER_WAIT_MS));
  }

  #onOutput(chunk: Buffer): void {
    const running = this.#running;
    if (running === undefined || running.markerSeen) {
      // Output of nothing we run (a thread left behind): dropped, at a pace that costs little.
      this.#throttle();
      return;
    }
    const data = running.carry.length > 0 ? Buffer.concat([running.carry, chunk]) : chunk;
    const at = data.indexOf(running.marker);
    if (at !== -1) {
      running.log.append(data.subarray(0, at));
      running.carry = Buffer.alloc(0);
      running.markerSeen = true;
      if (running.result) running.finish(undefined);
      return;
    }
    const keep = Math.min(running.marker.length - 1, data.length);
    running.log.append(data.subarray(0, data.length - keep));
    running.carry = Buffer.from(data.subarray(data.length - keep));
    // A flood past what is kept: read it slowly, so it costs the server nothing while the
    // execution runs into its time limit (or finishes, which lifts the brake).
    if (running.log.full && running.result === undefined) this.#throttle();
  }

  #throttle(): void {
    this.#output.pause();
    setTimeout(() => this.#output.resume(), DRAIN_PAUSE_MS).unref();
  }
}
