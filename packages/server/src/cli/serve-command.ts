// `atelier serve`: start the server and say plainly where it is and what it serves.
import { startServer } from '../main.js';
import { type CliIo, configFrom, parseCommand } from './main.js';

export async function runServe(
  args: readonly string[],
  io: CliIo,
  { started = () => {} }: { started?: () => void } = {},
): Promise<number> {
  const { values } = parseCommand(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'models-dir': { type: 'string' },
  });
  const config = configFrom(io, {
    ...(values.host ? { host: values.host } : {}),
    ...(values.port ? { port: values.port } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
  });
  const server = await startServer({ config });
  started();
  const models = server.registry.list();
  io.stderr.write(`\nAtelier is serving on ${server.url}\n`);
  io.stderr.write(`  Web app: ${server.url}/  (the first person to sign up owns the server)\n`);
  io.stderr.write(
    `  API:     ${server.url}/v1  (OpenAI-compatible; create a key with \`npx atelier keys create\`)\n`,
  );
  io.stderr.write(`  Models:  ${models.map((model) => model.id).join(', ') || '(none)'}\n`);
  for (const model of models) if (model.notice) io.stderr.write(`\n  Note: ${model.notice}\n`);
  io.stderr.write('\n');
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    io.stderr.write(`\n${signal}: shutting down…\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return 0;
}
