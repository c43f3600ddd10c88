// The signed-in person's own account: preferences (custom instructions, theme, language, chat
// history & training) and deleting the account.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccountServices } from '../../platform/account-services.js';
import { requireSession } from '../auth.js';
import { parseBody } from '../parse.js';
import { clearSessionCookie } from '../session-cookie.js';
import { toWirePreferences } from '../to-wire-account.js';
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
  { accounts, sessions, events }: Pick<AccountServices, 'accounts' | 'sessions' | 'events'>,
): void {
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
