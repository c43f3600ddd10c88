// The web app's own endpoints under /api (JSON, snake_case, errors in the OpenAI envelope like
// /v1): accounts and sessions, preferences, workspace API keys, chat history and the live events
// that keep a person's open pages in step. Every request
// resumes the session cookie; every request that changes something must pass the CSRF checks.
import type { FastifyInstance } from 'fastify';
import type { AccountServices } from '../../platform/account-services.js';
import { createSessionHook } from '../auth.js';
import { registerApiAccount } from './api-account.js';
import { registerApiChats } from './api-chats.js';
import { registerApiEvents } from './api-events.js';
import { registerApiSession } from './api-session.js';
import { registerApiWorkspaceKeys } from './api-workspace-keys.js';

export async function registerWebApi(app: FastifyInstance, services: AccountServices): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', createSessionHook({ sessions: services.sessions }));
    // Personal data: never kept by a shared cache or the browser's back/forward cache.
    api.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    registerApiSession(api, services);
    registerApiAccount(api, services);
    registerApiWorkspaceKeys(api, services);
    registerApiChats(api, services);
    registerApiEvents(api, services);
  });
}
