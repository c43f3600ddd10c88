// Everything the chat reads and writes on the server, in one place: history under /api/chats,
// models and streamed answers from /v1 (signed in by the session cookie + CSRF header). When
// web chats move to Assistants threads and runs, this module is what changes; the screens keep
// using these functions and types.
import { ApiError, api, authHeaders, SIGNED_OUT_EVENT, toApiError } from '../../api/http';
import type { ListPage, Model } from '../../api/types';
import { readSseData } from './sse';

export type NodeStatus = 'complete' | 'stopped' | 'failed' | 'streaming';

/** One message in a chat's tree; `parentId` links it to the message it answers or follows. */
export interface ChatNode {
  readonly id: string;
  readonly parentId: string | null;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly model: string | null;
  readonly status: NodeStatus;
  readonly createdAt: number;
}

export interface ChatSummary {
  readonly id: string;
  readonly title: string;
  readonly temporary: boolean;
  readonly updatedAt: number;
}

export interface ChatRecord extends ChatSummary {
  readonly model: string | null;
  readonly nodes: readonly ChatNode[];
  readonly currentNodeId: string | null;
}

interface WireMessage {
  id: string;
  parent_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  model: string | null;
  status: 'complete' | 'stopped' | 'failed';
  created_at: number;
}

interface WireChat {
  id: string;
  title: string;
  temporary: boolean;
  model: string | null;
  updated_at: number;
  messages?: WireMessage[];
  current_node_id?: string | null;
}

const toSummary = (chat: WireChat): ChatSummary => ({
  id: chat.id,
  title: chat.title,
  temporary: chat.temporary,
  updatedAt: chat.updated_at,
});

const toRecord = (chat: WireChat): ChatRecord => ({
  ...toSummary(chat),
  model: chat.model,
  currentNodeId: chat.current_node_id ?? null,
  nodes: (chat.messages ?? []).map((message) => ({
    id: message.id,
    parentId: message.parent_id,
    role: message.role,
    content: message.content,
    model: message.model,
    status: message.status,
    createdAt: message.created_at,
  })),
});

const toWireMessage = (node: ChatNode): WireMessage => ({
  id: node.id,
  parent_id: node.parentId,
  role: node.role,
  content: node.content,
  model: node.model,
  // An answer still streaming when saved is, as far as the record goes, cut short.
  status: node.status === 'streaming' ? 'stopped' : node.status,
  created_at: node.createdAt,
});

export async function listChats({
  search = '',
  after = undefined,
  limit = 40,
}: {
  search?: string;
  after?: string | undefined;
  limit?: number;
}): Promise<{ chats: readonly ChatSummary[]; hasMore: boolean; lastId: string | null }> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (search.trim()) query.set('search', search.trim());
  if (after) query.set('after', after);
  const page = await api<ListPage<WireChat>>(`/api/chats?${query}`);
  return { chats: page.data.map(toSummary), hasMore: !!page.has_more, lastId: page.last_id ?? null };
}

export async function getChat(chatId: string): Promise<ChatRecord> {
  return toRecord(await api<WireChat>(`/api/chats/${encodeURIComponent(chatId)}`));
}

export async function createChat(params: {
  title: string;
  temporary: boolean;
  model: string | null;
  nodes: readonly ChatNode[];
  currentNodeId: string | null;
}): Promise<ChatRecord> {
  const chat = await api<WireChat>('/api/chats', {
    method: 'POST',
    body: {
      title: params.title,
      temporary: params.temporary,
      model: params.model,
      messages: params.nodes.map(toWireMessage),
      current_node_id: params.currentNodeId,
    },
  });
  return toRecord(chat);
}

export async function saveChat(
  chatId: string,
  params: { nodes: readonly ChatNode[]; currentNodeId: string | null; model: string | null },
): Promise<ChatSummary> {
  const chat = await api<WireChat>(`/api/chats/${encodeURIComponent(chatId)}`, {
    method: 'PATCH',
    body: {
      messages: params.nodes.map(toWireMessage),
      current_node_id: params.currentNodeId,
      model: params.model,
    },
  });
  return toSummary(chat);
}

export async function renameChat(chatId: string, title: string): Promise<ChatSummary> {
  return toSummary(
    await api<WireChat>(`/api/chats/${encodeURIComponent(chatId)}`, { method: 'PATCH', body: { title } }),
  );
}

export async function deleteChat(chatId: string): Promise<void> {
  await api(`/api/chats/${encodeURIComponent(chatId)}`, { method: 'DELETE' });
}

/** Models that can chat, as `/v1/models` lists them. */
export async function listModels(): Promise<readonly Model[]> {
  const page = await api<ListPage<Model>>('/v1/models');
  return page.data.filter((model) => model.atelier?.capabilities?.chat !== false);
}

export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/**
 * Streams an answer: calls `onDelta` with each piece of text as it arrives and resolves with the
 * finish reason. Aborting `signal` stops generation on the server too (the request closes).
 */
export async function streamReply({
  model,
  messages,
  signal,
  onDelta,
}: {
  model: string;
  messages: readonly PromptMessage[];
  signal: AbortSignal;
  onDelta: (text: string) => void;
}): Promise<string | null> {
  const response = await fetch('/v1/chat/completions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders() },
    body: JSON.stringify({ model, messages, stream: true }),
    signal,
  });
  // User Timing marks: bench/web.ts reads them to split the time to the first token.
  performance.mark('atelier:response');
  if (!response.ok || !response.body) {
    const error = await toApiError(response);
    if (error.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw error;
  }
  let finishReason: string | null = null;
  let first = true;
  for await (const data of readSseData(response.body)) {
    if (first) {
      performance.mark('atelier:first-event');
      first = false;
    }
    if (data === '[DONE]') break;
    const chunk = JSON.parse(data) as {
      error?: { message: string; code?: string | null };
      choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
    };
    if (chunk.error) {
      throw new ApiError(chunk.error.message, { status: 500, code: chunk.error.code ?? null, param: null });
    }
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) onDelta(choice.delta.content);
    if (choice?.finish_reason) finishReason = choice.finish_reason;
  }
  return finishReason;
}
