// Every migration, in order, imported statically: the server runs from src/ under Vitest and from
// dist/ in production, so scanning a folder for files would find .ts in one and .js in the other.
// Names sort in the order they run; never rename or edit one that has shipped, add a new one.

import type { Migration } from 'kysely';
import { migration001 } from './001-accounts-workspaces-api-keys.js';
import { migration002 } from './002-files-vector-stores.js';
import { migration003 } from './003-assistants.js';
import { migration004 } from './004-model-registry.js';
import { migration005 } from './005-accounts-sessions.js';
import { migration006Gpts } from './006-gpts.js';
import { migration006 } from './006-internal-vector-stores.js';
import { migration007 } from './007-actions.js';
import { migration008 } from './008-chat-history-and-threads.js';
import { migration009GptBuilderChat } from './009-gpt-builder-chat.js';
import { migration009RunCallersAndConsentGrants } from './009-run-callers-and-consent-grants.js';
import { migration011ModelUsage } from './011-model-usage.js';
import { migration012RunApiKeys } from './012-run-api-keys.js';

export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '001-accounts-workspaces-api-keys': migration001,
  '002-files-vector-stores': migration002,
  '003-assistants': migration003,
  '004-model-registry': migration004,
  '005-accounts-sessions': migration005,
  '006-gpts': migration006Gpts,
  '006-internal-vector-stores': migration006,
  '007-actions': migration007,
  '008-chat-history-and-threads': migration008,
  '009-gpt-builder-chat': migration009GptBuilderChat,
  '009-run-callers-and-consent-grants': migration009RunCallersAndConsentGrants,
  '011-model-usage': migration011ModelUsage,
  '012-run-api-keys': migration012RunApiKeys,
});
