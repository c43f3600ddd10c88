// A cgroup per session, where the machine offers one: it bounds the memory of the whole
// sandbox (RLIMIT_AS only bounds each process, and a sandbox may run dozens) and its number of
// tasks. cgroup v2 (a subtree at the top of the hierarchy) or v1 (memory and pids below this
// server's own groups). Where neither can be written (a container without delegation), the
// interpreter works on rlimits alone and says so.
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SessionCgroup {
  /** The cgroup.procs files the sandbox joins before it starts (see sandbox-command.ts). */
  readonly procsFiles: readonly string[];
  /** Processes of the sandbox killed by the kernel's OOM killer so far. */
  oomKills(): Promise<number>;
  destroy(): Promise<void>;
}

export interface SandboxCgroups {
  readonly version: 'v1' | 'v2';
  create(
    name: string,
    limits: { readonly memoryBytes: number; readonly tasks: number },
  ): Promise<SessionCgroup>;
}

interface Membership {
  readonly hierarchy: string;
  readonly controllers: readonly string[];
  readonly path: string;
}

/** The cgroups the interpreter can create on this machine, or undefined. */
export async function detectSandboxCgroups(prefix: string): Promise<SandboxCgroups | undefined> {
  const memberships = await readMemberships();
  const mounts = await cgroupMounts();
  return (await detectV2(prefix, memberships, mounts)) ?? (await detectV1(prefix, memberships, mounts));
}

async function detectV2(
  prefix: string,
  memberships: readonly Membership[],
  mounts: readonly CgroupMount[],
): Promise<SandboxCgroups | undefined> {
  const mount = mounts.find((candidate) => candidate.type === 'cgroup2' && candidate.root === '/');
  if (mount === undefined || !memberships.some((membership) => membership.hierarchy === '0'))
    return undefined;
  const available = (
    await readFile(path.join(mount.point, 'cgroup.controllers'), 'utf8').catch(() => '')
  ).split(/\s+/);
  if (!available.includes('memory') || !available.includes('pids')) return undefined;
  // At the top of the hierarchy: a cgroup holding processes (this server's) may not hand
  // controllers down to children, the top one may.
  const base = path.join(mount.point, prefix);
  try {
    await enableControllers(mount.point);
    await mkdir(base, { recursive: true });
    await enableControllers(base);
  } catch {
    return undefined;
  }
  await removeEmptyLeftovers(base);
  return {
    version: 'v2',
    async create(name, { memoryBytes, tasks }) {
      const directory = path.join(base, name);
      await makeFresh(directory);
      try {
        await writeFile(path.join(directory, 'memory.max'), String(memoryBytes));
        await writeFile(path.join(directory, 'memory.swap.max'), '0').catch(() => undefined);
        await writeFile(path.join(directory, 'pids.max'), String(tasks));
      } catch (error) {
        await rmdir(directory).catch(() => undefined);
        throw error;
      }
      return {
        procsFiles: [path.join(directory, 'cgroup.procs')],
        oomKills: () => counter(path.join(directory, 'memory.events'), 'oom_kill'),
        destroy: () => removeWhenEmpty(directory),
      };
    },
  };
}

async function detectV1(
  prefix: string,
  memberships: readonly Membership[],
  mounts: readonly CgroupMount[],
): Promise<SandboxCgroups | undefined> {
  const place = (controller: string): string | undefined => {
    const membership = memberships.find((candidate) => candidate.controllers.includes(controller));
    const mount = mounts.find(
      (candidate) =>
        candidate.type === 'cgroup' && candidate.root === '/' && candidate.options.includes(controller),
    );
    return membership && mount ? path.join(mount.point, membership.path, prefix) : undefined;
  };
  const memoryBase = place('memory');
  const pidsBase = place('pids');
  if (memoryBase === undefined || pidsBase === undefined) return undefined;
  try {
    await mkdir(memoryBase, { recursive: true });
    await mkdir(pidsBase, { recursive: true });
    // Children's charges count in their parents (and so in this server's own limit).
    await writeFile(path.join(memoryBase, 'memory.use_hierarchy'), '1').catch(() => undefined);
  } catch {
    return undefined;
  }
  await Promise.all([removeEmptyLeftovers(memoryBase), removeEmptyLeftovers(pidsBase)]);
  return {
    version: 'v1',
    async create(name, { memoryBytes, tasks }) {
      const memory = path.join(memoryBase, name);
      const pids = path.join(pidsBase, name);
      await makeFresh(memory);
      try {
        await makeFresh(pids);
        await writeFile(path.join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
        await writeFile(path.join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes)).catch(
          () => undefined,
        );
        await writeFile(path.join(pids, 'pids.max'), String(tasks));
      } catch (error) {
        await Promise.all([rmdir(memory).catch(() => undefined), rmdir(pids).catch(() => undefined)]);
        throw error;
      }
      return {
        procsFiles: [path.join(memory, 'cgroup.procs'), path.join(pids, 'cgroup.procs')],
        oomKills: () => counter(path.join(memory, 'memory.oom_control'), 'oom_kill'),
        destroy: async () => {
          await Promise.all([removeWhenEmpty(memory), removeWhenEmpty(pids)]);
        },
      };
    },
  };
}

async function enableControllers(directory: string): Promise<void> {
  const enabled = (await readFile(path.join(directory, 'cgroup.subtree_control'), 'utf8')).split(/\s+/);
  const missing = ['memory', 'pids'].filter((controller) => !enabled.includes(controller));
  if (missing.length > 0) {
    await writeFile(
      path.join(directory, 'cgroup.subtree_control'),
      missing.map((name) => `+${name}`).join(' '),
    );
  }
}

/** A cgroup of this name may be left by a server that died (its processes died with it). */
async function makeFresh(directory: string): Promise<void> {
  try {
    await mkdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await rmdir(directory);
    await mkdir(directory);
  }
}

/**
 * rmdir of a cgroup fails while its last processes are being torn down (reaped): a few quick
 * tries, then more in the background, without holding the session's end up.
 */
async function removeWhenEmpty(directory: string): Promise<void> {
  const attempt = () =>
    rmdir(directory).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    );
  for (let tries = 0; tries < 5; tries += 1) {
    if (await attempt()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let delay = 100;
  const retry = () => {
    void attempt().then((done) => {
      delay *= 2;
      if (!done && delay < 60_000) setTimeout(retry, delay).unref();
    });
  };
  setTimeout(retry, delay).unref();
}

/** Empty cgroups of sessions whose removal did not finish (the server stopped meanwhile). */
async function removeEmptyLeftovers(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (name.startsWith('session-')) await rmdir(path.join(base, name)).catch(() => undefined);
  }
}

async function counter(file: string, name: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number.parseInt(line.slice(name.length + 1), 10) || 0;
}

async function readMemberships(): Promise<Membership[]> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hierarchy = '', controllers = '', ...rest] = line.split(':');
      return { hierarchy, controllers: controllers.split(','), path: rest.join(':') };
    });
}

interface CgroupMount {
  readonly point: string;
  readonly root: string;
  readonly type: string;
  readonly options: readonly string[];
}

async function cgroupMounts(): Promise<CgroupMount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root point options [optional…] - type source superoptions
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [type, , superOptions = ''] = right.split(' ');
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    const root = fields[3];
    const point = fields[4];
    if (root === undefined || point === undefined) continue;
    mounts.push({ point, root, type, options: superOptions.split(',') });
  }
  return mounts;
}
