// OpenAI-style cursor paging over a `seq` column: `limit`, `order`, `after`, `before`, and
// whether more items lie beyond the page. Repositories build the query; this decides its bounds
// and direction and trims the result.

export type SortOrder = 'asc' | 'desc';

export interface PageRequest {
  readonly limit: number;
  readonly order: SortOrder;
  /** Sequence of the `after` cursor: the page starts just past it, in list order. */
  readonly afterSeq?: number | undefined;
  /** Sequence of the `before` cursor: the page ends just before it, in list order. */
  readonly beforeSeq?: number | undefined;
}

export interface Page<Item> {
  readonly data: readonly Item[];
  readonly hasMore: boolean;
}

export interface PagePlan {
  /** Bounds on seq, exclusive. */
  readonly greaterThan: number | undefined;
  readonly lessThan: number | undefined;
  /** The direction to read in: towards the far end of the page from its anchor. */
  readonly direction: SortOrder;
  /** limit + 1: the extra row says whether there is more. */
  readonly take: number;
  readonly limit: number;
  /** Read backwards from `before`: reverse to list order. */
  readonly reverse: boolean;
}

export function planPage({ limit, order, afterSeq, beforeSeq }: PageRequest): PagePlan {
  const descending = order === 'desc';
  // In a descending list, "after X" means older (smaller seq), "before X" newer.
  const afterBound =
    afterSeq === undefined ? {} : descending ? { lessThan: afterSeq } : { greaterThan: afterSeq };
  const beforeBound =
    beforeSeq === undefined ? {} : descending ? { greaterThan: beforeSeq } : { lessThan: beforeSeq };
  const { greaterThan, lessThan } = { ...afterBound, ...beforeBound } as {
    greaterThan?: number;
    lessThan?: number;
  };
  // With only `before`, read from the cursor outwards so the page is the one right before it.
  const reverse = beforeSeq !== undefined && afterSeq === undefined;
  const direction: SortOrder = reverse ? (descending ? 'asc' : 'desc') : order;
  return { greaterThan, lessThan, direction, take: limit + 1, limit, reverse };
}

export function finishPage<Item>(rows: readonly Item[], plan: PagePlan): Page<Item> {
  const hasMore = rows.length > plan.limit;
  const kept = rows.slice(0, plan.limit);
  return { data: plan.reverse ? kept.reverse() : kept, hasMore };
}

/** The slice of a Kysely select over a table with `seq` and `id` columns that paging needs. */
interface SeqPagedQuery<Row> {
  where(column: 'seq', operator: '>' | '<', value: number): SeqPagedQuery<Row>;
  orderBy(column: 'seq' | 'id', direction: SortOrder): SeqPagedQuery<Row>;
  limit(count: number): SeqPagedQuery<Row>;
  execute(): Promise<Row[]>;
}

/** Applies the plan's bounds, order and limit to `query`, runs it and trims the page. */
export async function readPage<Row>(query: SeqPagedQuery<Row>, plan: PagePlan): Promise<Page<Row>> {
  let bounded = query;
  if (plan.greaterThan !== undefined) bounded = bounded.where('seq', '>', plan.greaterThan);
  if (plan.lessThan !== undefined) bounded = bounded.where('seq', '<', plan.lessThan);
  const rows = await bounded
    .orderBy('seq', plan.direction)
    .orderBy('id', plan.direction)
    .limit(plan.take)
    .execute();
  return finishPage(rows, plan);
}
