// `atelier models list|make-test|pull|alias|deprecate|price|set|upstream`: everything served
// (local files, upstream models, the registry's rules), the test model, resumable downloads of
// real GGUF files, and the registry's management (see models-registry-command.ts).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidRequestError } from '../errors.js';
import { downloadModel } from '../inference/model-download.js';
import { ModelRegistry, type RegistryEntry } from '../inference/model-registry.js';
import {
  createOpenAICompatibleProvider,
  type OpenAICompatibleProvider,
} from '../inference/openai-compatible/openai-compatible-provider.js';
import type { InferenceProvider, ModelCapabilities, ModelInfo } from '../inference/spec.js';
import { makeTestModel } from '../inference/test-model/make-test-model.js';
import { openStorage } from '../main.js';
import { collectUpstreams, loadRegistryRules } from '../start-models.js';
import { loadSecretBox } from '../storage/secret-box.js';
import { table } from './keys-command.js';
import { type CliIo, configFrom, parseCommand } from './main.js';
import { runRegistryCommand } from './models-registry-command.js';
import { createProgressBar, formatBytes } from './progress-bar.js';

export async function runModels(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
      return listModels(rest, io);
    case 'make-test':
      return makeTest(rest, io);
    case 'pull':
      return pull(rest, io);
    case 'alias':
    case 'deprecate':
    case 'price':
    case 'set':
    case 'upstream':
      return runRegistryCommand(sub, rest, io);
    default:
      throw new InvalidRequestError(
        'usage: atelier models list|make-test|pull|alias|deprecate|price|set|upstream (see `atelier --help`)',
      );
  }
}

/**
 * Everything the server would serve, with the registry's rules: local model files (read from
 * their headers, not loaded), the upstreams' models (discovered now), aliases, deprecations,
 * prices and fallbacks, and what is wrong (an unreadable file, an unreachable upstream).
 */
async function listModels(args: readonly string[], io: CliIo): Promise<number> {
  parseCommand(args, {});
  const config = configFrom(io);
  const local = await readLocalModels(config.modelsDir);
  const storage = await openStorage(config);
  let upstreams: OpenAICompatibleProvider | undefined;
  try {
    const repository = storage.repositories.modelRegistry;
    const secrets = await loadSecretBox({ dataDir: config.dataDir, secretKey: config.secretKey });
    const problems: string[] = [];
    const log = (_level: string, message: string) => problems.push(message);
    const specs = await collectUpstreams({ config, repository, secrets, log });
    upstreams = await createOpenAICompatibleProvider({ upstreams: specs, discoveryTimeoutMs: 3_000 });
    const registry = new ModelRegistry({
      providers: [localListing(local), upstreams],
      rules: await loadRegistryRules(repository),
    });
    const entries = registry.entries({ all: true });
    if (entries.length === 0 && local.length === 0 && specs.length === 0) {
      io.stdout.write(
        `No models in ${config.modelsDir} and no upstreams. \`atelier serve\` creates the test model there; add real ones with \`atelier models pull URL\` or an upstream with \`atelier models upstream add\`.\n`,
      );
      return 0;
    }
    const files = new Map(local.map((model) => [model.info.id, model]));
    const rows: string[][] = [
      ['ID', 'PROVIDER', 'ARCH', 'CONTEXT', 'SIZE', 'CAPABILITIES', 'PRICE/1K IN', 'OUT', 'NOTE'],
    ];
    for (const entry of entries) {
      const file = files.get(entry.aliasFor ?? entry.id);
      const info = entry.info;
      rows.push([
        entry.id,
        entry.aliasFor ? 'alias' : info?.upstream ? `upstream ${info.upstream}` : (info?.provider ?? '-'),
        entry.aliasFor ? '-' : (file?.architecture ?? '-'),
        info && info.contextLength > 0 ? String(info.contextLength) : '?',
        entry.aliasFor || !file ? '-' : formatBytes(file.bytes),
        info ? capabilityList(info.capabilities) : '-',
        price(entry.pricing?.inputPer1k),
        price(entry.pricing?.outputPer1k),
        notes(entry, file?.note).join('; '),
      ]);
    }
    for (const file of local) {
      if (file.unreadable)
        rows.push([
          file.info.id,
          'llama-cpp',
          '?',
          '?',
          formatBytes(file.bytes),
          '-',
          '-',
          '-',
          file.unreadable,
        ]);
    }
    io.stdout.write(table(rows));
    for (const [name, problem] of upstreams.problems()) {
      io.stdout.write(`\nUpstream ${name}: cannot list its models (${problem}).`);
    }
    for (const problem of problems) io.stdout.write(`\n${problem}`);
    if (upstreams.problems().size > 0 || problems.length > 0) io.stdout.write('\n');
    return 0;
  } finally {
    await upstreams?.close();
    await storage.database.close();
  }
}

interface LocalModelFile {
  readonly info: ModelInfo;
  readonly architecture: string;
  readonly bytes: number;
  readonly note: string | undefined;
  readonly unreadable: string | undefined;
}

async function readLocalModels(modelsDir: string): Promise<LocalModelFile[]> {
  // Imported here, not at the top: `atelier serve` loads this module too, and a gateway without
  // model files should not pay node-llama-cpp's memory for it.
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const names = (await readdir(modelsDir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.gguf'))
    .sort();
  const models: LocalModelFile[] = [];
  for (const name of names) {
    const file = path.join(modelsDir, name);
    const { size, mtimeMs } = await stat(file);
    const id = path.basename(name, '.gguf');
    const base = {
      id,
      provider: 'llama-cpp',
      ownedBy: 'atelier',
      createdAt: Math.floor(mtimeMs / 1000),
      capabilities: {
        chat: true,
        completions: true,
        embeddings: true,
        tools: true,
        vision: false,
        json: true,
      },
      fingerprint: '',
    };
    try {
      const header = await readGgufFileInfo(file, { readTensorInfo: false });
      const metadata = header.metadata as unknown as {
        general?: { architecture?: string; description?: string };
        [architecture: string]: unknown;
      };
      const architecture = metadata.general?.architecture ?? '?';
      const context = (metadata[architecture] as { context_length?: number } | undefined)?.context_length;
      models.push({
        info: { ...base, contextLength: context ?? 0 },
        architecture,
        bytes: size,
        note: metadata.general?.description?.startsWith('Random weights generated by Atelier')
          ? 'test model (random weights)'
          : undefined,
        unreadable: undefined,
      });
    } catch (error) {
      models.push({
        info: { ...base, contextLength: 0 },
        architecture: '?',
        bytes: size,
        note: undefined,
        unreadable: `unreadable: ${(error as Error).message}`,
      });
    }
  }
  return models;
}

/** The model files as a provider that lists them without loading them. */
function localListing(models: readonly LocalModelFile[]): InferenceProvider {
  const readable = models.filter((model) => !model.unreadable).map((model) => model.info);
  return {
    name: 'llama-cpp',
    listModels: () => readable,
    languageModel: () => undefined,
    embeddingModel: () => undefined,
    close: async () => {},
  };
}

const CAPABILITY_NAMES = ['chat', 'completions', 'embeddings', 'tools', 'vision', 'json'] as const;

function capabilityList(capabilities: ModelCapabilities): string {
  return CAPABILITY_NAMES.filter((name) => capabilities[name]).join(',') || 'none';
}

function price(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `$${value}`;
}

function notes(entry: RegistryEntry, fileNote: string | undefined): string[] {
  const notes: string[] = [];
  if (entry.aliasFor) {
    notes.push(`→ ${entry.aliasFor}`);
    if (entry.scheduledSwitch) {
      notes.push(`→ ${entry.scheduledSwitch.target} from ${isoDate(entry.scheduledSwitch.switchAt)}`);
    }
  }
  const deprecation = entry.deprecation;
  const use = deprecation?.replacement ? `, use ${deprecation.replacement}` : '';
  if (entry.status === 'shut-down' && deprecation?.shutdownAt) {
    notes.push(`shut down ${isoDate(deprecation.shutdownAt)}${use}`);
  } else if (deprecation) {
    notes.push(
      `${entry.status === 'deprecated' ? 'deprecated' : `deprecated from ${isoDate(deprecation.deprecatedAt)}`}${
        deprecation.shutdownAt ? `, shuts down ${isoDate(deprecation.shutdownAt)}` : ''
      }${use}`,
    );
  }
  if (entry.status === 'missing') notes.push(entry.aliasFor ? 'target not served' : 'not served');
  if (entry.fallbacks.length > 0) notes.push(`fallbacks: ${entry.fallbacks.join(', ')}`);
  if (fileNote && !entry.aliasFor) notes.push(fileNote);
  return notes;
}

function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

async function makeTest(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    seed: { type: 'string' },
    dim: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    ff: { type: 'string' },
    context: { type: 'string' },
    name: { type: 'string' },
  });
  const target = positionals[0];
  if (!target) throw new InvalidRequestError('usage: atelier models make-test PATH [--seed N] [--dim N …]');
  const integer = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw new InvalidRequestError(`--${flag} must be an integer, got "${value}"`);
    return Number(value);
  };
  const options = {
    path: path.resolve(io.cwd, target),
    seed: integer('seed', values.seed),
    dim: integer('dim', values.dim),
    layers: integer('layers', values.layers),
    heads: integer('heads', values.heads),
    kvHeads: integer('kv-heads', values['kv-heads']),
    ff: integer('ff', values.ff),
    context: integer('context', values.context),
    name: values.name,
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const model = await makeTestModel(defined as typeof options & { path: string });
  io.stdout.write(
    `Wrote ${model.path} (${formatBytes(model.bytes)}, ${model.parameterCount.toLocaleString('en')} parameters, ` +
      `dim ${model.dim}, ${model.layers} layers, ${model.heads} heads, context ${model.context}, seed ${model.seed})\n` +
      `sha256 ${model.sha256}\n`,
  );
  return 0;
}

async function pull(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    sha256: { type: 'string' },
    name: { type: 'string' },
  });
  const url = positionals[0];
  if (!url) throw new InvalidRequestError('usage: atelier models pull URL [--sha256 HEX] [--name FILE.gguf]');
  const config = configFrom(io);
  const bar = createProgressBar({
    stream: io.stderr,
    label: path.basename(new URL(url).pathname) || 'model',
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const token = io.env['HF_TOKEN'];
    const result = await downloadModel({
      url,
      modelsDir: config.modelsDir,
      fileName: values.name,
      sha256: values.sha256,
      headers: token ? { authorization: `Bearer ${token}` } : undefined,
      onProgress: (progress) => bar.update(progress),
      signal: controller.signal,
    });
    bar.done(
      `${result.resumed ? 'Resumed and finished' : 'Downloaded'} ${result.path} (${formatBytes(result.bytes)})`,
    );
    io.stdout.write(
      `sha256 ${result.sha256}\nRestart \`atelier serve\` to serve it as "${path.basename(result.path, '.gguf')}".\n`,
    );
    return 0;
  } catch (error) {
    bar.done();
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
