// What the web app's endpoints need from the platform, built together: accounts, sessions,
// workspace API keys, chat history, the events that keep a person's open pages in step, and the
// export of a person's data.

import type { EventBus } from '../engine/event-bus.js';
import type { Repositories } from '../storage/repositories.js';
import { type AccountEvents, createAccountEvents } from './account-events.js';
import { type AccountExport, createAccountExport } from './account-export.js';
import { type AccountsService, createAccountsService } from './accounts-service.js';
import { type ChatGpts, type ChatRuns, type ChatsService, createChatsService } from './chats-service.js';
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
  /** Everything a person keeps here, for "Export data". */
  readonly dataExport: AccountExport;
}

export function createAccountServices({
  repositories,
  sessionLifetimeSeconds,
  allowSignUp,
  bus,
  runs = undefined,
  gpts = undefined,
}: {
  repositories: Repositories;
  sessionLifetimeSeconds: number;
  allowSignUp: boolean;
  /** The engine's event bus: changes reach the person's pages on every node. */
  bus: EventBus;
  /** What answers chats (the run engine on this bus, the models, the built-in tools). */
  runs?: Omit<ChatRuns, 'bus'> | undefined;
  /** The GPTs chats may talk to. */
  gpts?: ChatGpts | undefined;
}): AccountServices {
  const events = createAccountEvents(bus);
  const sessions = createSessionService({ repositories, lifetimeSeconds: sessionLifetimeSeconds, events });
  const accounts = createAccountsService({
    repositories,
    sessions,
    throttle: createSignInThrottle(),
    allowSignUp,
  });
  return {
    accounts,
    sessions,
    apiKeys: createWorkspaceApiKeys({ repositories }),
    chats: createChatsService({ repositories, events, runs: runs ? { ...runs, bus } : undefined, gpts }),
    events,
    dataExport: createAccountExport({ repositories, accounts }),
  };
}
