// Cursor pages of the Assistants family (assistants, messages, runs, run steps, v1 files):
// `{object: "list", data, first_id, last_id, has_more}` queried with limit/order/after/before.
import { z } from 'zod';

export interface CursorPage<Item> {
  object: 'list';
  data: Item[];
  /** Null on an empty page, as OpenAI answers. */
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Query parameters of every cursor-paged list (strings on the wire, hence the coercion). */
export const CursorPageParams = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
});
export type CursorPageParams = z.infer<typeof CursorPageParams>;
