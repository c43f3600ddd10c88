// The server's configuration (ATELIER_SANDBOX_*) as the interpreter's options: what the
// composition root passes to `createCodeInterpreter`.
import type { Config } from '../../config/config.js';
import type { CreateCodeInterpreterOptions } from './code-interpreter.js';

export function codeInterpreterOptionsFromConfig(
  config: Pick<
    Config,
    | 'sandboxIdleMinutes'
    | 'sandboxMaxSessionMinutes'
    | 'sandboxMaxSessions'
    | 'sandboxMemoryMb'
    | 'sandboxCpuSeconds'
    | 'sandboxTimeoutSeconds'
    | 'sandboxDiskMb'
    | 'sandboxProcesses'
  >,
): CreateCodeInterpreterOptions {
  return {
    idleMinutes: config.sandboxIdleMinutes,
    maxSessionMinutes: config.sandboxMaxSessionMinutes,
    maxSessions: config.sandboxMaxSessions,
    limits: {
      memoryMb: config.sandboxMemoryMb,
      cpuSeconds: config.sandboxCpuSeconds,
      timeoutSeconds: config.sandboxTimeoutSeconds,
      diskMb: config.sandboxDiskMb,
      // One file may fill the disk, no more.
      fileSizeMb: config.sandboxDiskMb,
      processes: config.sandboxProcesses,
    },
  };
}
