// Who is making a request: an API key or a web session, the person behind it (when there is
// one) and the workspace it may reach.

export interface Principal {
  /** The API key the request presented; null when it came with a web session. */
  readonly apiKeyId: string | null;
  /** The person: a session's account or a personal key's owner; null for a workspace key. */
  readonly accountId: string | null;
  readonly workspaceId: string;
  readonly role: 'admin' | 'member';
}

export interface ApiKeyVerifier {
  /** The principal for a presented secret, or null when it is unknown or revoked. */
  verify(secret: string): Promise<Principal | null>;
}
