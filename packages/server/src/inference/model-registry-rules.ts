// What an operator decides about models, beyond what providers report: aliases that move on a
// date, deprecations with shutdown dates, capability and context overrides, prices, fallbacks.
// Types only: they are stored by storage/ (the model registry tables) and applied by ModelRegistry.

export interface AliasRule {
  readonly alias: string;
  readonly target: string;
  /** From `switchAt` (unix seconds) on, the alias points at `nextTarget`. */
  readonly nextTarget: string | null;
  readonly switchAt: number | null;
}

export interface ModelRule {
  /** A model id or an alias. */
  readonly model: string;
  readonly contextLength: number | null;
  /** Overrides by capability name (tools, vision, json, embeddings, chat, completions). */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /** USD per 1K tokens. */
  readonly inputPricePer1k: number | null;
  readonly outputPricePer1k: number | null;
  readonly deprecatedAt: number | null;
  readonly shutdownAt: number | null;
  readonly replacement: string | null;
  /** Tried in order when the model's upstream fails before the first byte. */
  readonly fallbacks: readonly string[];
}

export interface RegistryRules {
  readonly aliases: readonly AliasRule[];
  readonly models: readonly ModelRule[];
}

export const NO_RULES: RegistryRules = Object.freeze({ aliases: [], models: [] });
