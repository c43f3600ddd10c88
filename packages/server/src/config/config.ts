// Environment + optional `atelier.config.json` → one frozen, validated Config object.
// Environment wins over the file; an invalid value stops start-up with one clear line.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { allowListEntryProblem, parseAllowList } from '../tools/outbound/outbound-policy.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An OpenAI-compatible server whose models Atelier serves (see inference/openai-compatible/). */
export interface UpstreamConfig {
  /** Unique; names the upstream in logs, `/v1/models` and the CLI. */
  readonly name: string;
  /** Up to and including the version segment, e.g. `http://host:8000/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Served model ids are `prefix + upstream id` (`lab/` + `llama-3` = `lab/llama-3`). */
  readonly prefix: string;
  /** The upstream's model ids to serve; undefined: discovered through its `/models`. */
  readonly models: readonly string[] | undefined;
  /** Longest wait for the upstream's first byte, and between two bytes of a response. */
  readonly timeoutMs: number;
  /** Requests in flight to this upstream at once; more wait in line (undefined: no limit). */
  readonly maxConcurrency: number | undefined;
  /** Retries of a 429/5xx or a failed connection, before any byte went to the client. */
  readonly maxRetries: number;
}

export const UPSTREAM_DEFAULTS = Object.freeze({ timeoutMs: 600_000, maxRetries: 2 });

/** One upstream as written in `ATELIER_UPSTREAMS` or the config file's `upstreams` (snake_case). */
export const UpstreamSetting = z
  .object({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'must be 1-64 letters, digits, dots, dashes or underscores',
      ),
    base_url: z
      .string()
      .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
      .refine((value) => URL.canParse(value), 'must be a valid URL'),
    api_key: z.string().min(1).optional(),
    prefix: z.string().max(64).regex(/^\S*$/, 'must not contain spaces').optional(),
    models: z.array(z.string().min(1)).optional(),
    timeout_ms: z.number().int().min(100).max(86_400_000).optional(),
    max_concurrency: z.number().int().min(1).max(100_000).optional(),
    max_retries: z.number().int().min(0).max(10).optional(),
  })
  .strict();
export type UpstreamSetting = z.infer<typeof UpstreamSetting>;

export function toUpstreamConfig(setting: UpstreamSetting): UpstreamConfig {
  return Object.freeze({
    name: setting.name,
    baseUrl: setting.base_url.replace(/\/+$/, ''),
    apiKey: setting.api_key,
    prefix: setting.prefix ?? '',
    models: setting.models ? Object.freeze([...setting.models]) : undefined,
    timeoutMs: setting.timeout_ms ?? UPSTREAM_DEFAULTS.timeoutMs,
    maxConcurrency: setting.max_concurrency,
    maxRetries: setting.max_retries ?? UPSTREAM_DEFAULTS.maxRetries,
  });
}

/** The web search provider of the browsing capability (`ATELIER_SEARCH_PROVIDER`, snake_case JSON). */
const SearchProviderSetting = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  },
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('searxng'),
        base_url: z.string().regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL'),
      })
      .strict(),
    z
      .object({
        type: z.enum(['brave', 'bing', 'tavily']),
        api_key: z.string().min(1),
        base_url: z
          .string()
          .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
          .optional(),
      })
      .strict(),
  ]),
);

export type SearchProviderSetting = z.infer<typeof SearchProviderSetting>;

const UpstreamList = z.preprocess(
  // The environment holds JSON text; the config file holds the array itself.
  (value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  },
  z
    .array(UpstreamSetting)
    .refine(
      (list) => new Set(list.map((upstream) => upstream.name)).size === list.length,
      'upstream names must be unique',
    ),
);

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly modelsDir: string;
  readonly databaseUrl: string | undefined;
  /** Redis for events between nodes (scale-out); unset: one node, events stay in process. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis channel, so several Atelier deployments can share one Redis. */
  readonly redisPrefix: string;
  readonly bootstrapApiKey: string | undefined;
  readonly logLevel: LogLevel;
  /** Tokens of context per sequence of a local model (0 = the model's own training context). */
  readonly contextSize: number;
  /** Concurrent sequences per local model: requests beyond it wait in line. */
  readonly parallelSequences: number;
  /** CPU threads for local inference (0 = auto: the machine's cores). */
  readonly threads: number;
  /** Contexts reserved for requests with a `seed`, which decode alone to stay reproducible. */
  readonly seededSequences: number;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Largest uploaded file (`/v1/files`), in bytes. */
  readonly maxFileBytes: number;
  /** Model whose embeddings vector stores index (hybrid search); undefined: keyword search only. */
  readonly embeddingModel: string | undefined;
  /**
   * Outbound requests (actions, browsing) may reach these non-public addresses: IPs, CIDR ranges,
   * host names, `*.domain` (`ATELIER_OUTBOUND_ALLOW`). Empty: public internet addresses only.
   */
  readonly outboundAllow: readonly string[];
  /** Actions: the longest one call to an API may take, in seconds. */
  readonly actionTimeoutSeconds: number;
  /** Actions: bytes of an API's response read at most; the rest is cut off with a note. */
  readonly actionMaxResponseBytes: number;
  /** Web search for the browsing capability; unset: pages can be opened, not searched. */
  readonly searchProvider: SearchProviderSetting | undefined;
  /** OpenAI-compatible upstreams from the environment or the config file (more may be stored). */
  readonly upstreams: readonly UpstreamConfig[];
  /** Seals stored secrets (upstream API keys); unset: `<data>/secret.key`, created on first start. */
  readonly secretKey: string | undefined;
  /** Code interpreter: a session unused this long ends (its kernel and files), in minutes. */
  readonly sandboxIdleMinutes: number;
  /** Code interpreter: the longest a session lasts, used or not, in minutes. */
  readonly sandboxMaxSessionMinutes: number;
  /** Code interpreter: sandboxes running at once (the least recently used idle one makes room). */
  readonly sandboxMaxSessions: number;
  /** Code interpreter: address space of each process in a sandbox, in MiB. */
  readonly sandboxMemoryMb: number;
  /** Code interpreter: CPU time one execution may use, in seconds. */
  readonly sandboxCpuSeconds: number;
  /** Code interpreter: wall-clock time one execution may take, in seconds. */
  readonly sandboxTimeoutSeconds: number;
  /** Code interpreter: a session's disk (/mnt/data and /tmp together, in memory), in MiB. */
  readonly sandboxDiskMb: number;
  /** Code interpreter: processes and threads a sandbox may run at once. */
  readonly sandboxProcesses: number;
  /** Web app: a session unused this many days ends (sign in again). */
  readonly sessionDays: number;
  /** Web app: anyone may sign up (false: only the first person, who becomes the owner). */
  readonly allowSignUp: boolean;
  /** Trust X-Forwarded-* from a reverse proxy (client address, https for Secure cookies). */
  readonly trustProxy: boolean;
  /** The built web app served at `/`; undefined: the one built into this installation. */
  readonly webDir: string | undefined;
  /** Assistants runs this process executes at once (0: none; other nodes execute them). */
  readonly runWorkers: number;
  /** How long a worker holds a run without renewing its claim: a crashed worker's runs resume after it. */
  readonly runLeaseSeconds: number;
  /**
   * Closing (SIGTERM): how long requests in flight have to finish before they are cut (0: cut at
   * once). The default 7 s is less than the 10 s a container runtime waits after SIGTERM.
   */
  readonly shutdownGraceSeconds: number;
  /**
   * SQLite: memory for the in-memory int8 copy of stored vectors that vector search scans, over
   * all vector stores (the least recently searched are dropped past it, and read again on use).
   */
  readonly vectorCacheMb: number;
  /** Serve Prometheus metrics at `GET /metrics` (and count them). */
  readonly metrics: boolean;
  /** The bearer token `/metrics` asks for; unset: it answers only on this machine (loopback). */
  readonly metricsToken: string | undefined;
  /**
   * Relay streamed (chunked) upstream answers with the native relay (native/relay.c): no
   * JavaScript per chunk, on a thread of its own. Unset: used when it was built (`npm install`
   * builds it on Linux with a C compiler), else the JavaScript relay; `false`: never.
   */
  readonly nativeRelay: boolean | undefined;
}

/** A yes/no setting: `true`/`false` (also 1/0, yes/no, on/off) in the environment, a boolean in the file. */
const Flag = z.union([z.boolean(), z.stringbool()]);

/** Each setting: its environment variable, its key in the config file, and its parser. */
const SETTINGS = {
  host: { env: 'ATELIER_HOST', expected: 'a host name or address', schema: z.string().min(1) },
  port: {
    env: 'ATELIER_PORT',
    expected: 'a port number from 0 to 65535',
    schema: z.coerce.number().int().min(0).max(65535),
  },
  dataDir: { env: 'ATELIER_DATA_DIR', expected: 'a directory path', schema: z.string().min(1) },
  modelsDir: { env: 'ATELIER_MODELS_DIR', expected: 'a directory path', schema: z.string().min(1) },
  databaseUrl: {
    env: 'ATELIER_DATABASE_URL',
    expected: 'a postgres:// URL (or unset for SQLite)',
    schema: z
      .string()
      .regex(/^(postgres(ql)?:\/\/|sqlite:|:memory:$)/, 'must be a postgres:// URL (or unset for SQLite)'),
  },
  redisUrl: {
    env: 'ATELIER_REDIS_URL',
    expected: 'a redis:// or rediss:// URL',
    schema: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  },
  redisPrefix: {
    env: 'ATELIER_REDIS_PREFIX',
    expected: 'a prefix of letters, digits, ":", "_" or "-" (at most 64)',
    schema: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 letters, digits, ":", "_" or "-"'),
  },
  bootstrapApiKey: {
    env: 'ATELIER_BOOTSTRAP_API_KEY',
    expected: 'a key of at least 20 characters without spaces',
    schema: z.string().min(20, 'must be at least 20 characters').regex(/^\S+$/, 'must not contain spaces'),
    secret: true,
  },
  logLevel: {
    env: 'ATELIER_LOG_LEVEL',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    schema: z.enum(LOG_LEVELS),
  },
  contextSize: {
    env: 'ATELIER_CONTEXT_SIZE',
    expected: "a number of tokens (0 = the model's own)",
    schema: z.coerce.number().int().min(0).max(1_048_576),
  },
  parallelSequences: {
    env: 'ATELIER_PARALLEL_SEQUENCES',
    expected: 'an integer from 1 to 256',
    schema: z.coerce.number().int().min(1).max(256),
  },
  threads: {
    env: 'ATELIER_THREADS',
    expected: 'a number of threads (0 = all cores)',
    schema: z.coerce.number().int().min(0).max(1024),
  },
  seededSequences: {
    env: 'ATELIER_SEEDED_SEQUENCES',
    expected: 'an integer from 0 to 64',
    schema: z.coerce.number().int().min(0).max(64),
  },
  maxBodyBytes: {
    env: 'ATELIER_MAX_BODY_BYTES',
    expected: 'a number of bytes, at least 1024',
    schema: z.coerce.number().int().min(1024),
  },
  maxFileBytes: {
    env: 'ATELIER_MAX_FILE_BYTES',
    expected: 'a number of bytes, at least 1',
    schema: z.coerce.number().int().min(1),
  },
  embeddingModel: {
    env: 'ATELIER_EMBEDDING_MODEL',
    expected: 'the id of a model that makes embeddings',
    schema: z.string().min(1),
  },
  outboundAllow: {
    env: 'ATELIER_OUTBOUND_ALLOW',
    expected:
      'comma-separated IP addresses, CIDR ranges or host names (e.g. 127.0.0.1,10.0.0.0/8,*.intranet)',
    schema: z.preprocess(
      (value) => (typeof value === 'string' ? parseAllowList(value) : value),
      z.array(z.string().refine((entry) => allowListEntryProblem(entry) === null)),
    ),
  },
  actionTimeoutSeconds: {
    env: 'ATELIER_ACTION_TIMEOUT_SECONDS',
    expected: 'a number of seconds from 1 to 600',
    schema: z.coerce.number().min(1).max(600),
  },
  actionMaxResponseBytes: {
    env: 'ATELIER_ACTION_MAX_RESPONSE_BYTES',
    expected: 'a number of bytes from 1024 to 104857600',
    schema: z.coerce.number().int().min(1024).max(104_857_600),
  },
  searchProvider: {
    env: 'ATELIER_SEARCH_PROVIDER',
    expected:
      'JSON: {"type":"searxng","base_url":…} or {"type":"brave"|"bing"|"tavily","api_key":…,"base_url"?:…}',
    schema: SearchProviderSetting,
    secret: true,
  },
  upstreams: {
    env: 'ATELIER_UPSTREAMS',
    expected:
      'a JSON array of {"name","base_url","api_key","prefix","models","timeout_ms","max_concurrency","max_retries"}',
    schema: UpstreamList,
    // Holds API keys: an error names the offending field, never the value.
    secret: true,
  },
  secretKey: {
    env: 'ATELIER_SECRET_KEY',
    expected: 'a random string of at least 32 characters',
    schema: z.string().min(32, 'must be at least 32 characters'),
    secret: true,
  },
  sandboxIdleMinutes: {
    env: 'ATELIER_SANDBOX_IDLE_MINUTES',
    expected: 'a number of minutes above 0',
    schema: z.coerce.number().positive(),
  },
  sandboxMaxSessionMinutes: {
    env: 'ATELIER_SANDBOX_MAX_SESSION_MINUTES',
    expected: 'a number of minutes above 0',
    schema: z.coerce.number().positive(),
  },
  sandboxMaxSessions: {
    env: 'ATELIER_SANDBOX_MAX_SESSIONS',
    expected: 'an integer from 1 to 4096',
    schema: z.coerce.number().int().min(1).max(4096),
  },
  sandboxMemoryMb: {
    env: 'ATELIER_SANDBOX_MEMORY_MB',
    expected: 'a number of MiB, at least 256',
    schema: z.coerce.number().int().min(256),
  },
  sandboxCpuSeconds: {
    env: 'ATELIER_SANDBOX_CPU_SECONDS',
    expected: 'a number of seconds, at least 1',
    schema: z.coerce.number().int().min(1),
  },
  sandboxTimeoutSeconds: {
    env: 'ATELIER_SANDBOX_TIMEOUT_SECONDS',
    expected: 'a number of seconds, at least 1',
    schema: z.coerce.number().int().min(1),
  },
  sandboxDiskMb: {
    env: 'ATELIER_SANDBOX_DISK_MB',
    expected: 'a number of MiB, at least 8',
    schema: z.coerce.number().int().min(8),
  },
  sandboxProcesses: {
    env: 'ATELIER_SANDBOX_PROCESSES',
    expected: 'a number of processes and threads, at least 8',
    schema: z.coerce.number().int().min(8),
  },
  runWorkers: {
    env: 'ATELIER_RUN_WORKERS',
    expected: 'an integer from 0 to 256',
    schema: z.coerce.number().int().min(0).max(256),
  },
  runLeaseSeconds: {
    env: 'ATELIER_RUN_LEASE_SECONDS',
    expected: 'a number of seconds from 1 to 3600',
    schema: z.coerce.number().int().min(1).max(3600),
  },
  shutdownGraceSeconds: {
    env: 'ATELIER_SHUTDOWN_GRACE_SECONDS',
    expected: 'a number of seconds from 0 to 3600 (0: cut requests in flight at once)',
    schema: z.coerce.number().min(0).max(3600),
  },
  sessionDays: {
    env: 'ATELIER_SESSION_DAYS',
    expected: 'a number of days from 1 to 400',
    schema: z.coerce.number().min(1).max(400),
  },
  allowSignUp: { env: 'ATELIER_ALLOW_SIGNUP', expected: 'true or false', schema: Flag },
  trustProxy: { env: 'ATELIER_TRUST_PROXY', expected: 'true or false', schema: Flag },
  webDir: { env: 'ATELIER_WEB_DIR', expected: 'a directory path', schema: z.string().min(1) },
  vectorCacheMb: {
    env: 'ATELIER_VECTOR_CACHE_MB',
    expected: 'a number of MiB from 16 to 1048576',
    schema: z.coerce.number().int().min(16).max(1_048_576),
  },
  metrics: { env: 'ATELIER_METRICS', expected: 'on or off', schema: Flag },
  metricsToken: {
    env: 'ATELIER_METRICS_TOKEN',
    expected: 'a token of at least 16 characters without spaces',
    schema: z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain spaces'),
    secret: true,
  },
  nativeRelay: { env: 'ATELIER_NATIVE_RELAY', expected: 'on or off', schema: Flag },
} as const satisfies Record<string, { env: string; expected: string; schema: z.ZodType; secret?: boolean }>;

type SettingName = keyof typeof SETTINGS;

export interface LoadConfigOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Path of the config file; default `$ATELIER_CONFIG` or `./atelier.config.json` if it exists. */
  readonly configFile?: string;
  /** Values that win over everything (e.g. CLI flags). */
  readonly overrides?: Partial<Record<SettingName, string | number>>;
}

export function loadConfig({
  env = process.env,
  cwd = process.cwd(),
  configFile = undefined,
  overrides = {},
}: LoadConfigOptions = {}): Config {
  const fileValues = readConfigFile({ env, cwd, configFile });
  const raw: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name];
    const fromEnv = env[setting.env];
    const value =
      overrides[name] ??
      (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ??
      fileValues[name] ??
      fileValues[setting.env];
    if (value === undefined || value === null) continue;
    const parsed = setting.schema.safeParse(value);
    if (!parsed.success) {
      if ('secret' in setting && setting.secret) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw new ConfigError(
          `Invalid configuration: ${setting.env}: ${where}${issue?.message ?? 'invalid'} (expected ${setting.expected})`,
        );
      }
      throw new ConfigError(
        `Invalid configuration: ${setting.env}=${JSON.stringify(value)}: expected ${setting.expected}`,
      );
    }
    raw[name] = parsed.data;
  }

  const dataDir = path.resolve(cwd, (raw.dataDir as string | undefined) ?? './data');
  const config: Config = {
    host: (raw.host as string | undefined) ?? '127.0.0.1',
    port: (raw.port as number | undefined) ?? 8080,
    dataDir,
    modelsDir: path.resolve(cwd, (raw.modelsDir as string | undefined) ?? path.join(dataDir, 'models')),
    databaseUrl: raw.databaseUrl as string | undefined,
    redisUrl: raw.redisUrl as string | undefined,
    redisPrefix: (raw.redisPrefix as string | undefined) ?? 'atelier:',
    bootstrapApiKey: raw.bootstrapApiKey as string | undefined,
    logLevel: (raw.logLevel as LogLevel | undefined) ?? 'info',
    contextSize: (raw.contextSize as number | undefined) ?? 4096,
    parallelSequences: (raw.parallelSequences as number | undefined) ?? 4,
    threads: (raw.threads as number | undefined) ?? 0,
    seededSequences: (raw.seededSequences as number | undefined) ?? 1,
    maxBodyBytes: (raw.maxBodyBytes as number | undefined) ?? 32 * 1024 * 1024,
    maxFileBytes: (raw.maxFileBytes as number | undefined) ?? 512 * 1024 * 1024,
    embeddingModel: raw.embeddingModel as string | undefined,
    outboundAllow: Object.freeze([...((raw.outboundAllow as string[] | undefined) ?? [])]),
    actionTimeoutSeconds: (raw.actionTimeoutSeconds as number | undefined) ?? 30,
    actionMaxResponseBytes: (raw.actionMaxResponseBytes as number | undefined) ?? 1024 * 1024,
    searchProvider: raw.searchProvider as SearchProviderSetting | undefined,
    upstreams: Object.freeze(((raw.upstreams as UpstreamSetting[] | undefined) ?? []).map(toUpstreamConfig)),
    secretKey: raw.secretKey as string | undefined,
    sandboxIdleMinutes: (raw.sandboxIdleMinutes as number | undefined) ?? 20,
    sandboxMaxSessionMinutes: (raw.sandboxMaxSessionMinutes as number | undefined) ?? 60,
    sandboxMaxSessions: (raw.sandboxMaxSessions as number | undefined) ?? 8,
    sandboxMemoryMb: (raw.sandboxMemoryMb as number | undefined) ?? 2048,
    sandboxCpuSeconds: (raw.sandboxCpuSeconds as number | undefined) ?? 120,
    sandboxTimeoutSeconds: (raw.sandboxTimeoutSeconds as number | undefined) ?? 120,
    sandboxDiskMb: (raw.sandboxDiskMb as number | undefined) ?? 1024,
    sandboxProcesses: (raw.sandboxProcesses as number | undefined) ?? 64,
    sessionDays: (raw.sessionDays as number | undefined) ?? 30,
    allowSignUp: (raw.allowSignUp as boolean | undefined) ?? true,
    trustProxy: (raw.trustProxy as boolean | undefined) ?? false,
    webDir: raw.webDir === undefined ? undefined : path.resolve(cwd, raw.webDir as string),
    runWorkers: (raw.runWorkers as number | undefined) ?? 4,
    runLeaseSeconds: (raw.runLeaseSeconds as number | undefined) ?? 30,
    shutdownGraceSeconds: (raw.shutdownGraceSeconds as number | undefined) ?? 7,
    vectorCacheMb: (raw.vectorCacheMb as number | undefined) ?? 1024,
    metrics: (raw.metrics as boolean | undefined) ?? true,
    metricsToken: raw.metricsToken as string | undefined,
    nativeRelay: raw.nativeRelay as boolean | undefined,
  };
  return Object.freeze(config);
}

function readConfigFile({
  env,
  cwd,
  configFile,
}: {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  configFile: string | undefined;
}): Record<string, unknown> {
  const explicit = configFile ?? env['ATELIER_CONFIG'];
  const file = path.resolve(cwd, explicit ?? 'atelier.config.json');
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError(`Invalid configuration: config file ${file} does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${file} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Invalid configuration: ${file} must hold a JSON object`);
  }
  const known = new Set<string>([
    ...Object.keys(SETTINGS),
    ...Object.values(SETTINGS).map((setting) => setting.env),
  ]);
  const unknown = Object.keys(parsed).filter((key) => !known.has(key) && !key.startsWith('$'));
  if (unknown.length > 0) {
    throw new ConfigError(`Invalid configuration: unknown key ${JSON.stringify(unknown[0])} in ${file}`);
  }
  return parsed as Record<string, unknown>;
}
