// "Export data" (Settings → Data controls): everything a person keeps here, for them to download:
// their account and preferences, the workspaces they are in, the files of their personal
// workspace (names and sizes; the bytes stay downloadable one by one), the GPTs they built and
// every chat with all its versions, temporary ones too until they are deleted. Read piece by
// piece, so an account with thousands of chats is streamed, never held whole.

import type { Chat } from '../storage/repositories/chats-repository.js';
import type { StoredFile } from '../storage/repositories/files-repository.js';
import type { Gpt } from '../storage/repositories/gpts-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { AccountsService, Profile } from './accounts-service.js';

export interface AccountExport {
  profile(accountId: string): Promise<Profile>;
  /** The files of the person's personal workspace(s), oldest first. */
  files(profile: Profile): AsyncIterable<StoredFile>;
  /** The GPTs the person built, in any workspace. */
  gpts(accountId: string): AsyncIterable<Gpt>;
  chats(accountId: string): AsyncIterable<Chat>;
}

const PAGE = 100;

export function createAccountExport({
  repositories,
  accounts,
}: {
  repositories: Repositories;
  accounts: Pick<AccountsService, 'profile'>;
}): AccountExport {
  return {
    profile: (accountId) => accounts.profile(accountId),

    async *files(profile) {
      const personal = profile.workspaces.filter(
        (membership) => membership.workspace.kind === 'personal' && membership.role === 'owner',
      );
      for (const { workspace } of personal) {
        let after: string | undefined;
        for (;;) {
          const page = await repositories.files.list({
            workspaceId: workspace.id,
            limit: PAGE,
            order: 'asc',
            after,
          });
          yield* page.data;
          if (!page.hasMore || page.data.length === 0) break;
          after = page.data.at(-1)!.id;
        }
      }
    },

    async *gpts(accountId) {
      let after: string | undefined;
      for (;;) {
        const page = await repositories.gpts.listForBuilder({
          builderAccountId: accountId,
          limit: PAGE,
          after,
        });
        yield* page.data;
        if (!page.hasMore || page.data.length === 0) return;
        after = page.data.at(-1)!.id;
      }
    },

    async *chats(accountId) {
      let after: string | undefined;
      for (;;) {
        const page = await repositories.chats.listAllOf({ accountId, after, limit: PAGE });
        yield* page;
        if (page.length < PAGE) return;
        after = page.at(-1)!.id;
      }
    },
  };
}
