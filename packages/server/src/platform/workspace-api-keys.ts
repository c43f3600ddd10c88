// API keys as people manage them in the web app: any member of a workspace may make keys and
// revoke their own; owners and admins see and revoke every key of the workspace. A workspace the
// person does not belong to reads as missing, so its existence is not revealed.

import { NotFoundError } from '../errors.js';
import type { ApiKey } from '../storage/repositories/api-keys-repository.js';
import type { WorkspaceRole } from '../storage/repositories/workspaces-repository.js';
import type { Repositories } from '../storage/repositories.js';

export interface WorkspaceApiKeys {
  list(params: { accountId: string; workspaceId: string }): Promise<readonly ApiKey[]>;
  /** The secret is returned this once and never again. */
  create(params: {
    accountId: string;
    workspaceId: string;
    name: string;
  }): Promise<{ readonly apiKey: ApiKey; readonly secret: string }>;
  revoke(params: { accountId: string; workspaceId: string; apiKeyId: string }): Promise<ApiKey>;
}

export function createWorkspaceApiKeys({ repositories }: { repositories: Repositories }): WorkspaceApiKeys {
  const roleIn = async (accountId: string, workspaceId: string): Promise<WorkspaceRole> => {
    const memberships = await repositories.workspaces.listForAccount(accountId);
    const membership = memberships.find((candidate) => candidate.workspace.id === workspaceId);
    if (!membership) {
      throw new NotFoundError(`No workspace with id '${workspaceId}'.`, { param: 'workspace_id' });
    }
    return membership.role;
  };
  const manages = (role: WorkspaceRole) => role === 'owner' || role === 'admin';

  return {
    async list({ accountId, workspaceId }) {
      const role = await roleIn(accountId, workspaceId);
      const keys = await repositories.apiKeys.list({ workspaceId });
      return manages(role) ? keys : keys.filter((key) => key.accountId === accountId);
    },

    async create({ accountId, workspaceId, name }) {
      const role = await roleIn(accountId, workspaceId);
      // A key can do what its maker can: admin keys only from those who administer the workspace.
      return repositories.apiKeys.create({
        workspaceId,
        accountId,
        name,
        role: manages(role) ? 'admin' : 'member',
      });
    },

    async revoke({ accountId, workspaceId, apiKeyId }) {
      const role = await roleIn(accountId, workspaceId);
      const key = await repositories.apiKeys.findById(apiKeyId);
      if (!key || key.workspaceId !== workspaceId || (!manages(role) && key.accountId !== accountId)) {
        throw new NotFoundError(`No API key with id '${apiKeyId}'.`, { param: 'api_key_id' });
      }
      await repositories.apiKeys.revoke(apiKeyId);
      return (await repositories.apiKeys.findById(apiKeyId)) ?? key;
    },
  };
}
