// Hostile code, each case contained: the execution ends with a clear error, the kernel (or a
// restarted one that says so), the server, the host and the other sandboxes are unharmed.
// A bystander session is checked after every case.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, statfs, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CodeInterpreter, createCodeInterpreter } from './code-interpreter.js';
import { removeRuntimeDir, sandboxTestOptions } from './test-support/sandbox-test-options.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const warnings: string[] = [];
const options = sandboxTestOptions({
  log: (level, message) => {
    if (level === 'warn') warnings.push(message);
  },
  limits: { memoryMb: 512, timeoutSeconds: 4, cpuSeconds: 60, diskMb: 32, fileSizeMb: 16, processes: 48 },
  maxLogBytes: 64 * 1024,
  maxOutputFileBytes: MIB,
});
let interpreter: CodeInterpreter;

beforeAll(async () => {
  interpreter = await createCodeInterpreter(options);
  await interpreter.execute({
    sessionId: 'bystander',
    code: "canary = 'alive'\nopen('mine.txt', 'w').write('mine')",
  });
});

afterEach(async () => {
  const bystander = await interpreter.execute({
    sessionId: 'bystander',
    code: "print(canary, open('mine.txt').read())",
  });
  expect(bystander.logs).toBe('alive mine\n');
  expect(bystander.restarted).toBe(false);
});

afterAll(async () => {
  await interpreter?.close();
  await removeRuntimeDir(options.runtimeDir);
});

const execute = (sessionId: string, code: string) => interpreter.execute({ sessionId, code });

describe('hostile code', () => {
  it('cannot open a socket to 127.0.0.1 (the host) or to a public address', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const local = await execute(
        'network',
        `import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', ${port}))`,
      );
      expect(local.error?.name).toBe('ConnectionRefusedError');
      expect(local.error?.value).toContain('the sandbox has no network access');
      const remote = await execute(
        'network',
        "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)",
      );
      expect(remote.error?.name).toBe('OSError');
      expect(remote.error?.value).toMatch(/Network is unreachable.*no network access/);
      const dns = await execute('network', "socket.getaddrinfo('example.com', 443)");
      expect(dns.error?.name).toBe('gaierror');
      const interfaces = await execute('network', '[name for _, name in socket.if_nameindex()]');
      expect(interfaces.logs).toBe("['lo']\n");
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('cannot read /etc/shadow or anything of the host outside the system files', async () => {
    const shadow = await execute('secrets', "open('/etc/shadow').read()");
    expect(shadow.error?.name).toBe('FileNotFoundError');
    const listing = await execute(
      'secrets',
      "import os\nprint(sorted(os.listdir('/')))\nprint([p for p in ('/root', '/home', '/work', '/var', '/etc/ssh', '/run') if os.path.exists(p)])",
    );
    expect(listing.logs).toBe(
      "['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'mnt', 'opt', 'proc', 'sbin', 'tmp', 'usr']\n[]\n".replace(
        /'lib32', 'lib64', 'libx32', /,
        (await hostLibDirs()).map((name) => `'${name}', `).join(''),
      ),
    );
    const identity = await execute('secrets', 'import os\nprint(os.getuid(), os.getgid(), os.getgroups())');
    expect(identity.logs).toBe('1000 1000 []\n');
    // No descriptor of the server's reaches the code: stdio, the protocol socket, and listdir's own.
    const descriptors = await execute('secrets', "sorted(os.listdir('/proc/self/fd'))");
    expect(descriptors.logs).toBe("['0', '1', '2', '3', '4']\n");
  });

  it("cannot reach another sandbox's files, by path, through /proc, or as its own uid on the host", async () => {
    await execute('victim', "open('/mnt/data/secret-victim.txt', 'w').write('top secret')");
    await execute('thief', "open('/mnt/data/i-am-the-thief.txt', 'w').write('x')");
    const search = await execute(
      'thief',
      [
        'import os',
        'hits = []',
        "for root, dirs, files in os.walk('/'):",
        "    if root in ('/proc', '/usr', '/sys'):",
        '        dirs[:] = []',
        '        continue',
        "    hits += [os.path.join(root, f) for f in files if 'victim' in f]",
        'print(hits)',
        "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
      ].join('\n'),
    );
    expect(search.logs).toBe('[]\n[1, 2]\n');
    // On the host each sandbox's files belong to its own uid, readable by no other.
    const victim = await sessionDataDirWith('secret-victim.txt');
    const thief = await sessionDataDirWith('i-am-the-thief.txt');
    const [victimDir, thiefDir] = await Promise.all([stat(victim), stat(thief)]);
    expect(victimDir.uid).not.toBe(thiefDir.uid);
    expect(victimDir.uid).toBeGreaterThanOrEqual(1_900_000_000);
    expect(victimDir.mode & 0o777).toBe(0o700);
    const asThief = run('setpriv', [
      `--reuid=${thiefDir.uid}`,
      `--regid=${thiefDir.gid}`,
      '--clear-groups',
      'cat',
      path.join(victim, 'secret-victim.txt'),
    ]);
    await expect(asThief).rejects.toThrow(/Permission denied/);
  });

  it('cannot write outside /mnt/data and /tmp, and /tmp is its own', async () => {
    const targets = [
      '/usr/atelier-hostile',
      '/etc/atelier-hostile',
      '/atelier-hostile',
      '/opt/atelier/kernel.py',
      '/dev/atelier-hostile',
      '/proc/atelier-hostile',
      '/mnt/atelier-hostile',
    ];
    const result = await execute(
      'writes',
      [
        'import errno',
        'outcome = {}',
        `for target in ${JSON.stringify(targets)}:`,
        '    try:',
        "        with open(target, 'w') as f: f.write('x')",
        "        outcome[target] = 'written'",
        '    except OSError as error:',
        '        outcome[target] = errno.errorcode[error.errno]',
        "open('/tmp/atelier-hostile-tmp', 'w').write('x')",
        "outcome['/tmp'] = 'written'",
        'outcome',
      ].join('\n'),
    );
    const outcome = JSON.parse(result.logs.replaceAll("'", '"')) as Record<string, string>;
    for (const target of targets) expect(outcome[target], target).toMatch(/^E(ROFS|ACCES|PERM|NOENT)$/);
    expect(outcome['/tmp']).toBe('written');
    const readOnly = await execute('writes', "open('/usr/x', 'w')");
    expect(readOnly.error?.value).toContain('only /mnt/data and /tmp are writable');
    for (const hostPath of ['/usr/atelier-hostile', '/etc/atelier-hostile', '/atelier-hostile']) {
      await expect(stat(hostPath)).rejects.toThrow(/ENOENT/);
    }
    await expect(stat(path.join(tmpdir(), 'atelier-hostile-tmp'))).rejects.toThrow(/ENOENT/);
  });

  it('a fork bomb is stopped; its processes do not outlive the execution', async () => {
    // A bomb that never gives up: each process forks on, failures (the process limit) or not.
    const bomb = await execute(
      'fork',
      'import os\nwhile True:\n    try:\n        os.fork()\n    except BlockingIOError:\n        pass',
    );
    expect(bomb.error?.name).toBe('TimeoutError');
    const shell = await execute('fork', "import subprocess\nsubprocess.run(['bash', '-c', ':(){ :|:& };:'])");
    expect(shell.error).toBeUndefined();
    const left = await execute('fork', "sorted(int(p) for p in os.listdir('/proc') if p.isdigit())");
    expect(left.logs).toBe('[1, 2]\n');
    expect(left.restarted).toBe(false);
  });

  it('starting processes or threads past the limit fails with an error that names it', async () => {
    const threads = await execute(
      'threads',
      [
        'import threading, time',
        'stop = threading.Event()',
        'started = []',
        'try:',
        '    while True:',
        '        thread = threading.Thread(target=stop.wait)',
        '        thread.start()',
        '        started.append(thread)',
        'finally:',
        '    stop.set()',
      ].join('\n'),
    );
    expect(threads.error?.name).toBe('RuntimeError');
    expect(threads.error?.value).toContain('the sandbox allows 48 processes and threads at once');
    const fork = await execute(
      'threads',
      [
        'import os, signal',
        'children = []',
        'try:',
        '    while True:',
        '        pid = os.fork()',
        '        if pid == 0:',
        '            signal.pause()',
        '        children.append(pid)',
        'finally:',
        '    print(len(children) < 48)',
      ].join('\n'),
    );
    expect(fork.error?.name).toBe('BlockingIOError');
    expect(fork.error?.value).toContain('the sandbox allows 48 processes and threads');
    expect(fork.logs).toMatch(/^True\n/);
  });

  it('allocating 10 GB fails with MemoryError, and so does a slow climb; the kernel lives on', async () => {
    const huge = await execute('memory', 'kept = 7\nx = bytearray(10 * 1024**3)');
    expect(huge.error?.name).toBe('MemoryError');
    expect(huge.error?.value).toContain('the sandbox has a memory limit of 512 MB');
    const climb = await execute(
      'memory',
      'chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024**2))',
    );
    expect(climb.error?.name).toBe('MemoryError');
    const after = await execute('memory', 'print(len(chunks) <= 8)\ndel chunks\nkept');
    expect(after.logs).toBe('True\n7\n');
    expect(after.restarted).toBe(false);
  });

  it('many processes together cannot take more memory than the sandbox has', async () => {
    if (interpreter.sandbox.cgroup === null) {
      // No writable cgroup on this machine: memory is bounded per process, and the operator was told.
      expect(warnings.join('\n')).toContain('memory is bounded per process of a sandbox, not per sandbox');
      return;
    }
    // Four processes of 300 MB each: every one within its own 512 MB, together past the
    // sandbox's 512 + 32 MB. The cgroup's OOM killer ends some of them.
    const result = await execute(
      'memory-many',
      [
        'import os, time',
        'pids = []',
        'for _ in range(4):',
        '    pid = os.fork()',
        '    if pid == 0:',
        "        block = b'x' * (300 * 1024 * 1024)",
        '        time.sleep(1)',
        '        os._exit(0)',
        '    pids.append(pid)',
        'print(sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids))',
      ].join('\n'),
    );
    if (result.error === undefined) {
      expect(result.logs).toMatch(/^\[-9, /); // at least one child killed (SIGKILL), the rest done
    } else {
      expect(result.error.name).toBe('KernelDied');
      expect(result.error.value).toContain('the sandbox ran out of memory');
    }
    const after = await execute('memory-many', '1 + 1');
    expect(after.logs).toMatch(/2\n$/);
  });

  it('an infinite loop is stopped by the time limit, keeping the kernel', async () => {
    await execute('loop', 'kept = 1');
    const started = Date.now();
    const sleepy = await execute('loop', 'import time\nwhile True:\n    time.sleep(0.05)');
    expect(sleepy.error?.name).toBe('TimeoutError');
    expect(sleepy.error?.value).toContain('longer than 4 s');
    expect(sleepy.logs).toContain('[sandbox] The execution ran longer than 4 s');
    expect(Date.now() - started).toBeLessThan(9_000);
    const after = await execute('loop', 'kept');
    expect(after.logs).toBe('1\n');
    expect(after.restarted).toBe(false);
  });

  it('a busy loop is stopped by the CPU limit, keeping the kernel', async () => {
    // An interpreter of its own: one CPU second, and a wall limit a loaded machine cannot hit first.
    const local = sandboxTestOptions({ limits: { cpuSeconds: 1, timeoutSeconds: 30 } });
    const cpu = await createCodeInterpreter(local);
    try {
      await cpu.execute({ sessionId: 'spin', code: 'kept = 1' });
      const spin = await cpu.execute({ sessionId: 'spin', code: 'while True:\n    pass' });
      expect(spin.error?.name).toBe('CpuLimitExceeded');
      expect(spin.error?.value).toContain('more than 1 s of CPU time');
      // The next execution has a CPU second of its own again.
      const again = await cpu.execute({ sessionId: 'spin', code: 'sum(range(10**6)) > 0 and kept' });
      expect(again.logs).toBe('1\n');
      expect(again.restarted).toBe(false);
    } finally {
      await cpu.close();
      await removeRuntimeDir(local.runtimeDir);
    }
  });

  it('a loop that ignores the interrupt is killed, and the next call gets a new kernel that says so', async () => {
    const stubborn = await execute(
      'stubborn',
      'import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)',
    );
    expect(stubborn.error?.name).toBe('TimeoutError');
    expect(stubborn.error?.value).toContain('did not stop when interrupted');
    const next = await execute('stubborn', '1 + 1');
    expect(next.restarted).toBe(true);
    expect(next.logs).toMatch(
      /^\[sandbox\] The Python kernel was restarted \(the previous execution ran past its time limit/,
    );
    expect(next.logs).toMatch(/2\n$/);
  });

  it('a flood of output is cut to its beginning and end', async () => {
    const flood = await execute(
      'flood',
      "i = 0\nwhile True:\n    i += 1\n    print(f'line {i} ' + 'x' * 200)",
    );
    expect(flood.error?.name).toMatch(/^(TimeoutError|CpuLimitExceeded)$/);
    expect(flood.logs.length).toBeLessThan(70 * 1024);
    expect(flood.logs).toMatch(/^line 1 x/);
    expect(flood.logs).toMatch(/\[… \d+ bytes of output left out …\]/);
  });

  it('filling the disk ends with "no space left" at the session limit; the host disk is untouched', async () => {
    const fill = await execute(
      'disk',
      [
        'block = bytes(1024 * 1024)',
        'written = 0',
        'for n in range(100):',
        "    with open(f'/mnt/data/fill-{n}.bin', 'wb') as f:",
        '        for _ in range(8):',
        '            f.write(block)',
        '            f.flush()',
        '            written += 1',
      ].join('\n'),
    );
    expect(fill.error?.name).toBe('OSError');
    expect(fill.error?.value).toMatch(/No space left on device.*32 MB of disk/);
    expect(fill.logs).toMatch(/fill-0\.bin is 8\.0 MB, more than the 1 MB an output file may be/);
    expect(fill.outputFiles.every((file) => file.bytes.length <= MIB)).toBe(true);
    const full = await execute(
      'disk',
      "print(written <= 32)\nopen('/tmp/more', 'wb').write(bytes(1024 * 1024))",
    );
    expect(full.logs).toMatch(/^True\n/);
    expect(full.error?.value).toContain('No space left on device');
    // The limit is the session's own tmpfs, not the host's disk.
    const volume = await statfs(await sessionDataDirWith('fill-0.bin'));
    expect(volume.blocks * volume.bsize).toBe(32 * MIB);
    const freed = await execute(
      'disk',
      "import glob, os\nfor p in glob.glob('/mnt/data/fill-*'): os.remove(p)\nopen('ok.txt', 'w').write('ok')",
    );
    expect(freed.error).toBeUndefined();
    expect(freed.outputFiles.map((file) => file.name)).toEqual(['ok.txt']);
    const big = await execute('disk', "open('/tmp/big', 'wb').write(bytes(17 * 1024 * 1024))");
    expect(big.error?.value).toMatch(/File too large.*at most 16 MB/);
  });

  it('cannot kill its parent or the server; killing itself restarts the kernel', async () => {
    const parent = await execute(
      'killer',
      [
        'import os, signal',
        'kept = 1',
        'os.kill(os.getppid(), signal.SIGKILL)',
        'os.kill(1, signal.SIGKILL)',
        'try:',
        '    os.kill(-1, signal.SIGKILL)',
        'except ProcessLookupError:',
        '    pass',
        'try:',
        `    os.kill(${process.pid}, signal.SIGKILL)`,
        'except ProcessLookupError:',
        "    print('server not visible')",
        "print('still here, parent', os.getppid())",
      ].join('\n'),
    );
    expect(parent.error).toBeUndefined();
    expect(parent.logs).toBe('server not visible\nstill here, parent 1\n');
    expect((await execute('killer', 'kept')).logs).toBe('1\n');
    const suicide = await execute('killer', 'os.kill(os.getpid(), signal.SIGKILL)');
    expect(suicide.error?.name).toBe('KernelDied');
    expect(suicide.error?.value).toContain('killed (SIGKILL)');
    const next = await execute('killer', "'kept' in globals()");
    expect(next.restarted).toBe(true);
    expect(next.logs).toMatch(/False\n$/);
  });

  it('cannot make the server read host files through links or hang it with a FIFO', async () => {
    const planted = await execute(
      'links',
      [
        'import os',
        "os.symlink('/etc/passwd', '/mnt/data/passwd-link')",
        "os.symlink('/', '/mnt/data/root-link')",
        "os.mkfifo('/mnt/data/pipe')",
        "open('/mnt/data/real.txt', 'w').write('real')",
      ].join('\n'),
    );
    expect(planted.error).toBeUndefined();
    expect(planted.outputFiles.map((file) => file.name)).toEqual(['real.txt']);
  });

  it('cannot make the server write through a link planted where an input file goes', async () => {
    const victim = path.join(options.runtimeDir, 'host-victim.txt');
    await writeFile(victim, 'original', { mode: 0o644 });
    await execute('plant', `import os\nos.symlink(${JSON.stringify(victim)}, '/mnt/data/input.csv')`);
    const placed = await interpreter.execute({
      sessionId: 'plant',
      code: "import os\nprint(os.path.islink('input.csv'), open('input.csv').read())",
      files: [{ name: 'input.csv', bytes: Buffer.from('from the user') }],
    });
    expect(placed.logs).toBe('False from the user\n');
    expect(await readFile(victim, 'utf8')).toBe('original');
  });
});

/** The host directory of the session whose /mnt/data holds `name`. */
async function sessionDataDirWith(name: string): Promise<string> {
  const instances = path.join(options.runtimeDir, 'instances');
  for (const instance of await readdir(instances)) {
    const sessions = path.join(instances, instance, 'sessions');
    for (const uid of await readdir(sessions).catch(() => [] as string[])) {
      const data = path.join(sessions, uid, 'data');
      if ((await readdir(data).catch(() => [] as string[])).includes(name)) return data;
    }
  }
  throw new Error(`no session holds ${name}`);
}

/** lib32, lib64, libx32: those the host has (the sandbox mirrors them). */
async function hostLibDirs(): Promise<string[]> {
  const names = await readdir('/');
  return ['lib32', 'lib64', 'libx32'].filter((name) => names.includes(name));
}
