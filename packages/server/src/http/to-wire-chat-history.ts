// The web app's chats as /api sends them and takes them back (snake_case on the wire). A
// message's `parts` and `attachments` use the Assistants v2 shapes (text with annotations,
// image_file; file_id with tools), so the page renders stored and streamed answers alike. A chat
// with a GPT names it (`gpt_id`) and, where the server looked it up, shows its face (`gpt`).
import type { ChatGptFace, FileFacts, WithGpt } from '../platform/chats-service.js';
import type { Chat, ChatMessage, ChatSummary } from '../storage/repositories/chats-repository.js';
import { toWireContent } from './to-wire-message.js';
import { toWireHeldCall } from './to-wire-pending-action.js';

/** What a page may send of a message when it starts a chat with some (an imported conversation). */
export interface WireChatMessageParam {
  readonly id: string;
  readonly parent_id: string | null;
  readonly role: ChatMessage['role'];
  readonly content: string;
  readonly model?: string | null | undefined;
  readonly status?: 'complete' | 'stopped' | 'failed' | undefined;
  readonly created_at: number;
}

export function toWireChatSummary(chat: ChatSummary) {
  return {
    id: chat.id,
    object: 'chat' as const,
    title: chat.title,
    temporary: chat.temporary,
    model: chat.model,
    created_at: chat.createdAt,
    updated_at: chat.updatedAt,
    gpt_id: chat.gptId,
  };
}

/** The GPT's face as the person may see it now; `available`: whether its chats can be answered. */
export function toWireChatGpt(face: ChatGptFace) {
  return {
    id: face.id,
    name: face.name,
    avatar_url: face.avatarFileId
      ? `/api/gpts/${encodeURIComponent(face.id)}/avatar?v=${encodeURIComponent(face.avatarFileId)}`
      : null,
    available: face.available,
  };
}

/** A chat of the history list, or one just started: with its GPT's face. */
export function toWireListedChat(chat: WithGpt<ChatSummary>) {
  return { ...toWireChatSummary(chat), gpt: chat.gpt ? toWireChatGpt(chat.gpt) : null };
}

/** A whole chat: with its GPT's face when the server looked it up (not in the data export). */
export function toWireChat(chat: Chat | WithGpt<Chat>, files: ReadonlyMap<string, FileFacts> = new Map()) {
  return {
    ...('gpt' in chat ? toWireListedChat(chat) : toWireChatSummary(chat)),
    messages: chat.messages.map(toWireChatMessage),
    current_node_id: chat.currentNodeId,
    /** The files its messages refer to, by id (deleted ones are missing). */
    files: Object.fromEntries(
      [...files].map(([id, file]) => [
        id,
        { filename: file.filename, bytes: file.bytes, purpose: file.purpose },
      ]),
    ),
  };
}

export function toWireChatMessage(message: ChatMessage) {
  return {
    id: message.id,
    parent_id: message.parentId,
    role: message.role,
    content: message.content,
    parts: (message.parts ?? [{ type: 'text', text: message.content, annotations: [] }]).map(toWireContent),
    attachments: (message.attachments ?? []).map((attachment) => ({
      file_id: attachment.fileId,
      tools: attachment.tools.map((type) => ({ type })),
    })),
    model: message.model,
    status: message.status,
    error: message.error ?? null,
    thread_id: message.threadId ?? null,
    run_id: message.runId ?? null,
    created_at: message.createdAt,
    // A `pending` answer: the action calls waiting for the person (as runs list them).
    ...(message.status === 'pending'
      ? { pending_actions: (message.pendingActions ?? []).map(toWireHeldCall) }
      : {}),
  };
}

export function fromWireChatMessage(message: WireChatMessageParam): ChatMessage {
  return {
    id: message.id,
    parentId: message.parent_id,
    role: message.role,
    content: message.content,
    model: message.model ?? null,
    status: message.status ?? 'complete',
    createdAt: message.created_at,
  };
}
