// Everything the chat reads and writes on the server, in one place: chats under /api/chats,
// models from /v1. A chat is backed by Assistants threads and each answer is a run: asking,
// answering again and stopping go through /api/chats (which keeps the chat's tree of versions),
// and the answer streams back as the run's Assistants events, turned here into the answer's
// parts (text with citations and file links, images). A chat may talk to a GPT (`gpt`): its
// answers come from the GPT, and one that waits for the person's answer about an action call is
// `pending` until `continueAnswer` goes on with it.
import { ApiError, api, authHeaders, SIGNED_OUT_EVENT, toApiError } from '../../api/http';
import type { ListPage, Model } from '../../api/types';
import type { PendingAction } from '../gpts/actions-api';
import { readSseEvents } from './sse';

/**
 * `streaming`: its run is still writing it (here, or on another device); `pending`: it waits for
 * the person's answer about a GPT's action call (`pendingActions`).
 */
export type NodeStatus = 'complete' | 'stopped' | 'failed' | 'streaming' | 'pending';

export type Annotation =
  | {
      readonly type: 'file_citation';
      readonly text: string;
      readonly fileId: string;
      readonly startIndex: number;
      readonly endIndex: number;
    }
  | {
      readonly type: 'file_path';
      readonly text: string;
      readonly fileId: string;
      readonly startIndex: number;
      readonly endIndex: number;
    };

export type ContentPart =
  | { readonly type: 'text'; readonly text: string; readonly annotations: readonly Annotation[] }
  | { readonly type: 'image_file'; readonly fileId: string };

export type ToolType = 'file_search' | 'code_interpreter';

/** A file sent with a question, and the built-in tool that reads it. */
export interface AttachmentRef {
  readonly fileId: string;
  readonly tools: readonly ToolType[];
}

export interface FileInfo {
  readonly filename: string;
  readonly bytes: number;
}

/** One message in a chat's tree; `parentId` links it to the message it answers or follows. */
export interface ChatNode {
  readonly id: string;
  readonly parentId: string | null;
  readonly role: 'user' | 'assistant';
  /** Its text, for copying and editing. */
  readonly content: string;
  readonly parts: readonly ContentPart[];
  readonly attachments: readonly AttachmentRef[];
  readonly model: string | null;
  readonly status: NodeStatus;
  readonly error: string | null;
  readonly createdAt: number;
  /** A `pending` answer's held action calls. */
  readonly pendingActions?: readonly PendingAction[];
}

/** The GPT a chat talks to, as the person may see it now. */
export interface ChatGpt {
  readonly id: string;
  /** null: no longer visible to the person (deleted, or not shared with them any more). */
  readonly name: string | null;
  readonly avatarUrl: string | null;
  /** Whether the person may chat with it now: its chats are answered only then. */
  readonly available: boolean;
}

/** A GPT as a new chat with it starts: its face, what it is, and its conversation starters. */
export interface GptIntro extends ChatGpt {
  readonly name: string;
  readonly description: string;
  readonly builderName: string;
  readonly starters: readonly string[];
  /** The person builds it (the page offers its editor). */
  readonly canEdit: boolean;
}

export interface ChatSummary {
  readonly id: string;
  readonly title: string;
  readonly temporary: boolean;
  readonly updatedAt: number;
  readonly gpt: ChatGpt | null;
}

export interface ChatRecord extends ChatSummary {
  readonly model: string | null;
  readonly nodes: readonly ChatNode[];
  readonly currentNodeId: string | null;
  /** Names of the files its messages refer to, by id. */
  readonly files: Readonly<Record<string, FileInfo>>;
}

type WireAnnotation = {
  type: 'file_citation' | 'file_path';
  text?: string;
  index?: number;
  start_index?: number;
  end_index?: number;
  file_citation?: { file_id: string };
  file_path?: { file_id: string };
};

type WirePart =
  | { type: 'text'; text: { value: string; annotations?: WireAnnotation[] } }
  | { type: 'image_file'; image_file: { file_id: string } }
  | { type: 'image_url'; image_url: { url: string } };

interface WireMessage {
  id: string;
  parent_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  parts?: WirePart[];
  attachments?: { file_id: string; tools: { type: ToolType }[] }[];
  model: string | null;
  status: 'complete' | 'stopped' | 'failed' | 'in_progress' | 'pending';
  error?: string | null;
  created_at: number;
  pending_actions?: PendingAction[];
}

interface WireChatGpt {
  id: string;
  name: string | null;
  avatar_url: string | null;
  available: boolean;
}

interface WireChat {
  id: string;
  title: string;
  temporary: boolean;
  model: string | null;
  updated_at: number;
  gpt_id?: string | null;
  gpt?: WireChatGpt | null;
  messages?: WireMessage[];
  current_node_id?: string | null;
  files?: Record<string, FileInfo>;
}

const toSummary = (chat: WireChat): ChatSummary => ({
  id: chat.id,
  title: chat.title,
  temporary: chat.temporary,
  updatedAt: chat.updated_at,
  gpt: chat.gpt
    ? { id: chat.gpt.id, name: chat.gpt.name, avatarUrl: chat.gpt.avatar_url, available: chat.gpt.available }
    : chat.gpt_id
      ? { id: chat.gpt_id, name: null, avatarUrl: null, available: true }
      : null,
});

function toAnnotation(annotation: WireAnnotation): Annotation | null {
  const fileId = annotation.file_citation?.file_id ?? annotation.file_path?.file_id;
  if (!fileId) return null;
  return {
    type: annotation.type,
    text: annotation.text ?? '',
    fileId,
    startIndex: annotation.start_index ?? 0,
    endIndex: annotation.end_index ?? 0,
  };
}

function toPart(part: WirePart): ContentPart | null {
  if (part.type === 'text') {
    return {
      type: 'text',
      text: part.text.value,
      annotations: (part.text.annotations ?? []).flatMap((annotation) => toAnnotation(annotation) ?? []),
    };
  }
  if (part.type === 'image_file') return { type: 'image_file', fileId: part.image_file.file_id };
  return null;
}

export function toNode(message: WireMessage): ChatNode {
  return {
    id: message.id,
    parentId: message.parent_id,
    role: message.role,
    content: message.content,
    parts: (message.parts ?? [{ type: 'text', text: { value: message.content } }]).flatMap(
      (part) => toPart(part) ?? [],
    ),
    attachments: (message.attachments ?? []).map((attachment) => ({
      fileId: attachment.file_id,
      tools: attachment.tools.map((tool) => tool.type),
    })),
    model: message.model,
    status: message.status === 'in_progress' ? 'streaming' : message.status,
    error: message.error ?? null,
    createdAt: message.created_at,
    ...(message.pending_actions ? { pendingActions: message.pending_actions } : {}),
  };
}

const toRecord = (chat: WireChat): ChatRecord => ({
  ...toSummary(chat),
  model: chat.model,
  currentNodeId: chat.current_node_id ?? null,
  nodes: (chat.messages ?? []).map(toNode),
  files: chat.files ?? {},
});

/** The text of an answer's parts, as copied. */
export function textOf(parts: readonly ContentPart[]): string {
  return parts
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n\n')
    .trim();
}

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

/** Saves which version is on screen (the branch ending at `currentNodeId`). */
export async function showBranch(chatId: string, currentNodeId: string): Promise<void> {
  await api(`/api/chats/${encodeURIComponent(chatId)}`, {
    method: 'PATCH',
    body: { current_node_id: currentNodeId },
  });
}

export async function renameChat(chatId: string, title: string): Promise<ChatSummary> {
  return toSummary(
    await api<WireChat>(`/api/chats/${encodeURIComponent(chatId)}`, { method: 'PATCH', body: { title } }),
  );
}

export async function deleteChat(chatId: string): Promise<void> {
  await api(`/api/chats/${encodeURIComponent(chatId)}`, { method: 'DELETE' });
}

/** Stops an answer being written (wherever it was asked); what it wrote is kept. */
export async function stopAnswer(chatId: string, answerId: string): Promise<void> {
  await api(`/api/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(answerId)}/stop`, {
    method: 'POST',
  });
}

/** Models that can chat, as `/v1/models` lists them. */
export async function listModels(): Promise<readonly Model[]> {
  const page = await api<ListPage<Model>>('/v1/models');
  // GPTs are listed too (`atelier.provider: "gpt"`): they have their own pages, not this menu.
  return page.data.filter(
    (model) => model.atelier?.capabilities?.chat !== false && model.atelier?.provider !== 'gpt',
  );
}

/** A question as the person wrote it. */
export interface Question {
  readonly id: string;
  readonly parentId: string | null;
  readonly text: string;
  /** Images shown to the model (vision). */
  readonly images: readonly string[];
  /** Files for the built-in tools (documents for file_search, data for code_interpreter). */
  readonly attachments: readonly AttachmentRef[];
}

/** What the server added when an answer started. */
export interface Turn {
  readonly chat: ChatSummary;
  readonly question: ChatNode | null;
  readonly answer: ChatNode;
}

export interface AnswerHandlers {
  /** The messages are in the chat (a new chat exists now), and the answer is on its way. */
  onTurn(turn: Turn): void;
  /** The answer so far, whenever it grows. */
  onParts(parts: readonly ContentPart[]): void;
}

export interface AnswerEnd {
  readonly status: Exclude<NodeStatus, 'streaming'>;
  readonly parts: readonly ContentPart[];
  readonly error: string | null;
  readonly pendingActions?: readonly PendingAction[];
}

function questionBody(question: Question) {
  const content =
    question.images.length === 0
      ? question.text
      : [
          ...(question.text.trim() ? [{ type: 'text', text: question.text }] : []),
          ...question.images.map((fileId) => ({ type: 'image_file', image_file: { file_id: fileId } })),
        ];
  return {
    id: question.id,
    parent_id: question.parentId,
    content,
    ...(question.attachments.length > 0
      ? {
          attachments: question.attachments.map((attachment) => ({
            file_id: attachment.fileId,
            tools: attachment.tools.map((type) => ({ type })),
          })),
        }
      : {}),
  };
}

/** Starts a chat (with a GPT, when `gptId` names one) with its first question, and streams the answer. */
export function startChat({
  title,
  temporary,
  gptId = null,
  question,
  answerId,
  model,
  signal,
  handlers,
}: {
  title: string;
  temporary: boolean;
  gptId?: string | null;
  question: Question;
  answerId: string;
  model: string;
  signal: AbortSignal;
  handlers: AnswerHandlers;
}): Promise<AnswerEnd> {
  return streamAnswer({
    path: '/api/chats',
    body: {
      title,
      temporary,
      ...(gptId ? { gpt_id: gptId } : {}),
      message: { ...questionBody(question), answer_id: answerId, model, stream: true },
    },
    signal,
    handlers,
  });
}

/** Asks a question in a chat (after `question.parentId`), and streams the answer. */
export function ask({
  chatId,
  question,
  answerId,
  model,
  signal,
  handlers,
}: {
  chatId: string;
  question: Question;
  answerId: string;
  model: string;
  signal: AbortSignal;
  handlers: AnswerHandlers;
}): Promise<AnswerEnd> {
  return streamAnswer({
    path: `/api/chats/${encodeURIComponent(chatId)}/messages`,
    body: { ...questionBody(question), answer_id: answerId, model, stream: true },
    signal,
    handlers,
  });
}

/** Answers `questionId` again (a new version beside the others), and streams the answer. */
export function answerAgain({
  chatId,
  questionId,
  answerId,
  model,
  signal,
  handlers,
}: {
  chatId: string;
  questionId: string;
  answerId: string;
  model: string;
  signal: AbortSignal;
  handlers: AnswerHandlers;
}): Promise<AnswerEnd> {
  return streamAnswer({
    path: `/api/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(questionId)}/answers`,
    body: { answer_id: answerId, model, stream: true },
    signal,
    handlers,
  });
}

/** Goes on with a `pending` answer once its action calls were answered, and streams it. */
export function continueAnswer({
  chatId,
  answerId,
  signal,
  handlers,
}: {
  chatId: string;
  answerId: string;
  signal: AbortSignal;
  handlers: AnswerHandlers;
}): Promise<AnswerEnd> {
  return streamAnswer({
    path: `/api/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(answerId)}/continue`,
    body: { stream: true },
    signal,
    handlers,
  });
}

/**
 * Posts, then reads the run's events until it ends: `chat.turn` first, then the Assistants
 * events; message deltas build the answer's parts, the run's last status says how it ended.
 * Aborting `signal` stops reading only: the answer goes on on the server (stop it with
 * `stopAnswer`).
 */
async function streamAnswer({
  path,
  body,
  signal,
  handlers,
}: {
  path: string;
  body: unknown;
  signal: AbortSignal;
  handlers: AnswerHandlers;
}): Promise<AnswerEnd> {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders() },
    body: JSON.stringify(body),
    signal,
  });
  // User Timing marks: bench/web.ts reads them to split the time to the first token.
  performance.mark('atelier:response');
  if (!response.ok || !response.body) {
    const error = await toApiError(response);
    if (error.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw error;
  }
  const answer = new AnswerAssembly();
  let end: AnswerEnd | null = null;
  let first = true;
  for await (const { event, data } of readSseEvents(response.body)) {
    if (first) {
      performance.mark('atelier:first-event');
      first = false;
    }
    if (event === 'done' || data === '[DONE]') break;
    const payload = parse(data);
    switch (event) {
      case 'chat.turn': {
        const turn = payload as { chat: WireChat; question: WireMessage | null; answer: WireMessage };
        handlers.onTurn({
          chat: toSummary(turn.chat),
          question: turn.question ? toNode(turn.question) : null,
          answer: toNode(turn.answer),
        });
        break;
      }
      case 'thread.message.delta':
        if (answer.delta(payload as MessageDeltaEvent)) handlers.onParts(answer.parts());
        break;
      case 'thread.message.completed':
      case 'thread.message.incomplete':
        answer.complete(payload as { id: string; content: WirePart[] });
        handlers.onParts(answer.parts());
        break;
      case 'thread.run.completed':
        end = { status: 'complete', parts: answer.parts(), error: null };
        break;
      case 'thread.run.incomplete': {
        // A GPT's action call waits for the person: the page asks, then continues.
        const held = (payload as { atelier_pending_actions?: PendingAction[] } | null)
          ?.atelier_pending_actions;
        end =
          held && held.length > 0
            ? { status: 'pending', parts: answer.parts(), error: null, pendingActions: held }
            : { status: 'complete', parts: answer.parts(), error: null };
        break;
      }
      case 'thread.run.cancelled':
        end = { status: 'stopped', parts: answer.parts(), error: null };
        break;
      case 'thread.run.failed':
      case 'thread.run.expired': {
        const run = payload as { last_error?: { message?: string } | null };
        end = { status: 'failed', parts: answer.parts(), error: run.last_error?.message ?? event };
        break;
      }
      case 'error': {
        const error = payload as { message?: string; code?: string | null };
        throw new ApiError(error.message ?? 'The answer failed.', {
          status: 500,
          code: error.code ?? null,
          param: null,
        });
      }
    }
  }
  return end ?? { status: 'failed', parts: answer.parts(), error: 'The answer ended without finishing.' };
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

interface MessageDeltaEvent {
  id: string;
  delta: {
    content?: Array<
      | { index: number; type: 'text'; text?: { value?: string; annotations?: WireAnnotation[] } }
      | { index: number; type: 'image_file'; image_file?: { file_id: string } }
    >;
  };
}

/** An answer's messages (a run may write more than one) as they stream, in order. */
class AnswerAssembly {
  private readonly messages = new Map<string, ContentPart[]>();

  /** Applies a delta; false when it changed nothing shown. */
  delta(event: MessageDeltaEvent): boolean {
    const parts = this.messages.get(event.id) ?? [];
    this.messages.set(event.id, parts);
    let changed = false;
    for (const piece of event.delta.content ?? []) {
      if (piece.type === 'image_file' && piece.image_file) {
        parts[piece.index] = { type: 'image_file', fileId: piece.image_file.file_id };
        changed = true;
      } else if (piece.type === 'text') {
        const current = parts[piece.index];
        const text =
          current?.type === 'text' ? current : { type: 'text' as const, text: '', annotations: [] };
        const annotations = [...text.annotations];
        for (const annotation of piece.text?.annotations ?? []) {
          const converted = toAnnotation(annotation);
          if (converted) annotations[annotation.index ?? annotations.length] = converted;
        }
        parts[piece.index] = { type: 'text', text: text.text + (piece.text?.value ?? ''), annotations };
        changed ||= !!piece.text?.value || annotations.length !== text.annotations.length;
      }
    }
    return changed;
  }

  /** The message as written: it replaces what the deltas built. */
  complete(message: { id: string; content: WirePart[] }): void {
    this.messages.set(
      message.id,
      message.content.flatMap((part) => toPart(part) ?? []),
    );
  }

  parts(): ContentPart[] {
    return [...this.messages.values()].flatMap((parts) => parts.filter((part) => part !== undefined));
  }
}
