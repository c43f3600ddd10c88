import { describe, expect, it } from 'vitest';
import { groupByDate } from './date-groups';

describe('history date groups', () => {
  it('groups newest first into today, yesterday, 7 and 30 days, then months', () => {
    const now = new Date(2026, 10, 25, 15, 0); // 25 November 2026, 15:00 local time
    const at = (year: number, month: number, day: number, hour = 12) =>
      Math.floor(new Date(year, month, day, hour).getTime() / 1000);
    const items = [
      { id: 'a', updatedAt: at(2026, 10, 25, 1) },
      { id: 'b', updatedAt: at(2026, 10, 24, 23) },
      { id: 'c', updatedAt: at(2026, 10, 20) },
      { id: 'd', updatedAt: at(2026, 10, 1) },
      { id: 'e', updatedAt: at(2026, 9, 10) },
      { id: 'f', updatedAt: at(2026, 9, 2) },
      { id: 'g', updatedAt: at(2025, 11, 31) },
    ];
    expect(
      groupByDate(items, now).map(({ key, items: group }) => [key, group.map((item) => item.id)]),
    ).toEqual([
      ['today', ['a']],
      ['yesterday', ['b']],
      ['previous7', ['c']],
      ['previous30', ['d']],
      ['2026-9', ['e', 'f']],
      ['2025-11', ['g']],
    ]);
  });
});
