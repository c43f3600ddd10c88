// Who may do what with a GPT: the one rule every door (the web app's /api, chat completions,
// runs) asks. It depends on the GPT's visibility and on who asks: its builder, a member of its
// workspace, another signed-in person (or API key), or an anonymous visitor, and on whether they
// came through the GPT's share link. Only the builder edits and sees the instructions; users get
// the published version, so a GPT never published is the builder's alone.

import type { GptVisibility } from '../storage/repositories/gpts-repository.js';

export type GptRole = 'builder' | 'member' | 'other' | 'anonymous';

export const GPT_ROLES: readonly GptRole[] = ['builder', 'member', 'other', 'anonymous'];

export interface GptAccess {
  /** See its face: name, description, avatar, starters, capabilities, builder's name. */
  readonly view: boolean;
  /** Talk to it (its latest published version): web chats, chat completions, runs. */
  readonly chat: boolean;
  /** Change the draft, publish, share, delete; preview the draft. */
  readonly edit: boolean;
  /** Read the instructions (and the knowledge and actions configuration). */
  readonly seeInstructions: boolean;
}

export const NO_ACCESS: GptAccess = Object.freeze({
  view: false,
  chat: false,
  edit: false,
  seeInstructions: false,
});

const FULL_ACCESS: GptAccess = Object.freeze({ view: true, chat: true, edit: true, seeInstructions: true });

/** Who is asking, as far as GPTs care. */
export interface GptViewer {
  /** The person; null for an anonymous visitor or a workspace API key. */
  readonly accountId: string | null;
  /** Workspaces the person belongs to, and the one the key or session acts in. */
  readonly workspaceIds: ReadonlySet<string>;
  /** False for a visitor without a session or key. */
  readonly signedIn: boolean;
}

export const ANONYMOUS: GptViewer = Object.freeze({
  accountId: null,
  workspaceIds: new Set<string>(),
  signedIn: false,
});

export function gptRole(
  gpt: { readonly builderAccountId: string; readonly workspaceId: string },
  viewer: GptViewer,
): GptRole {
  if (!viewer.signedIn) return 'anonymous';
  if (viewer.accountId !== null && viewer.accountId === gpt.builderAccountId) return 'builder';
  if (viewer.workspaceIds.has(gpt.workspaceId)) return 'member';
  return 'other';
}

export interface GptPermissionParams {
  readonly visibility: GptVisibility;
  readonly role: GptRole;
  /** The viewer came through the current share link (or opened it before, signed in). */
  readonly hasLink: boolean;
  /** Some version was published (users never see a draft). */
  readonly published: boolean;
}

export function gptPermissions({ visibility, role, hasLink, published }: GptPermissionParams): GptAccess {
  if (role === 'builder') return FULL_ACCESS;
  if (!published) return NO_ACCESS;
  let view: boolean;
  switch (visibility) {
    case 'private':
      view = false;
      break;
    case 'link':
      view = hasLink;
      break;
    case 'workspace':
      view = role === 'member';
      break;
    case 'public':
      view = true;
      break;
  }
  // Chatting needs someone to chat as: an account or an API key.
  return { view, chat: view && role !== 'anonymous', edit: false, seeInstructions: false };
}
