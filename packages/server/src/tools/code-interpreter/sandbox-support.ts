// Can this machine run the sandbox? Checked before anything starts, so that an operator reads
// what is missing (and how to get it) instead of a kernel that fails at its first execution.
// The live proof (a sandbox started for real) is the interpreter's probe at creation.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxBinaries } from './sandbox-command.js';

export type SandboxSupport =
  | {
      readonly ok: true;
      readonly binaries: SandboxBinaries & { readonly mount: string; readonly umount: string };
    }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface CheckSandboxSupportOptions {
  readonly python?: string;
  /** Where sandboxes will live: every uid must be able to traverse its parents. */
  readonly runtimeDir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The server's effective uid (tests pass another). */
  readonly uid?: number | undefined;
}

export async function checkSandboxSupport({
  python = '/usr/bin/python3',
  runtimeDir = undefined,
  env = process.env,
  uid = process.geteuid?.(),
}: CheckSandboxSupportOptions = {}): Promise<SandboxSupport> {
  const problems: string[] = [];
  if (process.platform !== 'linux') {
    return { ok: false, problems: [`it needs Linux (this is ${process.platform})`] };
  }
  if (uid !== 0) {
    problems.push(
      `it needs root to give every sandbox a uid of its own and a size-limited disk (the server runs as uid ${uid}); run Atelier as root, e.g. in its container`,
    );
  }
  const search = (env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean);
  const find = async (name: string, hint: string): Promise<string> => {
    for (const directory of [...search, '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      const candidate = path.join(directory, name);
      if (await isExecutable(candidate)) return candidate;
    }
    problems.push(`${name} is not installed (${hint})`);
    return name;
  };
  const bwrap = await find('bwrap', 'apt-get install bubblewrap');
  const prlimit = await find('prlimit', 'apt-get install util-linux');
  const setpriv = await find('setpriv', 'apt-get install util-linux');
  const mount = await find('mount', 'apt-get install mount');
  const umount = await find('umount', 'apt-get install mount');
  if (!(await isExecutable(python))) {
    problems.push(
      `${python} is not installed (apt-get install python3 python3-numpy python3-pandas python3-matplotlib)`,
    );
  }
  const maxUserNamespaces = await readNumber('/proc/sys/user/max_user_namespaces');
  if (maxUserNamespaces === 0) {
    problems.push('user namespaces are disabled (sysctl user.max_user_namespaces=0)');
  }
  if ((await readNumber('/proc/sys/kernel/unprivileged_userns_clone')) === 0) {
    problems.push(
      'unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=1 enables them)',
    );
  }
  if (runtimeDir !== undefined) {
    // The runtime directory itself is the interpreter's own: it is (re)made 0711 at start, even
    // where the uid pool's lease directory inside it was created first (0700, mkdir -p).
    const blocked = await firstUntraversableAncestor(path.dirname(path.resolve(runtimeDir)));
    if (blocked !== undefined) {
      problems.push(
        `the sandbox's uid cannot reach ${runtimeDir}: ${blocked} is not searchable by others (chmod o+x, or choose another runtime directory)`,
      );
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, binaries: { bwrap, prlimit, setpriv, python, mount, umount } };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function readNumber(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const value = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  return Number.isNaN(value) ? undefined : value;
}

/** The first existing directory on the way to `target` that other users cannot pass through. */
async function firstUntraversableAncestor(target: string): Promise<string | undefined> {
  let current = target;
  const ancestors: string[] = [];
  while (true) {
    ancestors.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of ancestors) {
    const stats = await stat(directory).catch(() => undefined);
    if (stats === undefined) return undefined; // created later, with the right mode
    if (stats.isDirectory() && (stats.mode & 0o001) === 0) return directory;
  }
  return undefined;
}
