// What the Assistants routes (assistants, threads, messages, runs, steps) need from the server.
import type { ModelLookup } from '../../engine/assistant-checks.js';
import type { RunEngine } from '../../engine/run-engine.js';
import type { Repositories } from '../../storage/repositories.js';
import type { BuiltInTools } from '../../tools/spec.js';

export interface AssistantsRouteServices {
  readonly repositories: Repositories;
  readonly engine: RunEngine;
  readonly models: ModelLookup;
  readonly tools: BuiltInTools;
  /** The `openai-poll-after-ms` hint on runs still queued or in progress (SDK poll helpers follow it). */
  readonly pollAfterMs?: number;
}
