// Accounts, workspaces and preferences as the web app's /api sends them (snake_case, like /v1).
import type { Profile } from '../platform/accounts-service.js';
import type { ChatCapabilities } from '../platform/chats-service.js';
import type { AccountPreferences } from '../storage/repositories/account-preferences-repository.js';
import type { Account } from '../storage/repositories/accounts-repository.js';
import type { WorkspaceMembership } from '../storage/repositories/workspaces-repository.js';

export function toWireAccount(account: Account) {
  return {
    id: account.id,
    object: 'account' as const,
    name: account.name,
    email: account.email,
    created_at: account.createdAt,
  };
}

export function toWireMembership(membership: WorkspaceMembership) {
  return {
    id: membership.workspace.id,
    object: 'workspace' as const,
    name: membership.workspace.name,
    kind: membership.workspace.kind,
    role: membership.role,
    created_at: membership.workspace.createdAt,
  };
}

export function toWirePreferences(preferences: AccountPreferences) {
  return {
    about_me: preferences.aboutMe,
    response_style: preferences.responseStyle,
    custom_instructions_enabled: preferences.customInstructionsEnabled,
    theme: preferences.theme,
    language: preferences.language,
    chat_history_enabled: preferences.chatHistoryEnabled,
  };
}

/** What `GET /api/session` and a successful sign-in or sign-up return. */
export function toWireSignedIn({
  profile,
  csrfToken,
  workspaceId,
  capabilities = { fileSearch: false, codeInterpreter: false },
}: {
  profile: Profile;
  csrfToken: string;
  workspaceId: string;
  /** What chats can do here beyond answering: the built-in tools the server has. */
  capabilities?: ChatCapabilities;
}) {
  return {
    authenticated: true as const,
    account: toWireAccount(profile.account),
    workspaces: profile.workspaces.map(toWireMembership),
    /** The workspace /v1 requests made with this session act in. */
    workspace_id: workspaceId,
    preferences: toWirePreferences(profile.preferences),
    csrf_token: csrfToken,
    capabilities: {
      file_search: capabilities.fileSearch,
      code_interpreter: capabilities.codeInterpreter,
    },
  };
}
