// `atelier`: serve, keys create|list|revoke, models list|make-test|pull and the model registry's
// rules (alias, deprecate, price, set, upstream), export training. Errors print one line.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

import { type Config, type LoadConfigOptions, loadConfig } from '../config/config.js';
import { AtelierError, ConfigError } from '../errors.js';
import { holdYoungGeneration } from './startup-heap.js';

export const HELP = `atelier — self-hosted assistants with an OpenAI-compatible API

Usage:
  atelier serve [--host H] [--port P] [--data-dir DIR] [--models-dir DIR]
  atelier keys create [--name NAME] [--role admin|member] [--workspace ID]
  atelier keys list [--workspace ID] [--all]
  atelier keys revoke KEY_ID
  atelier models list
  atelier models make-test PATH [--seed N] [--dim N --layers N --heads N --ff N --context N]
  atelier models pull URL [--sha256 HEX] [--name FILE.gguf]
  atelier models alias ALIAS TARGET [--next TARGET --switch-at DATE] | ALIAS --remove
  atelier models deprecate MODEL --shutdown DATE [--replacement MODEL] [--from DATE] | MODEL --undo
  atelier models price MODEL --input USD --output USD   (per 1K tokens)
  atelier models set MODEL [--context N] [--tools|--vision|--json|--embeddings on|off] [--fallbacks A,B|none]
  atelier models upstream add NAME --base-url URL [--api-key-env VAR] [--prefix P] [--models A,B]
  atelier models upstream list | remove NAME
  atelier export training [--out FILE] [--since DATE]   (JSONL, OpenAI fine-tuning chat format)

Configuration comes from the environment (ATELIER_HOST, ATELIER_PORT, ATELIER_DATA_DIR,
ATELIER_MODELS_DIR, ATELIER_DATABASE_URL, ATELIER_BOOTSTRAP_API_KEY, ATELIER_LOG_LEVEL,
ATELIER_UPSTREAMS, ATELIER_SECRET_KEY, …)
or ./atelier.config.json with the same keys. See the README for all of them.
`;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Runs the CLI; returns the exit code (the server keeps running after `serve` returns). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(HELP);
        return 0;
      // Each command loads only what it needs: a server does not carry the model maker's tables
      // and the exporter in its memory.
      case 'serve': {
        const youngGeneration = holdYoungGeneration();
        const { runServe } = await import('./serve-command.js');
        return await runServe(rest, io, { started: youngGeneration.release });
      }
      case 'keys':
        return await (await import('./keys-command.js')).runKeys(rest, io);
      case 'models':
        return await (await import('./models-command.js')).runModels(rest, io);
      case 'export':
        return await (await import('./export-command.js')).runExport(rest, io);
      default:
        io.stderr.write(`atelier: unknown command "${command}". Run \`atelier --help\`.\n`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(`atelier: ${describe(error)}\n`);
    return error instanceof ConfigError || error instanceof AtelierError ? 1 : 70;
  }
}

function describe(error: unknown): string {
  if (error instanceof ConfigError || error instanceof AtelierError) return error.message;
  const code = (error as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return `${(error as Error).message} Run \`atelier --help\`.`;
  }
  return (error as Error).stack ?? String(error);
}

/** Strict parseArgs over the command's own flags, with positionals allowed. */
export function parseCommand<const Options extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: Options,
) {
  return parseArgs({ args: [...args], options, allowPositionals: true, strict: true }) as {
    values: { [Name in keyof Options]?: Options[Name]['type'] extends 'boolean' ? boolean : string };
    positionals: string[];
  };
}

export function configFrom(io: CliIo, overrides: LoadConfigOptions['overrides'] = {}): Config {
  return loadConfig({ env: io.env, cwd: io.cwd, overrides });
}

const isEntry = process.argv[1] && import.meta.url.endsWith('/cli/main.js');
if (isEntry) {
  // Not a top-level await: the commands, loaded when run, import this module, which must have
  // finished loading by then.
  void runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  }).then((code) => {
    if (code !== 0) process.exit(code);
  });
}
