import { describe, expect, it } from 'vitest';
import type { ChatNode } from './chat-api';
import { newestLeaf, pathTo, siblingsOf, titleFrom } from './chat-tree';

const node = (id: string, parentId: string | null, role: ChatNode['role'], content = id): ChatNode => ({
  id,
  parentId,
  role,
  content,
  parts: [{ type: 'text', text: content, annotations: [] }],
  attachments: [],
  model: null,
  status: 'complete',
  error: null,
  createdAt: 0,
});

// q1 → a1 (regenerated as a2); q1 edited as q1b → a3.
const tree = [
  node('q1', null, 'user'),
  node('a1', 'q1', 'assistant'),
  node('a2', 'q1', 'assistant'),
  node('q2', 'a2', 'user'),
  node('q1b', null, 'user'),
  node('a3', 'q1b', 'assistant'),
];

describe('chat trees', () => {
  it('follows a branch from its leaf back to the first message', () => {
    expect(pathTo(tree, 'q2').map((entry) => entry.id)).toEqual(['q1', 'a2', 'q2']);
    expect(pathTo(tree, 'a3').map((entry) => entry.id)).toEqual(['q1b', 'a3']);
    expect(pathTo(tree, null)).toEqual([]);
    expect(pathTo(tree, 'missing')).toEqual([]);
  });

  it('finds the versions of a message and the newest leaf below one', () => {
    expect(siblingsOf(tree, tree[1]!).map((entry) => entry.id)).toEqual(['a1', 'a2']);
    expect(siblingsOf(tree, tree[0]!).map((entry) => entry.id)).toEqual(['q1', 'q1b']);
    expect(newestLeaf(tree, 'q1')).toBe('q2');
    expect(newestLeaf(tree, 'a1')).toBe('a1');
  });

  it('never loops on a tree with a cycle', () => {
    const cyclic = [node('x', 'y', 'user'), node('y', 'x', 'assistant')];
    expect(pathTo(cyclic, 'x').map((entry) => entry.id)).toEqual(['y', 'x']);
  });

  it('titles a chat from the first line of its first question', () => {
    expect(titleFrom('  How do tides work?\nMore detail')).toBe('How do tides work?');
    const long = 'Please explain in detail how the moon and the sun together cause the tides we see';
    expect(titleFrom(long)).toBe('Please explain in detail how the moon and the sun together…');
    expect(titleFrom(long).length).toBeLessThanOrEqual(61);
  });
});
