// What the web app's endpoints need from the platform, built together: accounts, sessions,
// workspace API keys and chat history.

import type { Repositories } from '../storage/repositories.js';
import { type AccountsService, createAccountsService } from './accounts-service.js';
import { type ChatsService, createChatsService } from './chats-service.js';
import { createSessionService, type SessionService } from './sessions.js';
import { createSignInThrottle } from './sign-in-throttle.js';
import { createWorkspaceApiKeys, type WorkspaceApiKeys } from './workspace-api-keys.js';

export interface AccountServices {
  readonly accounts: AccountsService;
  readonly sessions: SessionService;
  readonly apiKeys: WorkspaceApiKeys;
  readonly chats: ChatsService;
}

export function createAccountServices({
  repositories,
  sessionLifetimeSeconds,
  allowSignUp,
}: {
  repositories: Repositories;
  sessionLifetimeSeconds: number;
  allowSignUp: boolean;
}): AccountServices {
  const sessions = createSessionService({ repositories, lifetimeSeconds: sessionLifetimeSeconds });
  return {
    accounts: createAccountsService({
      repositories,
      sessions,
      throttle: createSignInThrottle(),
      allowSignUp,
    }),
    sessions,
    apiKeys: createWorkspaceApiKeys({ repositories }),
    chats: createChatsService({ repositories }),
  };
}
