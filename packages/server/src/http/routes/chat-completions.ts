// POST /v1/chat/completions: upstream models by pass-through, local models through the engine
// (see model-dispatch.ts).
import { ChatCompletionCreateParams, newId } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { runCompletion } from '../../engine/chat-completion.js';
import { estimateUsage } from '../../inference/estimate-usage.js';
import type { ModelRegistry } from '../../inference/model-registry.js';
import type { UsageLedger } from '../../platform/usage-ledger.js';
import { abortOnClose } from '../abort-on-close.js';
import { fromWireChat } from '../from-wire-chat.js';
import { dispatchByModel, type LocalRequest } from '../model-dispatch.js';
import { parseBody } from '../parse.js';
import { acceptRawJson } from '../raw-json-body.js';
import { streamSse } from '../stream-sse.js';
import { collectChatCompletion, toChatChunks } from '../to-wire-chat.js';
import { meterEvents } from '../usage-meter.js';
import { type GptChatServices, withGptModels } from './gpts-chat-completions.js';

export function registerChatCompletions(
  app: FastifyInstance,
  {
    registry,
    gpts = undefined,
    usage = undefined,
  }: { registry: ModelRegistry; gpts?: GptChatServices | undefined; usage?: UsageLedger | undefined },
): void {
  void app.register(async (scope) => {
    const parseJson = acceptRawJson(scope);
    const dispatch = dispatchByModel({
      registry,
      endpoint: 'chat/completions',
      parseJson,
      serveLocally: (local) => serveLocally(registry, local),
      usage,
    });
    // `gpt-<id>` names a GPT (gpts-chat-completions.ts); every other name is dispatched as usual.
    scope.post(
      '/v1/chat/completions',
      gpts ? withGptModels({ services: gpts, registry, parseJson, next: dispatch }) : dispatch,
    );
  });
}

async function serveLocally(
  registry: ModelRegistry,
  { json, route, reply, recordUsage }: LocalRequest,
): Promise<unknown> {
  const params = parseBody(ChatCompletionCreateParams, json);
  const { info, id } = route ?? registry.route(params.model);
  const model = registry.languageModel(id);
  const abort = abortOnClose(reply);
  const plan = fromWireChat(params, { model: info, signal: abort.signal });
  const identity = {
    id: newId('chatCompletion', 29),
    created: Math.floor(Date.now() / 1000),
    model: info.id,
    systemFingerprint: info.fingerprint,
  };
  const events = meterEvents(
    runCompletion({ model, request: plan.request, n: plan.n }),
    (used) => recordUsage(info.id, used),
    (written) => estimateUsage(model, plan.request, written),
  );
  const options = {
    identity,
    n: plan.n,
    logprobs: !!params.logprobs,
    legacyFunctions: plan.legacyFunctions,
  };
  if (params.stream) {
    return streamSse({
      reply,
      abort,
      events,
      render: (source) =>
        toChatChunks({ events: source, ...options, includeUsage: !!params.stream_options?.include_usage }),
    });
  }
  return collectChatCompletion({ events, ...options });
}
