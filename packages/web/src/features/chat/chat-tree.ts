// A chat is a tree of messages (as in ChatGPT): regenerating an answer or editing a question adds
// a sibling, and the conversation on screen is the path from the root to the current leaf.
// Pure functions over the node list, which is kept in creation order (parents before children).
import type { ChatNode } from './chat-api';

export function indexById(nodes: readonly ChatNode[]): ReadonlyMap<string, ChatNode> {
  return new Map(nodes.map((node) => [node.id, node]));
}

/** The conversation from the first message to `leafId`. */
export function pathTo(nodes: readonly ChatNode[], leafId: string | null): ChatNode[] {
  const byId = indexById(nodes);
  const path: ChatNode[] = [];
  const seen = new Set<string>();
  let node = leafId ? byId.get(leafId) : undefined;
  while (node && !seen.has(node.id)) {
    seen.add(node.id);
    path.push(node);
    node = node.parentId ? byId.get(node.parentId) : undefined;
  }
  return path.reverse();
}

/** The node and its alternatives (same parent), oldest first. */
export function siblingsOf(nodes: readonly ChatNode[], node: ChatNode): ChatNode[] {
  return nodes.filter((candidate) => candidate.parentId === node.parentId && candidate.role === node.role);
}

/** Follows the newest child from `id` down to a leaf: what a branch shows when switched to. */
export function newestLeaf(nodes: readonly ChatNode[], id: string): string {
  let current = id;
  for (;;) {
    let child: ChatNode | undefined;
    for (const node of nodes) if (node.parentId === current) child = node;
    if (!child) return current;
    current = child.id;
  }
}

export function replaceNode(nodes: readonly ChatNode[], next: ChatNode): ChatNode[] {
  return nodes.map((node) => (node.id === next.id ? next : node));
}

export function newNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `m_${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** A title from the first question: its first line, cut at a word near 60 characters. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(' ');
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
