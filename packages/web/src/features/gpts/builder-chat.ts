// The builder's Create conversation as it is kept with the draft (`/api/gpts/{id}/builder-chat`):
// the messages the builder assistant saw, each tool result with the changes the page listed.
// From them the page shows the conversation again, sends its recent part to the model, and keeps
// it within the server's limits (the oldest exchanges go first).
import type { ChangedField } from './builder-tools';
import type { ChatMessage } from './chat-completions';
import type { BuilderChatMessage } from './gpts-api';

/** The server's limits (packages/protocol/src/gpts.ts: GPT_BUILDER_CHAT_LIMITS). */
export const BUILDER_CHAT_LIMITS = { messages: 200, content: 64_000, total: 1_000_000 } as const;

/** Messages of the conversation the model gets with each question (the draft itself is in the system prompt). */
export const MODEL_HISTORY_MESSAGES = 40;

export type ShownTurn =
  | { readonly kind: 'user'; readonly text: string }
  | { readonly kind: 'assistant'; readonly text: string }
  | {
      readonly kind: 'changes';
      readonly changes: readonly { readonly field: ChangedField; readonly value: string }[];
    };

/** What the page shows of a kept conversation: questions, replies, and what each call changed. */
export function shownTurns(messages: readonly BuilderChatMessage[]): ShownTurn[] {
  const turns: ShownTurn[] = [];
  for (const message of messages) {
    if (message.role === 'user') turns.push({ kind: 'user', text: message.content });
    else if (message.role === 'tool') {
      if (message.changes && message.changes.length > 0) {
        turns.push({ kind: 'changes', changes: message.changes });
      }
    } else if (message.content && (message.tool_calls ?? []).length === 0) {
      turns.push({ kind: 'assistant', text: message.content });
    }
  }
  return turns;
}

/** The messages as the model takes them: without the page's notes on changes. */
export function forModel(messages: readonly BuilderChatMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (message.role !== 'tool') return message;
    return { role: 'tool', tool_call_id: message.tool_call_id, content: message.content };
  });
}

/**
 * The newest part of the conversation, starting at a question (so no call's result is cut from
 * its call), with the conversation's first message (the builder's greeting) kept in front.
 */
export function recentMessages(
  messages: readonly BuilderChatMessage[],
  max: number = MODEL_HISTORY_MESSAGES,
): BuilderChatMessage[] {
  if (messages.length <= max) return [...messages];
  const tail = startAtQuestion(messages.slice(messages.length - (max - 1)));
  const first = messages[0];
  return first?.role === 'assistant' && !first.tool_calls?.length ? [first, ...tail] : tail;
}

/** Drops the oldest exchanges until the conversation fits the server's limits. */
export function withinLimits(messages: readonly BuilderChatMessage[]): BuilderChatMessage[] {
  let kept = [...messages];
  while (
    kept.length > BUILDER_CHAT_LIMITS.messages ||
    kept.reduce((sum, message) => sum + size(message), 0) > BUILDER_CHAT_LIMITS.total
  ) {
    kept = startAtQuestion(kept.slice(1));
  }
  return kept;
}

function startAtQuestion(messages: readonly BuilderChatMessage[]): BuilderChatMessage[] {
  const start = messages.findIndex((message) => message.role === 'user');
  return start < 0 ? [] : messages.slice(start);
}

function size(message: BuilderChatMessage): number {
  switch (message.role) {
    case 'user':
      return message.content.length;
    case 'assistant':
      return (
        (message.content?.length ?? 0) +
        (message.tool_calls ?? []).reduce(
          (sum, call) => sum + call.function.name.length + call.function.arguments.length,
          0,
        )
      );
    case 'tool':
      return (
        message.content.length + (message.changes ?? []).reduce((sum, change) => sum + change.value.length, 0)
      );
  }
}
