import { describe, expect, it } from 'vitest';
import { BUILDER_CHAT_LIMITS, forModel, recentMessages, shownTurns, withinLimits } from './builder-chat';
import type { BuilderChatMessage } from './gpts-api';

const greeting: BuilderChatMessage = { role: 'assistant', content: 'Hi! What would you like to make?' };

/** One exchange as the Create tab keeps it: question, forced call, its result, reply. */
function exchange(index: number, { changed = true } = {}): BuilderChatMessage[] {
  return [
    { role: 'user', content: `Question ${index}` },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: `call_${index}`, type: 'function', function: { name: 'update_gpt', arguments: '{}' } },
      ],
    },
    {
      role: 'tool',
      tool_call_id: `call_${index}`,
      content: '{"ok":true}',
      ...(changed ? { changes: [{ field: 'name', value: `Name ${index}` }] } : {}),
    },
    { role: 'assistant', content: `Reply ${index}` },
  ];
}

describe('the kept Create conversation', () => {
  it('shows questions, what each call changed, and replies, in order', () => {
    expect(shownTurns([greeting, ...exchange(1), ...exchange(2, { changed: false })])).toEqual([
      { kind: 'assistant', text: 'Hi! What would you like to make?' },
      { kind: 'user', text: 'Question 1' },
      { kind: 'changes', changes: [{ field: 'name', value: 'Name 1' }] },
      { kind: 'assistant', text: 'Reply 1' },
      { kind: 'user', text: 'Question 2' },
      { kind: 'assistant', text: 'Reply 2' },
    ]);
  });

  it('gives the model chat messages without the page’s notes', () => {
    const messages = forModel(exchange(1));
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' });
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('sends the recent part from a question on, after the greeting', () => {
    const long = [greeting, ...Array.from({ length: 20 }, (_, index) => exchange(index)).flat()];
    const recent = recentMessages(long, 10);
    expect(recent[0]).toEqual(greeting);
    expect(recent[1]).toEqual({ role: 'user', content: 'Question 18' });
    expect(recent.length).toBeLessThanOrEqual(10);
    expect(recent.at(-1)).toEqual({ role: 'assistant', content: 'Reply 19' });
    const short = [greeting, ...exchange(1)];
    expect(recentMessages(short, 10)).toEqual(short);
  });

  it('drops the oldest exchanges to fit the server’s limits', () => {
    const many = [greeting, ...Array.from({ length: 60 }, (_, index) => exchange(index)).flat()];
    const kept = withinLimits(many);
    expect(kept.length).toBeLessThanOrEqual(BUILDER_CHAT_LIMITS.messages);
    expect(kept[0]?.role).toBe('user');
    expect(kept.at(-1)).toEqual({ role: 'assistant', content: 'Reply 59' });
    const big = [
      ...exchange(1),
      { role: 'user', content: 'x'.repeat(BUILDER_CHAT_LIMITS.total - 10) },
      { role: 'assistant', content: 'ok' },
    ] satisfies BuilderChatMessage[];
    expect(withinLimits(big)).toEqual(big.slice(4));
    expect(withinLimits([greeting, ...exchange(1)])).toEqual([greeting, ...exchange(1)]);
  });
});
