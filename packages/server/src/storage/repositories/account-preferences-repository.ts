// Each account's preferences: custom instructions, theme, language and chat history. An account that never
// changed them has no row and reads as the defaults.

import type { Kysely, Selectable } from 'kysely';
import type { AccountPreferencesTable } from '../accounts-sessions-schema.js';
import { type Clock, systemClock } from '../clock.js';
import type { DatabaseSchema } from '../schema.js';

export type Theme = 'system' | 'light' | 'dark';

export interface AccountPreferences {
  readonly aboutMe: string;
  readonly responseStyle: string;
  readonly customInstructionsEnabled: boolean;
  readonly theme: Theme;
  /** A BCP 47 tag the web app has strings for, or null to follow the browser. */
  readonly language: string | null;
  /**
   * "Chat history & training": off, new chats are temporary (not listed, never used for training,
   * deleted 30 days after creation).
   */
  readonly chatHistoryEnabled: boolean;
  /** 0 while the defaults were never changed. */
  readonly updatedAt: number;
}

export type AccountPreferencesUpdate = Partial<Omit<AccountPreferences, 'updatedAt'>>;

export const DEFAULT_PREFERENCES: AccountPreferences = Object.freeze({
  aboutMe: '',
  responseStyle: '',
  customInstructionsEnabled: true,
  theme: 'system',
  language: null,
  chatHistoryEnabled: true,
  updatedAt: 0,
});

export interface AccountPreferencesRepository {
  get(accountId: string): Promise<AccountPreferences>;
  /** Changes only the fields given; returns the preferences as stored. */
  update(accountId: string, changes: AccountPreferencesUpdate): Promise<AccountPreferences>;
}

export function createAccountPreferencesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): AccountPreferencesRepository {
  async function get(accountId: string): Promise<AccountPreferences> {
    const row = await db
      .selectFrom('account_preferences')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toPreferences(row) : DEFAULT_PREFERENCES;
  }

  return {
    get,

    async update(accountId, changes) {
      const merged = { ...(await get(accountId)), ...changes };
      const row = {
        account_id: accountId,
        about_me: merged.aboutMe,
        response_style: merged.responseStyle,
        custom_instructions_enabled: merged.customInstructionsEnabled ? 1 : 0,
        theme: merged.theme,
        language: merged.language,
        chat_history_enabled: merged.chatHistoryEnabled ? 1 : 0,
        updated_at: now(),
      };
      const { account_id: _key, ...values } = row;
      await db
        .insertInto('account_preferences')
        .values(row)
        .onConflict((conflict) => conflict.column('account_id').doUpdateSet(values))
        .execute();
      return toPreferences(row);
    },
  };
}

function toPreferences(row: Selectable<AccountPreferencesTable>): AccountPreferences {
  return {
    aboutMe: row.about_me,
    responseStyle: row.response_style,
    customInstructionsEnabled: Number(row.custom_instructions_enabled) === 1,
    theme: row.theme,
    language: row.language,
    chatHistoryEnabled: Number(row.chat_history_enabled) === 1,
    updatedAt: Number(row.updated_at),
  };
}
