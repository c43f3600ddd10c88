// The server's runtime tree for sandboxes, on the host:
//   <runtimeDir>/instances/<pid>-<id>/  one per server process (owner.json names it)
//     static/      the kernel, its matplotlib backend, passwd/group/hosts: /opt/atelier inside
//     sessions/    one tmpfs mount point per running session (session-volume.ts)
// Every level is root's and 0711: the sandbox uids pass through, list nothing, write nothing.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KERNEL_SOURCE, MATPLOTLIB_BACKEND_SOURCE } from './python-kernel.js';
import { SANDBOX_UID } from './sandbox-command.js';
import { SandboxUnavailableError } from './sandbox-errors.js';
import { type MountCommands, unmountAllBelow } from './session-volume.js';
import { processStartTime } from './uid-pool.js';

export interface InstanceDirectory {
  readonly instanceDir: string;
  readonly staticDir: string;
  readonly sessionsDir: string;
  /** Unmounts what is left below it and removes it. */
  remove(): Promise<void>;
}

/** Prepares this process's instance directory, first clearing those of servers that died. */
export async function createInstanceDirectory({
  runtimeDir,
  commands,
}: {
  runtimeDir: string;
  commands: MountCommands;
}): Promise<InstanceDirectory> {
  await ensureRootOnlyDirectory(runtimeDir, 0o711);
  const instancesDir = path.join(runtimeDir, 'instances');
  await ensureRootOnlyDirectory(instancesDir, 0o711);
  await removeAbandonedInstances(instancesDir, commands);
  const instanceDir = path.join(instancesDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  const remove = async () => {
    await unmountAllBelow(instanceDir, commands);
    await rm(instanceDir, { recursive: true, force: true });
  };
  try {
    await mkdir(instanceDir, { mode: 0o711 });
    await chmod(instanceDir, 0o711);
    await writeFile(
      path.join(instanceDir, 'owner.json'),
      JSON.stringify({ pid: process.pid, startTime: await processStartTime(process.pid) }),
    );
    const staticDir = path.join(instanceDir, 'static');
    await writeStaticFiles(staticDir);
    const sessionsDir = path.join(instanceDir, 'sessions');
    await mkdir(sessionsDir, { mode: 0o711 });
    await chmod(sessionsDir, 0o711);
    return { instanceDir, staticDir, sessionsDir, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Creates (or checks) a directory of the runtime tree: a real directory owned by root. */
async function ensureRootOnlyDirectory(directory: string, mode: number): Promise<void> {
  await mkdir(directory, { recursive: true, mode });
  const stats = await lstat(directory);
  if (!stats.isDirectory() || stats.uid !== 0) {
    throw new SandboxUnavailableError([`${directory} must be a directory owned by root`]);
  }
  await chmod(directory, mode);
}

async function writeStaticFiles(staticDir: string): Promise<void> {
  await mkdir(staticDir, { mode: 0o755 });
  await chmod(staticDir, 0o755);
  const files: Record<string, string> = {
    'kernel.py': KERNEL_SOURCE,
    'atelier_inline.py': MATPLOTLIB_BACKEND_SOURCE,
    passwd:
      'root:x:0:0:root:/root:/usr/sbin/nologin\n' +
      `sandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:sandbox:/tmp:/bin/sh\n` +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    group: `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(staticDir, name), content, { mode: 0o644 });
  }
}

/** Instances whose server died (no close): their mounts are detached and their files removed. */
async function removeAbandonedInstances(instancesDir: string, commands: MountCommands): Promise<void> {
  for (const name of await readdir(instancesDir)) {
    const directory = path.join(instancesDir, name);
    const owner = await readFile(path.join(directory, 'owner.json'), 'utf8')
      .then((text) => JSON.parse(text) as { pid?: unknown; startTime?: unknown })
      .catch(() => undefined);
    if (owner !== undefined && typeof owner.pid === 'number') {
      const startTime = await processStartTime(owner.pid).catch(() => undefined);
      if (startTime === owner.startTime) continue; // alive: another Atelier on this machine
    } else {
      // No owner yet: maybe being created this instant. Leave it unless it is old.
      const stats = await lstat(directory).catch(() => undefined);
      if (stats === undefined || Date.now() - stats.mtimeMs < 60_000) continue;
    }
    await unmountAllBelow(directory, commands);
    await rm(directory, { recursive: true, force: true });
  }
}
