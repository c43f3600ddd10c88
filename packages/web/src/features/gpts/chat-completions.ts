// Chat completions from the page, as any OpenAI client makes them: `POST /v1/chat/completions`
// with the session, streamed (a GPT's answer, the builder's reply) or whole (the builder's forced
// `update_gpt` call). The stream is read chunk by chunk into text deltas.
import { ApiError, authHeaders, SIGNED_OUT_EVENT, toApiError } from '../../api/http';
import { readSseEvents } from '../chat/sse';
import type { PendingAction } from './actions-api';

export interface ToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | {
      readonly role: 'assistant';
      readonly content: string | null;
      readonly tool_calls?: readonly ToolCall[];
    }
  | { readonly role: 'tool'; readonly tool_call_id: string; readonly content: string };

export interface FunctionTool {
  readonly type: 'function';
  readonly function: {
    readonly name: string;
    readonly description: string;
    readonly parameters: Record<string, unknown>;
  };
}

export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly FunctionTool[];
  readonly tool_choice?: 'none' | 'auto' | { readonly type: 'function'; readonly function: { name: string } };
  readonly max_tokens?: number;
}

async function post(body: unknown, signal: AbortSignal | undefined): Promise<Response> {
  const response = await fetch('/v1/chat/completions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
  if (!response.ok) {
    const error = await toApiError(response);
    if (error.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw error;
  }
  return response;
}

/** One whole completion: the first choice's message. */
export async function complete(
  request: CompletionRequest,
  { signal }: { signal?: AbortSignal } = {},
): Promise<{ content: string | null; tool_calls?: readonly ToolCall[] }> {
  const response = await post({ ...request, stream: false }, signal);
  const body = (await response.json()) as {
    choices?: { message?: { content: string | null; tool_calls?: ToolCall[] } }[];
  };
  return body.choices?.[0]?.message ?? { content: null };
}

/**
 * Streams the first choice's text; each yielded string is the next piece of it. A GPT's stream
 * may end with a chunk without choices naming the action calls it held back (`onPending`).
 */
export async function* streamText(
  request: CompletionRequest,
  {
    signal,
    onPending,
  }: { signal?: AbortSignal; onPending?: (pending: readonly PendingAction[]) => void } = {},
): AsyncGenerator<string> {
  const response = await post({ ...request, stream: true }, signal);
  if (!response.body) return;
  for await (const data of readSseData(response.body)) {
    if (data === '[DONE]') return;
    const pending = pendingActionsOf(data);
    if (pending.length > 0) onPending?.(pending);
    const chunk = parseChunk(data);
    if (chunk.error) throw new ApiError(chunk.error, { status: 500, code: null, param: null });
    if (chunk.text) yield chunk.text;
  }
}

/** A chunk's text, or the error a stream reports after it started. */
export function parseChunk(data: string): { text: string; error: string | null } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { text: '', error: null };
  }
  const chunk = value as {
    error?: { message?: string };
    choices?: { delta?: { content?: string | null } }[];
  } | null;
  if (chunk?.error) return { text: '', error: chunk.error.message ?? 'The answer failed.' };
  return { text: chunk?.choices?.[0]?.delta?.content ?? '', error: null };
}

/** The `atelier_pending_actions` a chunk carries (none for ordinary chunks). */
export function pendingActionsOf(data: string): readonly PendingAction[] {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return [];
  }
  const pending = (value as { atelier_pending_actions?: unknown } | null)?.atelier_pending_actions;
  if (!Array.isArray(pending)) return [];
  return pending.filter(
    (item): item is PendingAction =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as PendingAction).action_id === 'string' &&
      typeof (item as PendingAction).domain === 'string' &&
      ((item as PendingAction).type === 'consent_required' ||
        (item as PendingAction).type === 'oauth_required'),
  );
}

/** The `data:` payloads of a server-sent events body, in order. */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  for await (const event of readSseEvents(body)) yield event.data;
}
