// API keys of a workspace the signed-in person belongs to: list, create (the secret is in this
// one response only) and revoke.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccountServices } from '../../platform/account-services.js';
import { requireSession } from '../auth.js';
import { parseBody } from '../parse.js';
import { toWireApiKey } from '../to-wire-api-key.js';

const CreateParams = z.object({ name: z.string().trim().min(1).max(100) });

interface WorkspaceRoute {
  Params: { workspace_id: string };
}

interface KeyRoute {
  Params: { workspace_id: string; api_key_id: string };
}

export function registerApiWorkspaceKeys(
  app: FastifyInstance,
  { apiKeys }: Pick<AccountServices, 'apiKeys'>,
): void {
  app.get<WorkspaceRoute>('/api/workspaces/:workspace_id/api-keys', async (request) => {
    const { session } = requireSession(request);
    const keys = await apiKeys.list({
      accountId: session.accountId,
      workspaceId: request.params.workspace_id,
    });
    return { object: 'list', data: keys.map(toWireApiKey) };
  });

  app.post<WorkspaceRoute>('/api/workspaces/:workspace_id/api-keys', async (request, reply) => {
    const { session } = requireSession(request);
    const { name } = parseBody(CreateParams, request.body);
    const { apiKey, secret } = await apiKeys.create({
      accountId: session.accountId,
      workspaceId: request.params.workspace_id,
      name,
    });
    return reply.code(201).send({ ...toWireApiKey(apiKey), secret });
  });

  app.delete<KeyRoute>('/api/workspaces/:workspace_id/api-keys/:api_key_id', async (request) => {
    const { session } = requireSession(request);
    const revoked = await apiKeys.revoke({
      accountId: session.accountId,
      workspaceId: request.params.workspace_id,
      apiKeyId: request.params.api_key_id,
    });
    return toWireApiKey(revoked);
  });
}
