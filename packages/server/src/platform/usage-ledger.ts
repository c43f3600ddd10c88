// What each request to a model used, the one account of usage for local and upstream models
// alike: requests and tokens per minute, workspace, API key, person, model and endpoint. A request
// only adds to a counter in memory (no database write on its path); the counters go to the
// database a second later in one transaction, and at shutdown. A crash loses at most that second.

import type {
  ModelUsageIncrement,
  ModelUsageRepository,
} from '../storage/repositories/model-usage-repository.js';
import type { Principal } from './principal.js';

export type UsageEndpoint = 'chat/completions' | 'completions' | 'embeddings';

/** Whose usage it is: a request's principal, or a run's creator. */
export type UsagePrincipal = Pick<Principal, 'workspaceId' | 'apiKeyId' | 'accountId'>;

export interface UsageEntry {
  readonly principal: UsagePrincipal;
  /** The served model that answered (after aliases and fallbacks). */
  readonly model: string;
  readonly endpoint: UsageEndpoint;
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  /** The tokens were estimated: the upstream did not say. */
  readonly estimated: boolean;
}

export interface UsageLedger {
  record(entry: UsageEntry): void;
  /** Writes what is counted so far (readers see every request recorded before the call). */
  flush(): Promise<void>;
  readonly repository: ModelUsageRepository;
  /** Writes the rest; later records are dropped. */
  close(): Promise<void>;
}

export function createUsageLedger({
  repository,
  flushDelayMs = 1_000,
  now = Date.now,
  log = () => {},
  onRecord = undefined,
}: {
  repository: ModelUsageRepository;
  /** How long counts wait in memory before they are written. */
  flushDelayMs?: number;
  now?: () => number;
  log?: (message: string, error: unknown) => void;
  /** Told of each entry as it is recorded (the metrics' token counters). */
  onRecord?: ((entry: UsageEntry) => void) | undefined;
}): UsageLedger {
  let pending = new Map<string, Mutable<ModelUsageIncrement>>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  function write(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    writing = writing.then(async () => {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      try {
        await repository.add([...batch.values()]);
      } catch (error) {
        // Kept for the next write: usage is not lost to a database that is briefly away.
        for (const [key, increment] of batch) merge(pending, key, increment);
        log('writing model usage failed; it is kept for the next try', error);
        if (!closed) timer ??= setTimeout(write, flushDelayMs * 5).unref();
      }
    });
    return writing;
  }

  return {
    repository,
    record(entry) {
      if (closed) return;
      onRecord?.(entry);
      const { principal, model, endpoint, inputTokens, cachedInputTokens, outputTokens, estimated } = entry;
      const minute = Math.floor(now() / 60_000) * 60;
      const apiKeyId = principal.apiKeyId;
      const accountId = principal.accountId;
      const key = `${principal.workspaceId}\0${minute}\0${model}\0${endpoint}\0${apiKeyId ?? ''}\0${accountId ?? ''}`;
      merge(pending, key, {
        workspaceId: principal.workspaceId,
        minute,
        model,
        endpoint,
        apiKeyId,
        accountId,
        requests: 1,
        inputTokens,
        cachedInputTokens,
        outputTokens,
        estimatedRequests: estimated ? 1 : 0,
      });
      timer ??= setTimeout(write, flushDelayMs).unref();
    },
    flush: write,
    async close() {
      closed = true;
      await write();
    },
  };
}

type Mutable<Type> = { -readonly [Key in keyof Type]: Type[Key] };

function merge(
  into: Map<string, Mutable<ModelUsageIncrement>>,
  key: string,
  increment: ModelUsageIncrement,
): void {
  const row = into.get(key);
  if (!row) {
    into.set(key, { ...increment });
    return;
  }
  row.requests += increment.requests;
  row.inputTokens += increment.inputTokens;
  row.cachedInputTokens += increment.cachedInputTokens;
  row.outputTokens += increment.outputTokens;
  row.estimatedRequests += increment.estimatedRequests;
}
