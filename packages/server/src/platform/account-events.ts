// What a person's other open tabs and devices are told, as it happens: a chat was created,
// changed (renamed, new messages, another branch on screen) or deleted, or the preferences
// changed. Published on the event bus (channel `account:<id>`, a Redis-backed bus carries it to
// every node) by whoever made the change; `GET /api/events` streams it to each open page, which
// fetches what changed. `origin` names the tab that made the change, so that one can skip it.

import type { EventBus, Unsubscribe } from '../engine/event-bus.js';
import type { AccountPreferences } from '../storage/repositories/account-preferences-repository.js';
import type { ChatSummary } from '../storage/repositories/chats-repository.js';

export type ChatChange = 'title' | 'messages' | 'branch' | 'model';

export type AccountEvent =
  | {
      readonly type: 'chat.created';
      readonly chat: ChatSummary;
      readonly origin: string | null;
    }
  | {
      readonly type: 'chat.updated';
      readonly chat: ChatSummary;
      readonly changes: readonly ChatChange[];
      readonly origin: string | null;
    }
  | { readonly type: 'chat.deleted'; readonly chatId: string; readonly origin: string | null }
  | {
      readonly type: 'preferences.updated';
      readonly preferences: AccountPreferences;
      readonly origin: string | null;
    };

export interface AccountEvents {
  publish(accountId: string, event: AccountEvent): Promise<void>;
  /** Resolves once live: nothing published afterwards is missed. */
  subscribe(accountId: string, listener: (event: AccountEvent) => void): Promise<Unsubscribe>;
}

export const accountChannel = (accountId: string) => `account:${accountId}`;

export function createAccountEvents(bus: EventBus): AccountEvents {
  return {
    publish: (accountId, event) => bus.publish(accountChannel(accountId), event),
    subscribe: (accountId, listener) =>
      bus.subscribe(accountChannel(accountId), (event) => listener(event as AccountEvent)),
  };
}
