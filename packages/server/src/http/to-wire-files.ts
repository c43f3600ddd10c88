// Domain → wire for files and the cursor pages of lists.
import type { CursorPage, FileObject } from '@atelier/protocol';
import type { Page } from '../storage/paging.js';
import type { StoredFile } from '../storage/repositories/files-repository.js';

export function toWireFile(file: StoredFile): FileObject {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    ...(file.expiresAt === null ? {} : { expires_at: file.expiresAt }),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
  };
}

/** `{object: "list", data, first_id, last_id, has_more}` with `id` of the wire objects. */
export function toWirePage<Item, Wire extends { id: string }>(
  page: Page<Item>,
  convert: (item: Item) => Wire,
): CursorPage<Wire> {
  const data = page.data.map(convert);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  };
}
