// Reciprocal-rank fusion (Cormack, Clarke & Büttcher, 2009): each list gives an item
// 1 / (k + rank); the sums order the fused list. It needs no calibration between BM25 scores and
// vector distances, which is why hybrid search uses it. k = 60 is the paper's constant.

export const RRF_K = 60;

export interface FusedItem<Key> {
  readonly key: Key;
  /** Sum of 1 / (k + rank) over the lists the item is in (ranks start at 1). */
  readonly score: number;
  /** The item's rank in each list, or null where it is absent. */
  readonly ranks: readonly (number | null)[];
}

export function fuseRankings<Key>(lists: readonly (readonly Key[])[], k = RRF_K): FusedItem<Key>[] {
  const fused = new Map<Key, { score: number; ranks: (number | null)[] }>();
  for (const [listIndex, list] of lists.entries()) {
    for (const [position, key] of list.entries()) {
      let entry = fused.get(key);
      if (!entry) {
        entry = { score: 0, ranks: lists.map(() => null) };
        fused.set(key, entry);
      }
      // A key repeated within one list counts at its best rank only.
      if (entry.ranks[listIndex] !== null) continue;
      entry.ranks[listIndex] = position + 1;
      entry.score += 1 / (k + position + 1);
    }
  }
  return [...fused.entries()]
    .map(([key, { score, ranks }]) => ({ key, score, ranks }))
    .sort((left, right) => right.score - left.score);
}

/** The best score `lists` lists can give (rank 1 everywhere): divides scores into [0, 1]. */
export function maxFusedScore(lists: number, k = RRF_K): number {
  return lists / (k + 1);
}
