// Options every sandbox test uses: a runtime directory of its own (removed afterwards) under
// the system's temporary directory, and small limits so that hostile cases end quickly.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CreateCodeInterpreterOptions } from '../code-interpreter.js';

export function sandboxTestOptions(
  overrides: CreateCodeInterpreterOptions = {},
): CreateCodeInterpreterOptions & { readonly runtimeDir: string } {
  return {
    runtimeDir: path.join(tmpdir(), `atelier-sandbox-test-${randomBytes(4).toString('hex')}`),
    maxSessions: 4,
    interruptGraceMs: 1_500,
    ...overrides,
    limits: { memoryMb: 1024, timeoutSeconds: 20, diskMb: 64, processes: 48, ...overrides.limits },
  };
}

export async function removeRuntimeDir(runtimeDir: string): Promise<void> {
  await rm(runtimeDir, { recursive: true, force: true });
}
