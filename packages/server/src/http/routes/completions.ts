// POST /v1/completions (legacy text completions): upstream models by pass-through (see
// model-dispatch.ts); local ones here: prompts × n choices, echo, logprobs, stop.
import { type Completion, CompletionCreateParams, newId } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { type CompletionEvent, runCompletion } from '../../engine/chat-completion.js';
import { mergeStreams } from '../../engine/merge-streams.js';
import { estimateUsage } from '../../inference/estimate-usage.js';
import type { ModelRegistry } from '../../inference/model-registry.js';
import type { LanguageModel, TokenLogprob, Usage } from '../../inference/spec.js';
import type { UsageLedger } from '../../platform/usage-ledger.js';
import { abortOnClose } from '../abort-on-close.js';
import { fromWireCompletion } from '../from-wire-chat.js';
import { dispatchByModel, type LocalRequest } from '../model-dispatch.js';
import { parseBody } from '../parse.js';
import { acceptRawJson } from '../raw-json-body.js';
import { streamSse } from '../stream-sse.js';
import { toCompletionLogprobs, toWireUsage } from '../to-wire-chat.js';
import { meterEvents } from '../usage-meter.js';

export function registerCompletions(
  app: FastifyInstance,
  { registry, usage = undefined }: { registry: ModelRegistry; usage?: UsageLedger | undefined },
): void {
  void app.register(async (scope) => {
    const parseJson = acceptRawJson(scope);
    scope.post(
      '/v1/completions',
      dispatchByModel({
        registry,
        endpoint: 'completions',
        parseJson,
        serveLocally: (local) => serveLocally(registry, local),
        usage,
      }),
    );
  });
}

async function serveLocally(
  registry: ModelRegistry,
  { json, route, reply, recordUsage }: LocalRequest,
): Promise<unknown> {
  const params = parseBody(CompletionCreateParams, json);
  const { info, id } = route ?? registry.route(params.model);
  const model = registry.languageModel(id);
  const abort = abortOnClose(reply);
  const { requests, n } = fromWireCompletion(params, { signal: abort.signal });
  const echoes = params.echo
    ? await Promise.all(
        requests.map((one) => promptText(model, one.input.type === 'text' ? one.input.prompt : '')),
      )
    : requests.map(() => '');
  const streams = requests.map((one, promptIndex) =>
    remapChoices(runCompletion({ model, request: one, n }), promptIndex * n),
  );
  const events = meterEvents(
    streams.length === 1 ? streams[0]! : sumUsage(mergeStreams(streams)),
    (used) => recordUsage(info.id, used),
    // Every prompt's tokens once (however many choices each got), and what was written.
    async (written) => {
      const each = await Promise.all(requests.map((one) => estimateUsage(model, one, '')));
      return {
        promptTokens: each.reduce((sum, usage) => sum + usage.promptTokens, 0),
        completionTokens: written === '' ? 0 : (await model.tokenize(written)).length,
        cachedPromptTokens: 0,
        estimated: true,
      };
    },
  );
  const base = {
    id: newId('completion', 29),
    object: 'text_completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: info.id,
    system_fingerprint: info.fingerprint,
  };
  const echoFor = (choice: number) => echoes[Math.floor(choice / n)] ?? '';
  const wantLogprobs = params.logprobs !== undefined && params.logprobs !== null;

  if (params.stream) {
    const includeUsage = !!params.stream_options?.include_usage;
    return streamSse({
      reply,
      abort,
      events,
      render: async function* (source: AsyncIterable<CompletionEvent>) {
        const echoed = new Set<number>();
        const offsets = new Map<number, number>();
        const chunk = (
          choice: number,
          text: string,
          logprobs: readonly TokenLogprob[] | undefined,
          finish: 'stop' | 'length' | null,
        ) => {
          const offset = offsets.get(choice) ?? 0;
          offsets.set(choice, offset + text.length);
          return {
            ...base,
            choices: [
              {
                index: choice,
                text,
                logprobs: wantLogprobs ? toCompletionLogprobs(logprobs ?? [], offset) : null,
                finish_reason: finish,
              },
            ],
            ...(includeUsage ? { usage: null } : {}),
          };
        };
        for await (const event of source) {
          if ((event.type === 'text' || event.type === 'choice-finish') && !echoed.has(event.choice)) {
            echoed.add(event.choice);
            const echo = echoFor(event.choice);
            if (echo) yield chunk(event.choice, echo, undefined, null);
          }
          if (event.type === 'text' && (event.text || event.logprobs)) {
            yield chunk(event.choice, event.text, event.logprobs, null);
          } else if (event.type === 'choice-finish') {
            yield chunk(event.choice, '', undefined, event.reason === 'length' ? 'length' : 'stop');
          } else if (event.type === 'usage' && includeUsage) {
            yield { ...base, choices: [], usage: toWireUsage(event.usage) };
          }
        }
      },
    });
  }

  const total = requests.length * n;
  const texts = Array.from({ length: total }, (_, choice) => echoFor(choice));
  const logprobs: TokenLogprob[][] = Array.from({ length: total }, () => []);
  const finish: ('stop' | 'length')[] = Array.from({ length: total }, () => 'stop');
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for await (const event of events) {
    if (event.type === 'text') {
      texts[event.choice] += event.text;
      if (event.logprobs) logprobs[event.choice]!.push(...event.logprobs);
    } else if (event.type === 'choice-finish')
      finish[event.choice] = event.reason === 'length' ? 'length' : 'stop';
    else if (event.type === 'usage') usage = event.usage;
  }
  const completion: Completion = {
    ...base,
    choices: texts.map((text, index) => ({
      index,
      text,
      logprobs: wantLogprobs ? toCompletionLogprobs(logprobs[index]!, echoFor(index).length) : null,
      finish_reason: finish[index]!,
    })),
    usage: toWireUsage(usage),
  };
  return completion;
}

/** Usage of every prompt is summed into one final usage event. */
async function* remapChoices(
  events: AsyncIterable<CompletionEvent>,
  offset: number,
): AsyncGenerator<CompletionEvent> {
  for await (const event of events) {
    yield event.type === 'usage' ? event : { ...event, choice: event.choice + offset };
  }
}

/** Several prompts: one usage event at the end, summed. */
async function* sumUsage(events: AsyncIterable<CompletionEvent>): AsyncGenerator<CompletionEvent> {
  const total = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, estimated: false };
  for await (const event of events) {
    if (event.type !== 'usage') {
      yield event;
      continue;
    }
    if (event.usage.estimated) total.estimated = true;
    total.promptTokens += event.usage.promptTokens;
    total.completionTokens += event.usage.completionTokens;
    total.cachedPromptTokens += event.usage.cachedPromptTokens;
  }
  yield { type: 'usage', usage: total };
}

async function promptText(model: LanguageModel, prompt: string | readonly number[]): Promise<string> {
  return typeof prompt === 'string' ? prompt : model.detokenize(prompt);
}
