// What the web app's endpoints need from the platform, built together: accounts, sessions,
// workspace API keys, chat history and the events that keep a person's open pages in step.

import type { EventBus } from '../engine/event-bus.js';
import type { Repositories } from '../storage/repositories.js';
import { type AccountEvents, createAccountEvents } from './account-events.js';
import { type AccountsService, createAccountsService } from './accounts-service.js';
import { type ChatRuns, type ChatsService, createChatsService } from './chats-service.js';
import { createSessionService, type SessionService } from './sessions.js';
import { createSignInThrottle } from './sign-in-throttle.js';
import { createWorkspaceApiKeys, type WorkspaceApiKeys } from './workspace-api-keys.js';

export interface AccountServices {
  readonly accounts: AccountsService;
  readonly sessions: SessionService;
  readonly apiKeys: WorkspaceApiKeys;
  readonly chats: ChatsService;
  /** Changes told to the person's other tabs and devices. */
  readonly events: AccountEvents;
}

export function createAccountServices({
  repositories,
  sessionLifetimeSeconds,
  allowSignUp,
  bus,
  runs = undefined,
}: {
  repositories: Repositories;
  sessionLifetimeSeconds: number;
  allowSignUp: boolean;
  /** The engine's event bus: changes reach the person's pages on every node. */
  bus: EventBus;
  /** What answers chats (the run engine on this bus, the models, the built-in tools). */
  runs?: Omit<ChatRuns, 'bus'> | undefined;
}): AccountServices {
  const sessions = createSessionService({ repositories, lifetimeSeconds: sessionLifetimeSeconds });
  const events = createAccountEvents(bus);
  return {
    accounts: createAccountsService({
      repositories,
      sessions,
      throttle: createSignInThrottle(),
      allowSignUp,
    }),
    sessions,
    apiKeys: createWorkspaceApiKeys({ repositories }),
    chats: createChatsService({ repositories, events, runs: runs ? { ...runs, bus } : undefined }),
    events,
  };
}
