// The model registry's rules as data: stored upstreams (API keys sealed, never plain), aliases that
// move on a date, and per-model settings (capabilities, context, prices, deprecation, fallbacks).
// The server reads them all at start and again every few seconds; the CLI (later the admin
// console) writes them.

import type { Kysely, Selectable } from 'kysely';
import { ConflictError, InvalidRequestError } from '../../errors.js';
import { type Clock, systemClock } from '../clock.js';
import { inTransaction } from '../in-transaction.js';
import type { ModelAliasesTable, ModelSettingsTable, UpstreamsTable } from '../model-registry-schema.js';
import type { DatabaseSchema } from '../schema.js';
import type { SealedSecret } from '../secret-box.js';

export interface StoredUpstream {
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey: SealedSecret | null;
  readonly prefix: string;
  /** null: discovered through the upstream's `/models`. */
  readonly models: readonly string[] | null;
  readonly timeoutMs: number | null;
  readonly maxConcurrency: number | null;
  readonly maxRetries: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type UpstreamPutParams = Omit<StoredUpstream, 'createdAt' | 'updatedAt'>;

export interface ModelAlias {
  readonly alias: string;
  readonly target: string;
  /** From `switchAt` (unix seconds) on, the alias points at `nextTarget`. */
  readonly nextTarget: string | null;
  readonly switchAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ModelAliasSetParams {
  readonly alias: string;
  readonly target: string;
  readonly nextTarget?: string | null;
  readonly switchAt?: number | null;
}

export interface ModelSettings {
  readonly model: string;
  readonly contextLength: number | null;
  /** Overrides of what the provider reports, by capability name (tools, vision, json, …). */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /** USD per 1K tokens. */
  readonly inputPricePer1k: number | null;
  readonly outputPricePer1k: number | null;
  readonly deprecatedAt: number | null;
  /** From then on the model answers 404 naming `replacement`. */
  readonly shutdownAt: number | null;
  readonly replacement: string | null;
  /** Tried in order when the model's upstream fails before the first byte. */
  readonly fallbacks: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** undefined leaves a field as it is; null clears it. */
export type ModelSettingsPatch = {
  readonly [Key in Exclude<keyof ModelSettings, 'model' | 'createdAt' | 'updatedAt'>]?:
    | ModelSettings[Key]
    | (null extends ModelSettings[Key] ? null : never);
};

export interface ModelRegistryRepository {
  listUpstreams(): Promise<readonly StoredUpstream[]>;
  /** Creates the upstream or replaces the one with the same name. */
  putUpstream(params: UpstreamPutParams): Promise<StoredUpstream>;
  removeUpstream(name: string): Promise<boolean>;
  listAliases(): Promise<readonly ModelAlias[]>;
  /** Creates or moves an alias; refuses one that would point at itself through other aliases. */
  setAlias(params: ModelAliasSetParams): Promise<ModelAlias>;
  removeAlias(alias: string): Promise<boolean>;
  listSettings(): Promise<readonly ModelSettings[]>;
  findSettings(model: string): Promise<ModelSettings | null>;
  updateSettings(model: string, patch: ModelSettingsPatch): Promise<ModelSettings>;
  removeSettings(model: string): Promise<boolean>;
}

/** How many aliases may chain (alias → alias → model) before resolution gives up. */
export const MAX_ALIAS_DEPTH = 8;

export function createModelRegistryRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ModelRegistryRepository {
  return {
    async listUpstreams() {
      const rows = await db
        .selectFrom('upstreams')
        .selectAll()
        .orderBy('created_at')
        .orderBy('name')
        .execute();
      return rows.map(toUpstream);
    },

    async putUpstream(params) {
      const at = now();
      const row = {
        name: params.name,
        base_url: params.baseUrl,
        api_key_sealed: params.apiKey,
        prefix: params.prefix,
        models: params.models === null ? null : JSON.stringify(params.models),
        timeout_ms: params.timeoutMs,
        max_concurrency: params.maxConcurrency,
        max_retries: params.maxRetries,
        created_at: at,
        updated_at: at,
      };
      const { created_at: _created, name: _name, ...changes } = row;
      await db
        .insertInto('upstreams')
        .values(row)
        .onConflict((conflict) => conflict.column('name').doUpdateSet(changes))
        .execute();
      const stored = await db
        .selectFrom('upstreams')
        .selectAll()
        .where('name', '=', params.name)
        .executeTakeFirstOrThrow();
      return toUpstream(stored);
    },

    async removeUpstream(name) {
      const result = await db.deleteFrom('upstreams').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async listAliases() {
      const rows = await db.selectFrom('model_aliases').selectAll().orderBy('alias').execute();
      return rows.map(toAlias);
    },

    async setAlias({ alias, target, nextTarget = null, switchAt = null }) {
      if ((nextTarget === null) !== (switchAt === null)) {
        throw new InvalidRequestError('A scheduled switch needs both the next target and the date.', {
          param: nextTarget === null ? 'next_target' : 'switch_at',
        });
      }
      if (target === alias || nextTarget === alias) {
        throw new InvalidRequestError(`The alias \`${alias}\` cannot point at itself.`, { param: 'target' });
      }
      return inTransaction(db, async (trx) => {
        const existing = new Map(
          (await trx.selectFrom('model_aliases').selectAll().execute()).map((row) => [row.alias, row]),
        );
        for (const start of [target, nextTarget]) {
          if (start !== null) checkNoCycle({ alias, start, aliases: existing });
        }
        const at = now();
        const row = {
          alias,
          target,
          next_target: nextTarget,
          switch_at: switchAt,
          created_at: existing.get(alias)?.created_at ?? at,
          updated_at: at,
        };
        await trx
          .insertInto('model_aliases')
          .values(row)
          .onConflict((conflict) =>
            conflict
              .column('alias')
              .doUpdateSet({ target, next_target: nextTarget, switch_at: switchAt, updated_at: at }),
          )
          .execute();
        return toAlias(row);
      });
    },

    async removeAlias(alias) {
      const result = await db.deleteFrom('model_aliases').where('alias', '=', alias).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async listSettings() {
      const rows = await db.selectFrom('model_settings').selectAll().orderBy('model').execute();
      return rows.map(toSettings);
    },

    async findSettings(model) {
      const row = await db
        .selectFrom('model_settings')
        .selectAll()
        .where('model', '=', model)
        .executeTakeFirst();
      return row ? toSettings(row) : null;
    },

    async updateSettings(model, patch) {
      checkPatch(patch);
      return inTransaction(db, async (trx) => {
        const current = await trx
          .selectFrom('model_settings')
          .selectAll()
          .where('model', '=', model)
          .executeTakeFirst();
        const at = now();
        const merged = {
          context_length: pick(patch.contextLength, current?.context_length ?? null),
          capabilities:
            patch.capabilities === undefined
              ? (current?.capabilities ?? null)
              : Object.keys(patch.capabilities).length === 0
                ? null
                : JSON.stringify(patch.capabilities),
          input_price_per_1k: pick(patch.inputPricePer1k, current?.input_price_per_1k ?? null),
          output_price_per_1k: pick(patch.outputPricePer1k, current?.output_price_per_1k ?? null),
          deprecated_at: pick(patch.deprecatedAt, current?.deprecated_at ?? null),
          shutdown_at: pick(patch.shutdownAt, current?.shutdown_at ?? null),
          replacement: pick(patch.replacement, current?.replacement ?? null),
          fallbacks:
            patch.fallbacks === undefined
              ? (current?.fallbacks ?? null)
              : patch.fallbacks.length === 0
                ? null
                : JSON.stringify(patch.fallbacks),
          updated_at: at,
        };
        const row = { model, ...merged, created_at: current?.created_at ?? at };
        await trx
          .insertInto('model_settings')
          .values(row)
          .onConflict((conflict) => conflict.column('model').doUpdateSet(merged))
          .execute();
        return toSettings(row);
      });
    },

    async removeSettings(model) {
      const result = await db.deleteFrom('model_settings').where('model', '=', model).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function pick<Value>(patched: Value | null | undefined, current: Value | null): Value | null {
  return patched === undefined ? current : patched;
}

function checkPatch(patch: ModelSettingsPatch): void {
  for (const [field, value] of [
    ['input_price_per_1k', patch.inputPricePer1k],
    ['output_price_per_1k', patch.outputPricePer1k],
  ] as const) {
    if (value !== undefined && value !== null && !(Number.isFinite(value) && value >= 0)) {
      throw new InvalidRequestError(`'${field}' must be a price of 0 or more.`, { param: field });
    }
  }
  if (
    patch.contextLength !== undefined &&
    patch.contextLength !== null &&
    !(Number.isSafeInteger(patch.contextLength) && patch.contextLength > 0)
  ) {
    throw new InvalidRequestError("'context_length' must be a positive integer.", {
      param: 'context_length',
    });
  }
}

/** Following `start` through the aliases must not lead back to `alias`. */
function checkNoCycle({
  alias,
  start,
  aliases,
}: {
  alias: string;
  start: string;
  aliases: ReadonlyMap<string, Selectable<ModelAliasesTable>>;
}): void {
  const seen = new Set<string>([alias]);
  const queue = [start];
  for (let depth = 0; queue.length > 0; depth++) {
    const id = queue.shift()!;
    if (seen.has(id)) {
      throw new ConflictError(`The alias \`${alias}\` would point back at itself through \`${id}\`.`, {
        param: 'target',
      });
    }
    seen.add(id);
    const next = aliases.get(id);
    if (!next) continue;
    if (depth >= MAX_ALIAS_DEPTH) {
      throw new ConflictError(`Aliases may chain at most ${MAX_ALIAS_DEPTH} deep.`, { param: 'target' });
    }
    queue.push(next.target);
    if (next.next_target !== null) queue.push(next.next_target);
  }
}

function toUpstream(row: Selectable<UpstreamsTable>): StoredUpstream {
  return {
    name: row.name,
    baseUrl: row.base_url,
    apiKey: row.api_key_sealed as SealedSecret | null,
    prefix: row.prefix,
    models: row.models === null ? null : stringList(row.models),
    timeoutMs: row.timeout_ms,
    maxConcurrency: row.max_concurrency,
    maxRetries: row.max_retries,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAlias(row: Selectable<ModelAliasesTable>): ModelAlias {
  return {
    alias: row.alias,
    target: row.target,
    nextTarget: row.next_target,
    switchAt: row.switch_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSettings(row: Selectable<ModelSettingsTable>): ModelSettings {
  return {
    model: row.model,
    contextLength: row.context_length,
    capabilities: row.capabilities === null ? {} : booleanRecord(row.capabilities),
    inputPricePer1k: row.input_price_per_1k,
    outputPricePer1k: row.output_price_per_1k,
    deprecatedAt: row.deprecated_at,
    shutdownAt: row.shutdown_at,
    replacement: row.replacement,
    fallbacks: row.fallbacks === null ? [] : stringList(row.fallbacks),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// JSON columns are read defensively: a row written by a newer version must not crash this one.
function stringList(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function booleanRecord(text: string): Record<string, boolean> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, boolean] => typeof entry[1] === 'boolean'),
    );
  } catch {
    return {};
  }
}
