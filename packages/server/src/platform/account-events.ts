// What a person's other open tabs and devices are told, as it happens: a chat was created,
// changed (renamed, new messages, another branch on screen) or deleted, an answer grew (its new
// text, gathered for a few tens of milliseconds at a time), the preferences changed, or a session
// ended. Published on the event bus (channel `account:<id>`, a Redis-backed bus carries it to
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
      /** More text of an answer being written: `text` goes at `offset` of the answer's text. */
      readonly type: 'chat.answer.delta';
      readonly chatId: string;
      readonly messageId: string;
      readonly offset: number;
      readonly text: string;
      readonly origin: string | null;
    }
  | {
      /** Sign-out, or the end of every session of the account (`sessionId` null): their streams end. */
      readonly type: 'session.ended';
      readonly sessionId: string | null;
    }
  | {
      readonly type: 'preferences.updated';
      readonly preferences: AccountPreferences;
      readonly origin: string | null;
    };

export interface AccountEvents {
  publish(accountId: string, event: AccountEvent): Promise<void>;
  /** Tells the streams of one session that it ended (its account is not known where it ends). */
  sessionEnded(sessionId: string): Promise<void>;
  /**
   * Resolves once live: nothing published afterwards is missed. With `sessionId`, the listener
   * also hears that this session ended.
   */
  subscribe(
    accountId: string,
    listener: (event: AccountEvent) => void,
    options?: { sessionId?: string },
  ): Promise<Unsubscribe>;
}

export const accountChannel = (accountId: string) => `account:${accountId}`;
export const sessionChannel = (sessionId: string) => `session:${sessionId}`;

export function createAccountEvents(bus: EventBus): AccountEvents {
  return {
    publish: (accountId, event) => bus.publish(accountChannel(accountId), event),
    sessionEnded: (sessionId) =>
      bus.publish(sessionChannel(sessionId), { type: 'session.ended', sessionId } satisfies AccountEvent),
    async subscribe(accountId, listener, { sessionId = undefined } = {}) {
      const forward = (event: unknown) => listener(event as AccountEvent);
      const unsubscribeAccount = await bus.subscribe(accountChannel(accountId), forward);
      if (sessionId === undefined) return unsubscribeAccount;
      try {
        const unsubscribeSession = await bus.subscribe(sessionChannel(sessionId), forward);
        return () => {
          unsubscribeAccount();
          unsubscribeSession();
        };
      } catch (error) {
        unsubscribeAccount();
        throw error;
      }
    },
  };
}
