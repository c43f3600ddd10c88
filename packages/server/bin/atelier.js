#!/usr/bin/env node
// The `atelier` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('atelier: not built yet. Run `npm install` (or `npm run build`) in the repository first.');
  process.exit(1);
}
await import(entry.href);
