// `atelier keys create|list|revoke`: API keys of a workspace (the default one unless named).
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { openStorage } from '../main.js';
import { ensureDefaultWorkspace } from '../platform/api-keys.js';
import { type CliIo, configFrom, parseCommand } from './main.js';

export async function runKeys(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommand(rest, {
    name: { type: 'string' },
    role: { type: 'string' },
    workspace: { type: 'string' },
    all: { type: 'boolean' },
  });
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
    throw new InvalidRequestError('usage: atelier keys create|list|revoke');
  }
  const storage = await openStorage(configFrom(io));
  try {
    const { repositories } = storage;
    const workspaceId = values.workspace ?? (await ensureDefaultWorkspace(repositories)).id;
    if (values.workspace && !(await repositories.workspaces.findById(values.workspace))) {
      throw new NotFoundError(`No workspace with id ${values.workspace}.`);
    }
    switch (sub) {
      case 'create': {
        const role = values.role ?? 'member';
        if (role !== 'admin' && role !== 'member')
          throw new InvalidRequestError('--role must be admin or member');
        const { apiKey, secret } = await repositories.apiKeys.create({
          workspaceId,
          name: values.name ?? 'cli',
          role,
        });
        io.stderr.write(`Created API key ${apiKey.id} (${apiKey.role}) in workspace ${workspaceId}.\n`);
        io.stderr.write('Copy it now: it is shown only once.\n');
        io.stdout.write(`${secret}\n`);
        return 0;
      }
      case 'list': {
        const keys = await repositories.apiKeys.list({ workspaceId, includeRevoked: !!values.all });
        const rows = keys.map((key) => [
          key.id,
          key.name,
          key.role,
          key.redactedValue,
          isoDate(key.createdAt),
          key.lastUsedAt ? isoDate(key.lastUsedAt) : 'never',
          key.revokedAt ? `revoked ${isoDate(key.revokedAt)}` : 'active',
        ]);
        io.stdout.write(table([['ID', 'NAME', 'ROLE', 'KEY', 'CREATED', 'LAST USED', 'STATUS'], ...rows]));
        return 0;
      }
      case 'revoke': {
        const id = positionals[0];
        if (!id) throw new InvalidRequestError('usage: atelier keys revoke KEY_ID');
        const key = await repositories.apiKeys.findById(id);
        if (!key || key.workspaceId !== workspaceId)
          throw new NotFoundError(`No API key with id ${id} in workspace ${workspaceId}.`);
        await repositories.apiKeys.revoke(id);
        io.stdout.write(`Revoked ${id}.\n`);
        return 0;
      }
    }
  } finally {
    await storage.database.close();
  }
}

function isoDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
