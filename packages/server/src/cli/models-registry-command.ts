// `atelier models alias|deprecate|price|set|upstream`: the model registry's rules, written to its
// tables (a running server applies them within 10 seconds). Until the admin console, this is how
// an operator moves an alias, retires a model, prices it, or adds an upstream with its key
// sealed; keys are read from an environment variable, never from the command line.
import { UpstreamSetting } from '../config/config.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { openStorage, type Storage } from '../main.js';
import { REGISTRY_SYNC_INTERVAL_MS, upstreamKeyContext } from '../start-models.js';
import type { ModelSettingsPatch } from '../storage/repositories/model-registry-repository.js';
import { loadSecretBox } from '../storage/secret-box.js';
import { table } from './keys-command.js';
import { type CliIo, configFrom, parseCommand } from './main.js';

const APPLIED = `A running server applies it within ${REGISTRY_SYNC_INTERVAL_MS / 1000} seconds.`;

export async function runRegistryCommand(
  command: 'alias' | 'deprecate' | 'price' | 'set' | 'upstream',
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const storage = await openStorage(configFrom(io));
  try {
    switch (command) {
      case 'alias':
        return await alias(args, io, storage);
      case 'deprecate':
        return await deprecate(args, io, storage);
      case 'price':
        return await priceModel(args, io, storage);
      case 'set':
        return await setModel(args, io, storage);
      case 'upstream':
        return await upstream(args, io, storage);
    }
  } finally {
    await storage.database.close();
  }
}

async function alias(args: readonly string[], io: CliIo, { repositories }: Storage): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    next: { type: 'string' },
    'switch-at': { type: 'string' },
    remove: { type: 'boolean' },
  });
  const [name, target] = positionals;
  const repository = repositories.modelRegistry;
  if (name && values.remove) {
    if (!(await repository.removeAlias(name))) throw new NotFoundError(`No alias ${name}.`);
    io.stderr.write(`Removed the alias ${name}. ${APPLIED}\n`);
    return 0;
  }
  if (!name || !target) {
    throw new InvalidRequestError(
      'usage: atelier models alias ALIAS TARGET [--next TARGET --switch-at DATE] | atelier models alias ALIAS --remove',
    );
  }
  if ((values.next === undefined) !== (values['switch-at'] === undefined)) {
    throw new InvalidRequestError('--next and --switch-at go together: where the alias moves, and when.');
  }
  const switchAt = values['switch-at'] === undefined ? null : parseDate(values['switch-at'], '--switch-at');
  const stored = await repository.setAlias({
    alias: name,
    target,
    nextTarget: values.next ?? null,
    switchAt,
  });
  const move =
    stored.nextTarget && stored.switchAt !== null
      ? `, moving to ${stored.nextTarget} on ${formatDate(stored.switchAt)}`
      : '';
  io.stderr.write(`Alias ${stored.alias} → ${stored.target}${move}. ${APPLIED}\n`);
  return 0;
}

async function deprecate(args: readonly string[], io: CliIo, { repositories }: Storage): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    shutdown: { type: 'string' },
    replacement: { type: 'string' },
    from: { type: 'string' },
    undo: { type: 'boolean' },
  });
  const model = positionals[0];
  const repository = repositories.modelRegistry;
  if (model && values.undo) {
    await repository.updateSettings(model, { deprecatedAt: null, shutdownAt: null, replacement: null });
    io.stderr.write(`${model} is no longer deprecated. ${APPLIED}\n`);
    return 0;
  }
  if (!model || values.shutdown === undefined) {
    throw new InvalidRequestError(
      'usage: atelier models deprecate MODEL --shutdown DATE [--replacement MODEL] [--from DATE] | --undo',
    );
  }
  const shutdownAt = parseDate(values.shutdown, '--shutdown');
  const deprecatedAt =
    values.from === undefined ? Math.floor(Date.now() / 1000) : parseDate(values.from, '--from');
  if (deprecatedAt > shutdownAt) throw new InvalidRequestError('--from must not be after --shutdown.');
  const stored = await repository.updateSettings(model, {
    deprecatedAt,
    shutdownAt,
    replacement: values.replacement ?? null,
  });
  const use = stored.replacement ? `; clients are pointed to ${stored.replacement}` : '';
  io.stderr.write(
    `${model} is deprecated from ${formatDate(deprecatedAt)} and shuts down on ${formatDate(shutdownAt)}${use}. ${APPLIED}\n`,
  );
  return 0;
}

async function priceModel(args: readonly string[], io: CliIo, { repositories }: Storage): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    input: { type: 'string' },
    output: { type: 'string' },
    clear: { type: 'boolean' },
  });
  const model = positionals[0];
  if (!model || (!values.clear && values.input === undefined && values.output === undefined)) {
    throw new InvalidRequestError(
      'usage: atelier models price MODEL --input USD --output USD (per 1K tokens) | --clear',
    );
  }
  const patch: ModelSettingsPatch = values.clear
    ? { inputPricePer1k: null, outputPricePer1k: null }
    : {
        ...(values.input === undefined ? {} : { inputPricePer1k: parsePrice(values.input, '--input') }),
        ...(values.output === undefined ? {} : { outputPricePer1k: parsePrice(values.output, '--output') }),
      };
  const stored = await repositories.modelRegistry.updateSettings(model, patch);
  io.stderr.write(
    `${model}: ${formatPrice(stored.inputPricePer1k)} per 1K input tokens, ${formatPrice(stored.outputPricePer1k)} per 1K output tokens. ${APPLIED}\n`,
  );
  return 0;
}

const CAPABILITIES = ['chat', 'completions', 'embeddings', 'tools', 'vision', 'json'] as const;

async function setModel(args: readonly string[], io: CliIo, { repositories }: Storage): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    context: { type: 'string' },
    fallbacks: { type: 'string' },
    reset: { type: 'boolean' },
    ...Object.fromEntries(CAPABILITIES.map((name) => [name, { type: 'string' as const }])),
  });
  const model = positionals[0];
  const usage =
    'usage: atelier models set MODEL [--context N] [--tools on|off] [--vision on|off] [--json on|off] [--embeddings on|off] [--chat on|off] [--completions on|off] [--fallbacks A,B|none] | --reset';
  if (!model) throw new InvalidRequestError(usage);
  const repository = repositories.modelRegistry;
  if (values.reset) {
    await repository.removeSettings(model);
    io.stderr.write(
      `${model}: every setting removed (capabilities, context, prices, deprecation, fallbacks). ${APPLIED}\n`,
    );
    return 0;
  }
  const current = await repository.findSettings(model);
  const capabilities: Record<string, boolean> = { ...current?.capabilities };
  let changed = false;
  for (const name of CAPABILITIES) {
    const value = (values as Record<string, string | boolean | undefined>)[name];
    if (value === undefined) continue;
    if (value !== 'on' && value !== 'off') throw new InvalidRequestError(`--${name} must be on or off`);
    capabilities[name] = value === 'on';
    changed = true;
  }
  const patch: ModelSettingsPatch = {
    ...(changed ? { capabilities } : {}),
    ...(values.context === undefined ? {} : { contextLength: parseInteger(values.context, '--context') }),
    ...(values.fallbacks === undefined
      ? {}
      : { fallbacks: values.fallbacks === 'none' ? [] : splitList(values.fallbacks) }),
  };
  if (Object.keys(patch).length === 0) throw new InvalidRequestError(usage);
  if (patch.fallbacks?.includes(model)) throw new InvalidRequestError('A model cannot be its own fallback.');
  const stored = await repository.updateSettings(model, patch);
  const said = [
    Object.keys(stored.capabilities).length > 0
      ? `capabilities ${Object.entries(stored.capabilities)
          .map(([name, on]) => `${name} ${on ? 'on' : 'off'}`)
          .join(', ')}`
      : '',
    stored.contextLength === null ? '' : `context ${stored.contextLength}`,
    stored.fallbacks.length > 0 ? `fallbacks ${stored.fallbacks.join(', ')}` : '',
  ].filter(Boolean);
  io.stderr.write(`${model}: ${said.join('; ') || 'no overrides'}. ${APPLIED}\n`);
  return 0;
}

async function upstream(args: readonly string[], io: CliIo, { repositories }: Storage): Promise<number> {
  const [sub, ...rest] = args;
  const config = configFrom(io);
  const repository = repositories.modelRegistry;
  if (sub === 'list') {
    parseCommand(rest, {});
    const stored = await repository.listUpstreams();
    const rows = [
      ['NAME', 'BASE URL', 'PREFIX', 'MODELS', 'KEY', 'SOURCE'],
      ...config.upstreams.map((one) => [
        one.name,
        one.baseUrl,
        one.prefix || '-',
        one.models?.join(',') ?? 'discovered',
        one.apiKey ? 'set' : 'none',
        'configuration',
      ]),
      ...stored.map((one) => [
        one.name,
        one.baseUrl,
        one.prefix || '-',
        one.models?.join(',') ?? 'discovered',
        one.apiKey ? 'stored encrypted' : 'none',
        config.upstreams.some((configured) => configured.name === one.name)
          ? 'stored (hidden by the configuration)'
          : 'stored',
      ]),
    ];
    io.stdout.write(rows.length === 1 ? 'No upstreams.\n' : table(rows));
    return 0;
  }
  if (sub === 'remove') {
    const { positionals } = parseCommand(rest, {});
    const name = positionals[0];
    if (!name) throw new InvalidRequestError('usage: atelier models upstream remove NAME');
    if (!(await repository.removeUpstream(name))) {
      throw new NotFoundError(
        config.upstreams.some((one) => one.name === name)
          ? `The upstream ${name} comes from the configuration (ATELIER_UPSTREAMS or the config file): remove it there.`
          : `No stored upstream ${name}.`,
      );
    }
    io.stderr.write(`Removed the upstream ${name}. ${APPLIED}\n`);
    return 0;
  }
  if (sub !== 'add') {
    throw new InvalidRequestError(
      'usage: atelier models upstream add NAME --base-url URL [--api-key-env VAR] [--prefix P] [--models A,B] [--timeout-ms N] [--max-concurrency N] [--max-retries N] | list | remove NAME',
    );
  }
  const { values, positionals } = parseCommand(rest, {
    'base-url': { type: 'string' },
    'api-key-env': { type: 'string' },
    prefix: { type: 'string' },
    models: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'max-retries': { type: 'string' },
  });
  const name = positionals[0];
  if (!name || !values['base-url']) {
    throw new InvalidRequestError(
      'usage: atelier models upstream add NAME --base-url URL [--api-key-env VAR] …',
    );
  }
  let apiKey: string | undefined;
  if (values['api-key-env'] !== undefined) {
    apiKey = io.env[values['api-key-env']];
    if (!apiKey)
      throw new InvalidRequestError(`The environment variable ${values['api-key-env']} is empty or unset.`);
  }
  const optionalInteger = (value: string | undefined, flag: string) =>
    value === undefined ? undefined : parseInteger(value, flag);
  // The same rules as ATELIER_UPSTREAMS, so a stored upstream is one the configuration would take.
  const parsed = UpstreamSetting.safeParse({
    name,
    base_url: values['base-url'],
    api_key: apiKey,
    prefix: values.prefix,
    models: values.models === undefined ? undefined : splitList(values.models),
    timeout_ms: optionalInteger(values['timeout-ms'], '--timeout-ms'),
    max_concurrency: optionalInteger(values['max-concurrency'], '--max-concurrency'),
    max_retries: optionalInteger(values['max-retries'], '--max-retries'),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRequestError(
      `Invalid upstream: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  const setting = parsed.data;
  const secrets = await loadSecretBox({ dataDir: config.dataDir, secretKey: config.secretKey });
  await repository.putUpstream({
    name: setting.name,
    baseUrl: setting.base_url.replace(/\/+$/, ''),
    apiKey:
      setting.api_key === undefined
        ? null
        : secrets.seal(setting.api_key, { context: upstreamKeyContext(setting.name) }),
    prefix: setting.prefix ?? '',
    models: setting.models ?? null,
    timeoutMs: setting.timeout_ms ?? null,
    maxConcurrency: setting.max_concurrency ?? null,
    maxRetries: setting.max_retries ?? null,
  });
  const hidden = config.upstreams.some((one) => one.name === setting.name)
    ? ' The configuration has an upstream of the same name, which wins while it is there.'
    : '';
  io.stderr.write(
    `Stored the upstream ${setting.name} (${setting.base_url}${setting.api_key ? ', key encrypted' : ', no key'}); its models are served as ${setting.prefix ?? ''}<model>. ${APPLIED}${hidden}\n`,
  );
  return 0;
}

/** `YYYY-MM-DD` (midnight UTC), a full ISO date-time, or `now`, as unix seconds. */
export function parseDate(text: string, flag: string): number {
  if (text === 'now') return Math.floor(Date.now() / 1000);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const time = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(time)) {
    throw new InvalidRequestError(
      `${flag} must be a date like 2026-12-11 or 2026-12-11T09:00:00Z, got "${text}"`,
    );
  }
  return Math.floor(time / 1000);
}

function formatDate(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function parsePrice(text: string, flag: string): number {
  const value = Number(text.replace(/^\$/, ''));
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidRequestError(`${flag} must be a price in USD per 1K tokens, like 0.0015`);
  }
  return value;
}

function formatPrice(value: number | null): string {
  return value === null ? 'no price' : `$${value}`;
}

function parseInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidRequestError(`${flag} must be a positive integer, got "${text}"`);
  return Number(text);
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
