// The signed-in person's own account: preferences (custom instructions, theme, language, chat
// history & training), the export of everything they keep here, and deleting the account.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccountExport } from '../../platform/account-export.js';
import type { AccountServices } from '../../platform/account-services.js';
import type { Gpt, GptConfig } from '../../storage/repositories/gpts-repository.js';
import { requireSession } from '../auth.js';
import { parseBody } from '../parse.js';
import { clearSessionCookie } from '../session-cookie.js';
import { toWireAccount, toWireMembership, toWirePreferences } from '../to-wire-account.js';
import { toWireChat } from '../to-wire-chat-history.js';
import { toWireFile } from '../to-wire-files.js';
import { tabOrigin } from './api-events.js';

/** ChatGPT's custom instructions allow 1,500 characters per field. */
export const CUSTOM_INSTRUCTIONS_MAX_LENGTH = 1500;

const PreferencesParams = z.object({
  about_me: z.string().max(CUSTOM_INSTRUCTIONS_MAX_LENGTH).optional(),
  response_style: z.string().max(CUSTOM_INSTRUCTIONS_MAX_LENGTH).optional(),
  custom_instructions_enabled: z.boolean().optional(),
  theme: z.enum(['system', 'light', 'dark']).optional(),
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as "en" or "ko"')
    .nullable()
    .optional(),
  chat_history_enabled: z.boolean().optional(),
});

const DeleteAccountParams = z.object({ password: z.string().max(4096) });

export function registerApiAccount(
  app: FastifyInstance,
  {
    accounts,
    sessions,
    events,
    dataExport,
  }: Pick<AccountServices, 'accounts' | 'sessions' | 'events' | 'dataExport'>,
): void {
  // One JSON document, streamed as it is read (chats one by one), as a download.
  app.get('/api/account/export', async (request, reply) => {
    const { session } = requireSession(request);
    const profile = await dataExport.profile(session.accountId);
    const day = new Date().toISOString().slice(0, 10);
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="atelier-export-${day}.json"`)
      .send(Readable.from(exportDocument(dataExport, profile)));
  });

  app.patch('/api/account/preferences', async (request) => {
    const { session } = requireSession(request);
    const params = parseBody(PreferencesParams, request.body);
    const preferences = await accounts.updatePreferences(session.accountId, {
      ...(params.about_me !== undefined ? { aboutMe: params.about_me } : {}),
      ...(params.response_style !== undefined ? { responseStyle: params.response_style } : {}),
      ...(params.custom_instructions_enabled !== undefined
        ? { customInstructionsEnabled: params.custom_instructions_enabled }
        : {}),
      ...(params.theme !== undefined ? { theme: params.theme } : {}),
      ...(params.language !== undefined ? { language: params.language } : {}),
      ...(params.chat_history_enabled !== undefined
        ? { chatHistoryEnabled: params.chat_history_enabled }
        : {}),
    });
    // The person's other pages apply them too (theme, language, the history switch).
    events
      .publish(session.accountId, { type: 'preferences.updated', preferences, origin: tabOrigin(request) })
      .catch(() => {});
    return toWirePreferences(preferences);
  });

  app.delete('/api/account', async (request, reply) => {
    const { session } = requireSession(request);
    const { password } = parseBody(DeleteAccountParams, request.body);
    await accounts.deleteAccount({ accountId: session.accountId, password });
    // The sessions went with the account; the cookie goes too.
    await sessions.endAll(session.accountId);
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });
}

/** The export, piece by piece: the account first, then each list item by item. */
async function* exportDocument(
  dataExport: AccountExport,
  profile: Awaited<ReturnType<AccountExport['profile']>>,
): AsyncIterable<string> {
  const head = {
    object: 'account_export',
    exported_at: Math.floor(Date.now() / 1000),
    account: toWireAccount(profile.account),
    preferences: toWirePreferences(profile.preferences),
    workspaces: profile.workspaces.map(toWireMembership),
  };
  yield JSON.stringify(head).slice(0, -1);
  yield* list('files', dataExport.files(profile), toWireFile);
  yield* list('gpts', dataExport.gpts(profile.account.id), toWireExportedGpt);
  yield* list('chats', dataExport.chats(profile.account.id), (chat) => toWireChat(chat));
  yield '}\n';
}

async function* list<Item>(
  name: string,
  items: AsyncIterable<Item>,
  toWire: (item: Item) => unknown,
): AsyncIterable<string> {
  yield `,${JSON.stringify(name)}:[`;
  let first = true;
  for await (const item of items) {
    yield `${first ? '' : ','}${JSON.stringify(toWire(item))}`;
    first = false;
  }
  yield ']';
}

/** A GPT the person built: its settings, its draft and its latest published version. */
function toWireExportedGpt(gpt: Gpt) {
  return {
    id: gpt.id,
    object: 'gpt',
    workspace_id: gpt.workspaceId,
    visibility: gpt.visibility,
    category: gpt.category,
    allow_training: gpt.allowTraining,
    created_at: gpt.createdAt,
    updated_at: gpt.updatedAt,
    draft: toWireGptConfig(gpt.draft),
    published: gpt.published
      ? {
          version: gpt.published.version,
          published_at: gpt.published.publishedAt,
          config: toWireGptConfig(gpt.published.config),
        }
      : null,
  };
}

function toWireGptConfig(config: GptConfig) {
  return {
    name: config.name,
    description: config.description,
    instructions: config.instructions,
    model: config.model,
    conversation_starters: config.conversationStarters,
    capabilities: {
      browsing: config.capabilities.browsing,
      image_generation: config.capabilities.imageGeneration,
      code_interpreter: config.capabilities.codeInterpreter,
    },
    avatar_file_id: config.avatarFileId,
    knowledge_file_ids: config.knowledgeFileIds,
    action_ids: config.actionIds,
  };
}
