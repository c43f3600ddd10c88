// The web app's chat history as /api sends it and takes it back (snake_case on the wire).
import type { Chat, ChatMessage, ChatSummary } from '../storage/repositories/chats-repository.js';

export interface WireChatMessage {
  readonly id: string;
  readonly parent_id: string | null;
  readonly role: ChatMessage['role'];
  readonly content: string;
  readonly model?: string | null | undefined;
  readonly status?: ChatMessage['status'] | undefined;
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

export function toWireChat(chat: Chat) {
  return {
    ...toWireChatSummary(chat),
    messages: chat.messages.map(toWireChatMessage),
    current_node_id: chat.currentNodeId,
  };
}

function toWireChatMessage(message: ChatMessage): WireChatMessage {
  return {
    id: message.id,
    parent_id: message.parentId,
    role: message.role,
    content: message.content,
    model: message.model,
    status: message.status,
    created_at: message.createdAt,
  };
}

export function fromWireChatMessage(message: WireChatMessage): ChatMessage {
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
