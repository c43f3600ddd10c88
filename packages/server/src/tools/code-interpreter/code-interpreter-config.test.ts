import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { codeInterpreterOptionsFromConfig } from './code-interpreter-config.js';
import { DEFAULT_SANDBOX_LIMITS } from './sandbox-limits.js';

const directories: string[] = [];
const cwd = () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'atelier-sandbox-config-'));
  directories.push(directory);
  return directory;
};

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describe('the code interpreter settings', () => {
  it("default to the issue's 20 idle minutes, one-hour sessions and the sandbox's own limits", () => {
    const options = codeInterpreterOptionsFromConfig(loadConfig({ env: {}, cwd: cwd() }));
    expect(options.idleMinutes).toBe(20);
    expect(options.maxSessionMinutes).toBe(60);
    expect(options.limits).toEqual({
      memoryMb: DEFAULT_SANDBOX_LIMITS.memoryMb,
      cpuSeconds: DEFAULT_SANDBOX_LIMITS.cpuSeconds,
      timeoutSeconds: DEFAULT_SANDBOX_LIMITS.timeoutSeconds,
      diskMb: DEFAULT_SANDBOX_LIMITS.diskMb,
      fileSizeMb: DEFAULT_SANDBOX_LIMITS.fileSizeMb,
      processes: DEFAULT_SANDBOX_LIMITS.processes,
    });
  });

  it('come from ATELIER_SANDBOX_* variables and refuse nonsense', () => {
    const config = loadConfig({
      env: {
        ATELIER_SANDBOX_IDLE_MINUTES: '5',
        ATELIER_SANDBOX_MAX_SESSION_MINUTES: '30',
        ATELIER_SANDBOX_MAX_SESSIONS: '2',
        ATELIER_SANDBOX_MEMORY_MB: '512',
        ATELIER_SANDBOX_CPU_SECONDS: '10',
        ATELIER_SANDBOX_TIMEOUT_SECONDS: '15',
        ATELIER_SANDBOX_DISK_MB: '100',
        ATELIER_SANDBOX_PROCESSES: '16',
      },
      cwd: cwd(),
    });
    expect(codeInterpreterOptionsFromConfig(config)).toEqual({
      idleMinutes: 5,
      maxSessionMinutes: 30,
      maxSessions: 2,
      limits: {
        memoryMb: 512,
        cpuSeconds: 10,
        timeoutSeconds: 15,
        diskMb: 100,
        fileSizeMb: 100,
        processes: 16,
      },
    });
    expect(() => loadConfig({ env: { ATELIER_SANDBOX_MEMORY_MB: '64' }, cwd: cwd() })).toThrow(
      new ConfigError(
        'Invalid configuration: ATELIER_SANDBOX_MEMORY_MB="64": expected a number of MiB, at least 256',
      ),
    );
  });
});
