// Workspace API keys as the web app's /api sends them: never the secret, except once at creation.
import type { ApiKey } from '../storage/repositories/api-keys-repository.js';

export function toWireApiKey(apiKey: ApiKey) {
  return {
    id: apiKey.id,
    object: 'api_key' as const,
    name: apiKey.name,
    redacted_value: apiKey.redactedValue,
    role: apiKey.role,
    account_id: apiKey.accountId,
    created_at: apiKey.createdAt,
    last_used_at: apiKey.lastUsedAt,
    revoked_at: apiKey.revokedAt,
  };
}
