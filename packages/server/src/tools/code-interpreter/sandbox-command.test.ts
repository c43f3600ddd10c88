import { describe, expect, it } from 'vitest';
import { type HostLayout, sandboxCommand } from './sandbox-command.js';
import { resolveLimits } from './sandbox-limits.js';

const layout: HostLayout = {
  rootEntries: [
    { name: 'bin', symlinkTarget: 'usr/bin' },
    { name: 'lib64', symlinkTarget: undefined },
  ],
  etcEntries: ['/etc/alternatives', '/etc/fonts'],
};

const options: Parameters<typeof sandboxCommand>[0] = {
  binaries: {
    prlimit: '/usr/bin/prlimit',
    setpriv: '/usr/bin/setpriv',
    bwrap: '/usr/bin/bwrap',
    python: '/usr/bin/python3',
  },
  layout,
  uid: 1_900_000_042,
  limits: resolveLimits({ memoryMb: 512, processes: 32, diskMb: 100, fileSizeMb: 50, cpuSeconds: 10 }),
  lifetimeCpuSeconds: 7200,
  dataDir: '/run/s/data',
  tmpDir: '/run/s/tmp',
  shmDir: '/run/s/shm',
  staticDir: '/run/static',
  threads: 2,
  maxImages: 20,
  maxImageBytes: 1024,
};
const command = sandboxCommand(options);
const stages = command.args.join(' ').split(' -- ');

describe('the sandbox command', () => {
  it('sets the limits, then drops to the session uid with no capabilities, then enters bubblewrap', () => {
    expect(command.file).toBe('/usr/bin/prlimit');
    expect(stages[0]).toBe(
      `--as=${512 * 1024 * 1024} --cpu=7200:7200 --nproc=32 --fsize=${50 * 1024 * 1024} --nofile=1024 --core=0`,
    );
    expect(stages[1]).toBe(
      '/usr/bin/setpriv --reuid=1900000042 --regid=1900000042 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs',
    );
    expect(stages[2]).toMatch(/^\/usr\/bin\/bwrap /);
    expect(stages[3]).toBe('/usr/bin/python3 -I -B /opt/atelier/kernel.py');
  });

  it('unshares every namespace (network included) and forbids new user namespaces', () => {
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ]) {
      expect(command.args).toContain(flag);
    }
    expect(command.args).not.toContain('--share-net');
  });

  it('shows the system read-only, only the session disk writable, and /etc piece by piece', () => {
    const bwrap = stages[2]!;
    expect(bwrap).toContain('--ro-bind /usr /usr --tmpfs /usr/local');
    expect(bwrap).toContain('--symlink usr/bin /bin --ro-bind /lib64 /lib64');
    expect(bwrap).toContain('--ro-bind-try /etc/alternatives /etc/alternatives');
    expect(bwrap).not.toMatch(/--(ro-)?bind \/etc /);
    expect(bwrap).toContain('--bind /run/s/shm /dev/shm --remount-ro /dev');
    expect(bwrap).toContain('--bind /run/s/data /mnt/data --bind /run/s/tmp /tmp --remount-ro /');
    const writable = [...bwrap.matchAll(/--bind (\S+) (\S+)/g)].map((match) => match[2]);
    expect(writable).toEqual(['/dev/shm', '/mnt/data', '/tmp']);
    expect(bwrap).toContain('--clearenv');
    expect(bwrap).toContain('--setenv MPLBACKEND module://atelier_inline');
  });

  it("joins the session's cgroups as root, before the limits and the uid change", () => {
    const joined = sandboxCommand({
      ...options,
      cgroupProcsFiles: ['/cg/memory/s/cgroup.procs', '/cg/pids/s/cgroup.procs'],
    });
    expect(joined.file).toBe('/bin/sh');
    expect(joined.args.slice(0, 2)).toEqual([
      '-c',
      'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
    ]);
    expect(joined.args.slice(2, 7)).toEqual([
      'atelier-sandbox',
      '/cg/memory/s/cgroup.procs',
      '/cg/pids/s/cgroup.procs',
      '--',
      '/usr/bin/prlimit',
    ]);
    expect(joined.args.slice(6)).toEqual([command.file, ...command.args]);
  });
});
