// History's date groups, as ChatGPT shows them: Today, Yesterday, Previous 7 days, Previous 30
// days, then one group per month (with the year once it is not this year).

export type DateGroup =
  | { readonly kind: 'today' | 'yesterday' | 'previous7' | 'previous30' }
  | { readonly kind: 'month'; readonly year: number; readonly month: number };

export interface Grouped<Item> {
  readonly key: string;
  readonly group: DateGroup;
  readonly items: Item[];
}

const DAY = 24 * 60 * 60 * 1000;

export function dateGroupOf(timestampSeconds: number, now: Date): DateGroup {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const time = timestampSeconds * 1000;
  if (time >= startOfToday) return { kind: 'today' };
  if (time >= startOfToday - DAY) return { kind: 'yesterday' };
  if (time >= startOfToday - 7 * DAY) return { kind: 'previous7' };
  if (time >= startOfToday - 30 * DAY) return { kind: 'previous30' };
  const date = new Date(time);
  return { kind: 'month', year: date.getFullYear(), month: date.getMonth() };
}

/** Groups items (newest first, as the server lists them) without reordering them. */
export function groupByDate<Item extends { readonly updatedAt: number }>(
  items: readonly Item[],
  now: Date,
): Grouped<Item>[] {
  const groups: Grouped<Item>[] = [];
  for (const item of items) {
    const group = dateGroupOf(item.updatedAt, now);
    const key = group.kind === 'month' ? `${group.year}-${group.month}` : group.kind;
    const last = groups.at(-1);
    if (last?.key === key) last.items.push(item);
    else groups.push({ key, group, items: [item] });
  }
  return groups;
}
