// Every GPT as a model: `POST /v1/chat/completions` with `model: "gpt-<id>"` (or
// `"gpt-<id>:draft"`, its builder's preview) is answered by the GPT, with its instructions,
// knowledge and capabilities applied here, on the model the GPT runs on. Any other model name
// goes on to the ordinary dispatch. Who may not chat with the GPT gets the 404 of an unknown model.
import {
  ChatCompletionCreateParams,
  type GptReference,
  gptModelName,
  newId,
  parseGptModelName,
} from '@atelier/protocol';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { InvalidRequestError, NotFoundError, ServiceUnavailableError } from '../../errors.js';
import type { ModelRegistry } from '../../inference/model-registry.js';
import type { ActionsService } from '../../platform/actions-service.js';
import { type PendingAction, runGptChat } from '../../platform/gpts-chat.js';
import type { GptsService } from '../../platform/gpts-service.js';
import type { UsageLedger } from '../../platform/usage-ledger.js';
import type { BuiltInTools } from '../../tools/spec.js';
import { abortOnClose } from '../abort-on-close.js';
import { fromWireChat } from '../from-wire-chat.js';
import { findModelField } from '../json-model-field.js';
import { parseBody } from '../parse.js';
import type { ParseJson } from '../raw-json-body.js';
import { streamSse } from '../stream-sse.js';
import { collectChatCompletion, toChatChunks } from '../to-wire-chat.js';
import { toWirePendingAction } from '../to-wire-pending-action.js';

export interface GptChatServices {
  readonly gpts: GptsService;
  readonly tools: BuiltInTools;
  /** GPT actions, called server-side for the person chatting (absent: GPTs offer none). */
  readonly actions?: ActionsService | undefined;
  /** Where each model turn is counted (none: not counted). */
  readonly usage?: UsageLedger | undefined;
}

/** Wraps the chat-completions handler: GPT model names are served here, the rest by `next`. */
export function withGptModels({
  services,
  registry,
  parseJson,
  next,
}: {
  services: GptChatServices;
  registry: ModelRegistry;
  parseJson: ParseJson;
  next: RouteHandlerMethod;
}): RouteHandlerMethod {
  return async function dispatchGpt(this: unknown, request, reply) {
    const bytes = Buffer.isBuffer(request.body) ? request.body : undefined;
    const field = bytes ? findModelField(bytes) : undefined;
    let model: string | undefined;
    let json: unknown;
    if (field?.kind === 'string') model = field.value;
    else if (bytes && field === undefined) {
      // Not a plain object with one string `model` (or none at all): let the full parser decide.
      json = parseJson(bytes);
      const named = (json as { model?: unknown } | null | undefined)?.model;
      if (typeof named === 'string') model = named;
    }
    const reference = model === undefined ? null : parseGptModelName(model);
    if (!reference || model === undefined) return next.call(this as never, request, reply);
    return serveGpt({
      services,
      registry,
      reference,
      modelName: model,
      json: json ?? (bytes ? parseJson(bytes) : request.body),
      request,
      reply,
    });
  };
}

async function serveGpt({
  services,
  registry,
  reference,
  modelName,
  json,
  request,
  reply,
}: {
  services: GptChatServices;
  registry: ModelRegistry;
  reference: GptReference;
  modelName: string;
  json: unknown;
  request: FastifyRequest;
  reply: FastifyReply;
}): Promise<unknown> {
  const principal = request.principal!;
  const viewer = await services.gpts.viewer({
    accountId: principal.accountId,
    workspaceId: principal.workspaceId,
  });
  const target = await services.gpts.chatTarget({ viewer, gptId: reference.gptId, draft: reference.draft });
  if (!target) {
    throw new NotFoundError(`The model \`${modelName}\` does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
  const params = parseBody(ChatCompletionCreateParams, json);
  if ((params.n ?? 1) !== 1) {
    throw new InvalidRequestError('A GPT answers with one choice: `n` must be 1.', { param: 'n' });
  }
  const info = registry.find(target.config.model);
  if (!info?.capabilities.chat) {
    // Which model a GPT runs on is its builder's business: the error does not name it.
    throw new ServiceUnavailableError(
      `The model this GPT runs on is not served now. ${target.version === null ? 'Choose another one in its configuration.' : 'Its builder can choose another one.'}`,
      // Until an operator serves it or the builder changes it: retrying now only repeats this.
      { retry: false },
    );
  }
  const model = registry.languageModel(info.id);
  const abort = abortOnClose(reply);
  const plan = fromWireChat(params, { model: info, signal: abort.signal });
  const identity = {
    id: newId('chatCompletion', 29),
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    systemFingerprint: info.fingerprint,
  };
  reply.raw.setHeader('x-atelier-model', modelName);
  // Whoever keeps this conversation keeps the builder's training choice with it.
  reply.raw.setHeader('x-atelier-allow-training', String(target.allowTraining));
  const pending: PendingAction[] = [];
  const events = runGptChat({
    target,
    model,
    request: plan.request,
    tools: services.tools,
    callerWorkspaceId: principal.workspaceId,
    sessionId: identity.id,
    // The caller's usage, as any chat completion of theirs: counted in their workspace, against
    // their key, under the GPT's model name (which model it runs on is its builder's business).
    onTurnUsage: (used) =>
      services.usage?.record({
        principal,
        model: gptModelName(target.gpt.id),
        endpoint: 'chat/completions',
        inputTokens: used.promptTokens,
        cachedInputTokens: used.cachedPromptTokens,
        outputTokens: used.completionTokens,
        estimated: used.estimated ?? false,
      }),
    actions: services.actions
      ? {
          service: services.actions,
          accountId: principal.accountId,
          onPending: (action) => pending.push(action),
        }
      : undefined,
  });
  const options = { identity, n: 1, logprobs: !!params.logprobs, legacyFunctions: plan.legacyFunctions };
  if (params.stream) {
    return streamSse({
      reply,
      abort,
      events,
      render: async function* (source) {
        yield* toChatChunks({
          events: source,
          ...options,
          includeUsage: !!params.stream_options?.include_usage,
        });
        // Calls held back for the person's answer come last, in a chunk without choices (as the
        // usage chunk is), so a streaming client learns what to ask before sending again.
        if (pending.length > 0) {
          yield {
            id: identity.id,
            object: 'chat.completion.chunk' as const,
            created: identity.created,
            model: identity.model,
            system_fingerprint: identity.systemFingerprint,
            choices: [],
            atelier_pending_actions: pending.map(toWirePendingAction),
          };
        }
      },
    });
  }
  const completion = await collectChatCompletion({ events, ...options });
  if (pending.length === 0) return completion;
  // Calls held back for the person's answer: the client asks them (POST /api/gpts/{id}/consents,
  // or the OAuth sign-in) and sends the conversation again. Streams end with them (above).
  const held = pending.map(toWirePendingAction);
  reply.header(
    'x-atelier-pending-actions',
    held.map((action) => `${action.type};action_id=${action.action_id};domain=${action.domain}`).join(', '),
  );
  return { ...completion, atelier_pending_actions: held };
}
