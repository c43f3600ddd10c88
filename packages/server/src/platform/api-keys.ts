// API keys as the product uses them: verifying a request's key (recording use at most once a
// minute per key), the default workspace, and the bootstrap admin key from the environment.
import { ConflictError } from '../errors.js';
import type { Workspace } from '../storage/repositories/workspaces-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { ApiKeyVerifier, Principal } from './principal.js';

const TOUCH_INTERVAL_SECONDS = 60;
const DEFAULT_OWNER_EMAIL = 'owner@atelier.local';

export function createApiKeyVerifier({
  repositories,
  now = () => Math.floor(Date.now() / 1000),
}: {
  repositories: Repositories;
  now?: () => number;
}): ApiKeyVerifier {
  const lastTouched = new Map<string, number>();
  return {
    async verify(secret: string): Promise<Principal | null> {
      const apiKey = await repositories.apiKeys.findActiveBySecret(secret);
      if (!apiKey) return null;
      const at = now();
      if ((lastTouched.get(apiKey.id) ?? 0) + TOUCH_INTERVAL_SECONDS <= at) {
        lastTouched.set(apiKey.id, at);
        // Recording use must never fail or slow the request it belongs to.
        repositories.apiKeys.touchLastUsed(apiKey.id, at).catch(() => lastTouched.delete(apiKey.id));
      }
      return {
        apiKeyId: apiKey.id,
        accountId: apiKey.accountId,
        workspaceId: apiKey.workspaceId,
        role: apiKey.role,
      };
    },
  };
}

/** The workspace that owns keys made from the CLI or the environment, created on first use. */
export async function ensureDefaultWorkspace(repositories: Repositories): Promise<Workspace> {
  return repositories.transaction(async (scoped) => {
    let owner = await scoped.accounts.findByEmail(DEFAULT_OWNER_EMAIL);
    owner ??= await scoped.accounts.create({ name: 'Owner', email: DEFAULT_OWNER_EMAIL });
    const memberships = await scoped.workspaces.listForAccount(owner.id);
    const existing = memberships.find((membership) => membership.role === 'owner');
    if (existing) return existing.workspace;
    return scoped.workspaces.create({ name: 'Default workspace', kind: 'team', ownerAccountId: owner.id });
  });
}

/**
 * Makes sure `ATELIER_BOOTSTRAP_API_KEY` works as an admin key of the default workspace.
 * A bootstrap key that was revoked stays revoked: returns 'revoked' so start-up can say so.
 */
export async function ensureBootstrapApiKey({
  repositories,
  secret,
}: {
  repositories: Repositories;
  secret: string;
}): Promise<'existing' | 'created' | 'revoked'> {
  if (await repositories.apiKeys.findActiveBySecret(secret)) return 'existing';
  const workspace = await ensureDefaultWorkspace(repositories);
  try {
    await repositories.apiKeys.create({
      workspaceId: workspace.id,
      name: 'bootstrap',
      role: 'admin',
      secret,
    });
    return 'created';
  } catch (error) {
    // The hash is unique: a conflict means this secret exists, so it was revoked.
    if (error instanceof ConflictError) return 'revoked';
    throw error;
  }
}
