// The web app's chats as /api sends them and takes them back (snake_case on the wire). A
// message's `parts` and `attachments` use the Assistants v2 shapes (text with annotations,
// image_file; file_id with tools), so the page renders stored and streamed answers alike.
import type { FileFacts } from '../platform/chats-service.js';
import type { Chat, ChatMessage, ChatSummary } from '../storage/repositories/chats-repository.js';
import { toWireContent } from './to-wire-message.js';

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
  };
}

export function toWireChat(chat: Chat, files: ReadonlyMap<string, FileFacts> = new Map()) {
  return {
    ...toWireChatSummary(chat),
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
