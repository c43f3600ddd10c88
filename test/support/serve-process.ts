// A server in a process of its own, for tests that must kill one (SIGKILL) and start another on
// the same data: configured by ATELIER_* variables, it prints `listening <url>` once it serves.
//
//   node --import tsx test/support/serve-process.ts
import pino from 'pino';
import { loadConfig } from '../../packages/server/src/config/config.js';
import { startServer } from '../../packages/server/src/main.js';

const config = loadConfig({ env: process.env, cwd: process.cwd() });
const server = await startServer({ config, logger: pino({ level: config.logLevel }) });
process.stdout.write(`listening ${server.url}\n`);
process.once('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
