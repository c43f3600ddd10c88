// The command line that starts one sandboxed kernel: prlimit sets the resource limits, setpriv
// drops from root to the session's own uid, and bubblewrap builds the sandbox as that uid
// inside fresh user, mount, pid, network, ipc, uts and cgroup namespaces.
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { SandboxLimits } from './sandbox-limits.js';

/** Where the sandbox puts things, as its code sees them. */
export const SANDBOX_DATA_DIR = '/mnt/data';
export const SANDBOX_STATIC_DIR = '/opt/atelier';
/** The uid and gid the code sees; outside they map to the session's own uid. */
export const SANDBOX_UID = 1000;

export interface SandboxBinaries {
  readonly prlimit: string;
  readonly setpriv: string;
  readonly bwrap: string;
  readonly python: string;
}

/** What of the host the sandbox shows, read-only: found once by `describeHostLayout`. */
export interface HostLayout {
  /** Top-level directories next to /usr: a symlink into /usr (merged /usr) or a real directory. */
  readonly rootEntries: readonly { readonly name: string; readonly symlinkTarget: string | undefined }[];
  /** Files and directories of /etc that Python and its libraries read (no secrets among them). */
  readonly etcEntries: readonly string[];
}

export interface SandboxCommandOptions {
  readonly binaries: SandboxBinaries;
  readonly layout: HostLayout;
  /** The session's own unprivileged uid (and gid) on the host. */
  readonly uid: number;
  readonly limits: SandboxLimits;
  /** CPU seconds the kernel may use over its whole life (the hard RLIMIT_CPU). */
  readonly lifetimeCpuSeconds: number;
  /** Host directories of the session's tmpfs that become /mnt/data, /tmp and /dev/shm. */
  readonly dataDir: string;
  readonly tmpDir: string;
  readonly shmDir: string;
  /** Host directory holding the kernel, passwd, group and hosts, shown at /opt/atelier. */
  readonly staticDir: string;
  /** Threads numeric libraries (OpenBLAS, OpenMP) may start. */
  readonly threads: number;
  /** Images one execution may return, and their total size in bytes. */
  readonly maxImages: number;
  readonly maxImageBytes: number;
  /** cgroup.procs files of the session's cgroups, joined (as root) before anything else runs. */
  readonly cgroupProcsFiles?: readonly string[];
}

/** Joins each cgroup named before `--` (the shell's pid is the sandbox's, exec keeps it), then execs the rest. */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

const MIB = 1024 * 1024;

/** /etc entries Python, numpy's BLAS, matplotlib's fonts and time zones need. */
const ETC_WANTED = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'fonts',
  'matplotlibrc',
  'localtime',
  'timezone',
  'mime.types',
  'debian_version',
  'os-release',
];

const ROOT_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

export async function describeHostLayout(): Promise<HostLayout> {
  const rootEntries: { name: string; symlinkTarget: string | undefined }[] = [];
  for (const name of ROOT_DIRS) {
    const stats = await lstat(`/${name}`).catch(() => undefined);
    if (stats?.isSymbolicLink()) rootEntries.push({ name, symlinkTarget: await readlink(`/${name}`) });
    else if (stats?.isDirectory()) rootEntries.push({ name, symlinkTarget: undefined });
  }
  const etc = await readdir('/etc').catch(() => [] as string[]);
  const wanted = new Set(ETC_WANTED);
  const etcEntries = etc
    .filter((name) => wanted.has(name) || /^python3(\.\d+)?$/.test(name))
    .sort()
    .map((name) => `/etc/${name}`);
  return { rootEntries, etcEntries };
}

export function sandboxCommand(options: SandboxCommandOptions): { file: string; args: string[] } {
  const { binaries, layout, uid, limits } = options;
  const lifetimeCpu = Math.max(options.lifetimeCpuSeconds, limits.cpuSeconds);
  const prlimit = [
    `--as=${limits.memoryMb * MIB}`,
    // The soft limit is re-armed by the kernel before each execution; this is its ceiling.
    `--cpu=${lifetimeCpu}:${lifetimeCpu}`,
    `--nproc=${limits.processes}`,
    `--fsize=${limits.fileSizeMb * MIB}`,
    `--nofile=${limits.openFiles}`,
    '--core=0',
  ];
  const setpriv = [
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
  ];
  const bwrap = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    // The server kills the sandbox through its init: see kernel-process.ts.
    '--info-fd',
    '4',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'sandbox',
    '--ro-bind',
    '/usr',
    '/usr',
    // Only Debian's packages: what an admin put in /usr/local stays out of reach.
    '--tmpfs',
    '/usr/local',
    ...layout.rootEntries.flatMap(({ name, symlinkTarget }) =>
      symlinkTarget === undefined
        ? ['--ro-bind', `/${name}`, `/${name}`]
        : ['--symlink', symlinkTarget, `/${name}`],
    ),
    ...layout.etcEntries.flatMap((entry) => ['--ro-bind-try', entry, entry]),
    '--ro-bind',
    `${options.staticDir}/passwd`,
    '/etc/passwd',
    '--ro-bind',
    `${options.staticDir}/group`,
    '/etc/group',
    '--ro-bind',
    `${options.staticDir}/hosts`,
    '/etc/hosts',
    '--ro-bind',
    options.staticDir,
    SANDBOX_STATIC_DIR,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // /dev is bubblewrap's own tmpfs: read-only, with /dev/shm on the session's sized disk.
    '--bind',
    options.shmDir,
    '/dev/shm',
    '--remount-ro',
    '/dev',
    '--bind',
    options.dataDir,
    SANDBOX_DATA_DIR,
    '--bind',
    options.tmpDir,
    '/tmp',
    '--remount-ro',
    '/',
    '--chdir',
    SANDBOX_DATA_DIR,
    '--clearenv',
    ...Object.entries(kernelEnvironment(options)).flatMap(([name, value]) => ['--setenv', name, value]),
  ];
  const python = [binaries.python, '-I', '-B', `${SANDBOX_STATIC_DIR}/kernel.py`];
  const sandbox = [
    ...prlimit,
    '--',
    binaries.setpriv,
    ...setpriv,
    '--',
    binaries.bwrap,
    ...bwrap,
    '--',
    ...python,
  ];
  const cgroups = options.cgroupProcsFiles ?? [];
  if (cgroups.length === 0) return { file: binaries.prlimit, args: sandbox };
  return {
    file: '/bin/sh',
    args: ['-c', JOIN_CGROUPS, 'atelier-sandbox', ...cgroups, '--', binaries.prlimit, ...sandbox],
  };
}

function kernelEnvironment(options: SandboxCommandOptions): Record<string, string> {
  const threads = String(options.threads);
  return {
    PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: '/tmp',
    TMPDIR: '/tmp',
    USER: 'sandbox',
    LOGNAME: 'sandbox',
    LANG: 'C.UTF-8',
    MPLBACKEND: 'module://atelier_inline',
    MPLCONFIGDIR: '/tmp/.config/matplotlib',
    OPENBLAS_NUM_THREADS: threads,
    OMP_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    NUMEXPR_MAX_THREADS: threads,
    // glibc reserves 64 MiB of address space per thread arena: keep RLIMIT_AS for real data.
    MALLOC_ARENA_MAX: '2',
    ATELIER_KERNEL_LIMITS: JSON.stringify({
      memoryMb: options.limits.memoryMb,
      cpuSeconds: options.limits.cpuSeconds,
      diskMb: options.limits.diskMb,
      fileSizeMb: options.limits.fileSizeMb,
      processes: options.limits.processes,
      maxImages: options.maxImages,
      maxImageBytes: options.maxImageBytes,
    }),
  };
}
