// Hands each sandbox a uid of its own from a reserved range, so that no two sandboxes, on this
// server or on another Atelier process of the same machine, ever share one. A lease is a file
// created exclusively in a root-only directory and naming its owner (pid and start time), so
// the leases of a process that died are taken back.
import { randomInt } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface UidLease {
  readonly uid: number;
  release(): Promise<void>;
}

export interface UidPool {
  /** Undefined when every uid of the range is leased. */
  acquire(): Promise<UidLease | undefined>;
}

export interface UidPoolOptions {
  /** A directory only root can write: the leases of every Atelier process on the machine. */
  readonly leaseDir: string;
  readonly first: number;
  readonly count: number;
}

interface Owner {
  readonly pid: number;
  readonly startTime: string;
}

export async function createUidPool({ leaseDir, first, count }: UidPoolOptions): Promise<UidPool> {
  await mkdir(leaseDir, { recursive: true, mode: 0o700 });
  const stats = await lstat(leaseDir);
  if (!stats.isDirectory() || stats.uid !== process.getuid?.()) {
    throw new Error(`${leaseDir} must be a directory owned by the server's user`);
  }
  await chmod(leaseDir, 0o700);
  const self: Owner = { pid: process.pid, startTime: await processStartTime(process.pid) };
  const leaseFile = (uid: number) => path.join(leaseDir, String(uid));

  async function tryLease(uid: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(leaseFile(uid), 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(self));
        } finally {
          await handle.close();
        }
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!(await ownerIsGone(leaseFile(uid)))) return false;
      // Its owner died without giving it back: the lease is free again.
      await unlink(leaseFile(uid)).catch(() => undefined);
    }
    return false;
  }

  return {
    async acquire() {
      // Random probes first (cheap while the range is mostly free), then a full sweep. The
      // offsets are generated as they are tried: the range is large (65,536 by default), and a
      // list of it cost megabytes of garbage on every start of a sandbox.
      for (const offset of probeOrder(count)) {
        const uid = first + offset;
        if (await tryLease(uid)) {
          let released = false;
          return {
            uid,
            release: async () => {
              if (released) return;
              released = true;
              await unlink(leaseFile(uid)).catch(() => undefined);
            },
          };
        }
      }
      return undefined;
    },
  };
}

/** 16 random offsets in [0, count), then every offset once from a random start. */
function* probeOrder(count: number): Generator<number> {
  for (let probe = 0; probe < Math.min(count, 16); probe++) yield randomInt(count);
  const start = randomInt(count);
  for (let index = 0; index < count; index++) yield (start + index) % count;
}

async function ownerIsGone(file: string): Promise<boolean> {
  let owner: Partial<Owner>;
  try {
    owner = JSON.parse(await readFile(file, 'utf8')) as Partial<Owner>;
  } catch {
    // Unreadable or half-written: a lease being written right now looks like this too, so
    // only a lease old enough to be abandoned is taken back.
    const stats = await lstat(file).catch(() => undefined);
    return stats === undefined || Date.now() - stats.mtimeMs > 60_000;
  }
  if (typeof owner.pid !== 'number' || typeof owner.startTime !== 'string') return true;
  const startTime = await processStartTime(owner.pid).catch(() => undefined);
  // Same pid but another start time: the pid was reused by an unrelated process.
  return startTime !== owner.startTime;
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
export async function processStartTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  if (startTime === undefined) throw new Error(`unexpected /proc/${pid}/stat`);
  return startTime;
}

/** Pids of the processes (of this machine's pid namespace) with `uid` as any of their uids. */
export async function processesRunningAs(uid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
    if (uids.includes(uid)) found.push(Number(name));
  }
  return found;
}

/** Waits (a while) for the last processes of `uid` to be gone; false if some stay. */
export async function waitUntilNoProcessRunsAs(uid: number, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await processesRunningAs(uid)).length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
