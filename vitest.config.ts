import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@atelier/protocol': fileURLToPath(new URL('./packages/protocol/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: inference tests load models; keep file-level parallelism modest.
    maxWorkers: 2,
    // CI runs on a shared two-core machine next to PostgreSQL, Chromium and sandboxed Python: a
    // test that fails once from starvation gets one more try there (a real failure fails twice,
    // and the report names every retried test). Locally, a failure is reported at once.
    retry: process.env.CI ? 1 : 0,
  },
});
