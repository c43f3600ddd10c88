// One handler shape for the routes that serve a model (chat completions, completions,
// embeddings): read the body's `model` without parsing the body, route it through the registry
// (aliases, deprecations), then either pass the request through to the model's upstream (body
// forwarded with the model name swapped, answer relayed byte for byte) or serve it locally through
// the engine. An upstream that fails before the first byte (no answer, or 429/5xx after its
// retries) hands over to the next of the model's fallbacks.
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ModelRegistry, ModelRoute } from '../inference/model-registry.js';
import type { PassThroughCall, PassThroughEndpoint, PassThroughResponse, Usage } from '../inference/spec.js';
import type { UsageLedger } from '../platform/usage-ledger.js';
import { findModelField, type ModelField, withModel } from './json-model-field.js';
import type { ParseJson } from './raw-json-body.js';
import { relayUpstreamResponse } from './relay-upstream-response.js';
import { UpstreamUsage } from './usage-meter.js';

export interface LocalRequest {
  /** The parsed body, not yet validated. */
  readonly json: unknown;
  /** Undefined when the body names no usable model: validation then reports it. */
  readonly route: ModelRoute | undefined;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /** Counts what the request used, in the usage ledger (the served model's id). */
  readonly recordUsage: (model: string, usage: Usage) => void;
}

export interface DispatchOptions {
  readonly registry: ModelRegistry;
  readonly endpoint: PassThroughEndpoint;
  readonly parseJson: ParseJson;
  /** Serves a model Atelier runs itself (validation, engine, rendering). */
  readonly serveLocally: (local: LocalRequest) => Promise<unknown>;
  /** Where what each request used is counted (none: not counted). */
  readonly usage?: UsageLedger | undefined;
}

export function dispatchByModel({
  registry,
  endpoint,
  parseJson,
  serveLocally: serve,
  usage = undefined,
}: DispatchOptions): RouteHandlerMethod {
  const serveLocally = (local: Omit<LocalRequest, 'recordUsage'>) =>
    serve({
      ...local,
      recordUsage: (model, used) => {
        const principal = local.request.principal;
        if (!usage || !principal) return;
        usage.record({
          principal,
          model,
          endpoint,
          inputTokens: used.promptTokens,
          cachedInputTokens: used.cachedPromptTokens,
          outputTokens: used.completionTokens,
          estimated: used.estimated ?? false,
        });
      },
    });
  return async function dispatch(request, reply) {
    const bytes = Buffer.isBuffer(request.body) ? request.body : undefined;
    let field: ModelField | undefined = bytes ? findModelField(bytes) : undefined;
    let json: unknown;
    let model: string;
    if (field?.kind === 'string') model = field.value;
    else {
      // Not a plain object with one string `model`: parse it all, as the local path would.
      json = bytes ? parseJson(bytes) : request.body;
      const named = (json as { model?: unknown } | null | undefined)?.model;
      if (typeof named !== 'string') return serveLocally({ json, route: undefined, request, reply });
      model = named;
      field = undefined;
    }

    const route = registry.route(model);
    if (!route.passThrough) {
      setHeaders(reply, routeHeaders(route));
      json ??= bytes ? parseJson(bytes) : request.body;
      return serveLocally({ json, route, request, reply });
    }

    const candidates =
      route.fallbacks.length === 0 ? [route] : [route, ...fallbackRoutes(registry, route, request)];
    // The client leaving while the upstream is asked cancels the call (and its retries).
    let call: PassThroughCall | undefined;
    const raw = reply.raw;
    let gone = false;
    const onClose = () => {
      gone = true;
      call?.cancel();
    };
    raw.once('close', onClose);
    try {
      for (let index = 0; index < candidates.length; index++) {
        const candidate = candidates[index]!;
        const last = index === candidates.length - 1;
        const passThrough = candidate.passThrough;
        if (!passThrough) {
          setHeaders(reply, routeHeaders(route, candidate));
          json ??= bytes ? parseJson(bytes) : request.body;
          return serveLocally({ json, route: candidate, request, reply });
        }
        const body =
          field?.kind === 'string' && bytes
            ? withModel(bytes, field, passThrough.upstreamModel)
            : Buffer.from(JSON.stringify({ ...(json as object), model: passThrough.upstreamModel }));
        call = passThrough.start({ endpoint, body });
        let response: PassThroughResponse;
        try {
          response = await call.response;
        } catch (error) {
          if (gone) return clientGone(reply);
          if (last) throw error;
          request.log.warn(
            { model: candidate.id, next: candidates[index + 1]!.id, err: (error as Error).message },
            'upstream failed before the first byte; trying the fallback',
          );
          continue;
        }
        if (gone) {
          response.destroy();
          return clientGone(reply);
        }
        if (!last && (response.status === 429 || response.status >= 500)) {
          response.discard();
          request.log.warn(
            { model: candidate.id, next: candidates[index + 1]!.id, status: response.status },
            'upstream failed before the first byte; trying the fallback',
          );
          continue;
        }
        const headers = routeHeaders(route, candidate);
        const principal = request.principal;
        if (!usage || !principal || response.status < 200 || response.status >= 300)
          return relayUpstreamResponse({ reply, response, headers });
        // Seen as it passes, read once it went out: see usage-meter.ts.
        const used = new UpstreamUsage();
        return relayUpstreamResponse({
          reply,
          response,
          headers,
          inspect: used.inspect,
          ended: () =>
            usage.record({ principal, model: candidate.id, endpoint, ...used.tokens({ requestBody: body }) }),
        });
      }
    } finally {
      raw.off('close', onClose);
    }
    // Unreachable: the last candidate either returns or throws.
    return clientGone(reply);
  };
}

/** The fallbacks that resolve now (a fallback may itself be shut down or gone: skipped). */
function fallbackRoutes(registry: ModelRegistry, route: ModelRoute, request: FastifyRequest): ModelRoute[] {
  const routes: ModelRoute[] = [];
  for (const id of route.fallbacks) {
    if (id === route.id) continue;
    try {
      routes.push(registry.route(id));
    } catch (error) {
      request.log.warn(
        { model: route.id, fallback: id, err: (error as Error).message },
        'fallback unavailable',
      );
    }
  }
  return routes;
}

/**
 * Atelier's headers for a routed request, as a flat name/value list: which model answered (after
 * aliases and fallbacks) and, while it is deprecated, its Deprecation and Sunset dates.
 */
function routeHeaders(route: ModelRoute, served: ModelRoute = route): string[] {
  const headers = [
    'x-atelier-model',
    /^[\x20-\x7e]*$/.test(served.id) ? served.id : encodeURIComponent(served.id),
  ];
  const deprecation = route.deprecation;
  if (deprecation) {
    headers.push('deprecation', deprecation.deprecationHeader);
    if (deprecation.sunsetHeader) headers.push('sunset', deprecation.sunsetHeader);
  }
  return headers;
}

/** On the raw response, so they survive both Fastify's send and the SSE writer's writeHead. */
function setHeaders(reply: FastifyReply, headers: readonly string[]): void {
  for (let index = 0; index + 1 < headers.length; index += 2)
    reply.raw.setHeader(headers[index]!, headers[index + 1]!);
}

/** The client left while the upstream was being asked: nothing to answer, nobody to answer to. */
function clientGone(reply: FastifyReply): FastifyReply {
  reply.hijack();
  if (!reply.raw.destroyed) reply.raw.destroy();
  return reply;
}
