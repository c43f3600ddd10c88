// What one sandbox may use. Every limit ends only the execution that exceeds it (or, for the
// few the kernel cannot survive, restarts the kernel and says so), never the server.
import { InvalidRequestError } from '../../errors.js';

export interface SandboxLimits {
  /** Address space of each process in the sandbox (RLIMIT_AS), in MiB. */
  readonly memoryMb: number;
  /** CPU time one execution may use, in seconds (RLIMIT_CPU, re-armed per execution). */
  readonly cpuSeconds: number;
  /** Wall-clock time one execution may take, in seconds. */
  readonly timeoutSeconds: number;
  /** Processes and threads the sandbox may run at once (RLIMIT_NPROC of its own uid). */
  readonly processes: number;
  /** Size of the session's disk: /mnt/data, /tmp and /dev/shm together (a tmpfs), in MiB. */
  readonly diskMb: number;
  /** Largest file the code may write (RLIMIT_FSIZE), in MiB. */
  readonly fileSizeMb: number;
  /** Open files per process (RLIMIT_NOFILE). */
  readonly openFiles: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = Object.freeze({
  memoryMb: 2048,
  cpuSeconds: 120,
  timeoutSeconds: 120,
  processes: 64,
  diskMb: 1024,
  fileSizeMb: 1024,
  openFiles: 1024,
});

const MINIMUMS: Readonly<Record<keyof SandboxLimits, number>> = {
  // Python with numpy needs a few hundred MiB of address space just to start.
  memoryMb: 256,
  cpuSeconds: 1,
  timeoutSeconds: 1,
  // The kernel itself: bubblewrap's two processes, Python and its protocol thread.
  processes: 8,
  diskMb: 8,
  fileSizeMb: 1,
  openFiles: 64,
};

/** Fills in defaults and refuses values the sandbox cannot work with. */
export function resolveLimits(limits: Partial<SandboxLimits> = {}): SandboxLimits {
  const resolved = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  for (const name of Object.keys(MINIMUMS) as (keyof SandboxLimits)[]) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < MINIMUMS[name]) {
      throw new InvalidRequestError(
        `Sandbox limit ${name} must be an integer of at least ${MINIMUMS[name]} (got ${value})`,
        { param: `limits.${name}` },
      );
    }
  }
  return Object.freeze({ ...resolved, fileSizeMb: Math.min(resolved.fileSizeMb, resolved.diskMb) });
}
