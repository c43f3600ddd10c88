// A session's disk: a size-limited tmpfs the server mounts on the host and the sandbox sees as
// /mnt/data, /tmp and /dev/shm. Its size is the sandbox's total disk; it outlives kernel
// restarts (files stay, variables go) and disappears with the session.
import { execFile } from 'node:child_process';
import { chown, mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SessionVolume {
  /** The tmpfs' mount point on the host (root-owned, 0711). */
  readonly mountPoint: string;
  /** Host paths of what the sandbox sees as /mnt/data, /tmp and /dev/shm (owned by its uid, 0700). */
  readonly dataDir: string;
  readonly tmpDir: string;
  readonly shmDir: string;
  /** Unmounts the tmpfs and removes its mount point; the files are gone. */
  destroy(): Promise<void>;
}

export interface MountSessionVolumeOptions {
  readonly mountPoint: string;
  readonly uid: number;
  readonly sizeBytes: number;
  /** Files and directories the volume may hold (tmpfs nr_inodes). */
  readonly inodes: number;
  readonly commands?: MountCommands;
}

/** util-linux's mount and umount, by path. */
export interface MountCommands {
  readonly mount: string;
  readonly umount: string;
}

const DEFAULT_COMMANDS: MountCommands = { mount: 'mount', umount: 'umount' };

export async function mountSessionVolume({
  mountPoint,
  uid,
  sizeBytes,
  inodes,
  commands = DEFAULT_COMMANDS,
}: MountSessionVolumeOptions): Promise<SessionVolume> {
  await mkdir(mountPoint, { mode: 0o711 });
  try {
    await run(commands.mount, [
      '-t',
      'tmpfs',
      '-o',
      `size=${sizeBytes},nr_inodes=${inodes},mode=0711,uid=0,gid=0,nosuid,nodev`,
      'atelier-sandbox',
      mountPoint,
    ]);
  } catch (error) {
    await rmdir(mountPoint).catch(() => undefined);
    throw error;
  }
  const volume: SessionVolume = {
    mountPoint,
    dataDir: path.join(mountPoint, 'data'),
    tmpDir: path.join(mountPoint, 'tmp'),
    shmDir: path.join(mountPoint, 'shm'),
    destroy: () => unmount(mountPoint, commands),
  };
  try {
    for (const directory of [volume.dataDir, volume.tmpDir, volume.shmDir]) {
      await mkdir(directory, { mode: 0o700 });
      await chown(directory, uid, uid);
    }
    // The mount must have taken: a directory on the host's disk would have no size limit.
    const [point, parent] = await Promise.all([stat(mountPoint), stat(path.dirname(mountPoint))]);
    if (point.dev === parent.dev) throw new Error(`${mountPoint} is not a mounted tmpfs`);
  } catch (error) {
    await volume.destroy().catch(() => undefined);
    throw error;
  }
  return volume;
}

async function unmount(mountPoint: string, commands: MountCommands): Promise<void> {
  // A process that still holds a file there keeps a plain umount busy: detach it then.
  await run(commands.umount, [mountPoint]).catch(() =>
    run(commands.umount, ['--lazy', mountPoint]).catch(() => undefined),
  );
  await rmdir(mountPoint).catch(async () => {
    // Still a directory with contents: the tmpfs never got mounted, or is already gone.
    if (!(await isMountPoint(mountPoint))) await rm(mountPoint, { recursive: true, force: true });
  });
}

/** Unmounts every mount below `directory` (left by a server that died), deepest first. */
export async function unmountAllBelow(
  directory: string,
  commands: MountCommands = DEFAULT_COMMANDS,
): Promise<void> {
  const prefix = directory.endsWith('/') ? directory : `${directory}/`;
  const mountPoints = (await mountPointsOfThisNamespace()).filter((point) => point.startsWith(prefix));
  mountPoints.sort((a, b) => b.length - a.length);
  for (const point of mountPoints) {
    await run(commands.umount, ['--lazy', point]).catch(() => undefined);
  }
}

async function isMountPoint(target: string): Promise<boolean> {
  return (await mountPointsOfThisNamespace()).includes(path.resolve(target));
}

async function mountPointsOfThisNamespace(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    );
}
