import { describe, expect, it } from 'vitest';
import { matchesFilter } from './attribute-filter.js';

const attributes = { author: 'ada', year: 2021, draft: false, region: 'eu' };

describe('matchesFilter', () => {
  it.each([
    [{ type: 'eq', key: 'author', value: 'ada' }, true],
    [{ type: 'eq', key: 'author', value: 'bob' }, false],
    [{ type: 'ne', key: 'author', value: 'bob' }, true],
    [{ type: 'ne', key: 'missing', value: 'x' }, true],
    [{ type: 'gt', key: 'year', value: 2020 }, true],
    [{ type: 'gte', key: 'year', value: 2021 }, true],
    [{ type: 'lt', key: 'year', value: 2021 }, false],
    [{ type: 'lte', key: 'year', value: 2021 }, true],
    [{ type: 'gt', key: 'author', value: 2020 }, false],
    [{ type: 'eq', key: 'draft', value: false }, true],
    [{ type: 'in', key: 'region', value: ['eu', 'us'] }, true],
    [{ type: 'nin', key: 'region', value: ['eu', 'us'] }, false],
    [{ type: 'in', key: 'missing', value: ['eu'] }, false],
  ] as const)('%j → %s', (filter, expected) => {
    expect(matchesFilter(attributes, filter)).toBe(expected);
  });

  it('combines with and/or, nested', () => {
    expect(
      matchesFilter(attributes, {
        type: 'and',
        filters: [
          { type: 'eq', key: 'author', value: 'ada' },
          {
            type: 'or',
            filters: [
              { type: 'gt', key: 'year', value: 2022 },
              { type: 'eq', key: 'region', value: 'eu' },
            ],
          },
        ],
      }),
    ).toBe(true);
    expect(
      matchesFilter(attributes, {
        type: 'or',
        filters: [
          { type: 'eq', key: 'author', value: 'bob' },
          { type: 'eq', key: 'draft', value: true },
        ],
      }),
    ).toBe(false);
  });
});
