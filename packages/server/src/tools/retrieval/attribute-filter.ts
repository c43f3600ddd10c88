// Filters on vector-store file attributes, as OpenAI's search takes them: comparisons
// (eq, ne, gt, gte, lt, lte, in, nin) on one key, combined with and/or.

import type { Attributes, AttributeValue } from '../../storage/repositories/vector-store-files-repository.js';

export type ComparisonFilter = {
  readonly type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
  readonly key: string;
  readonly value: AttributeValue | readonly (string | number)[];
};

export type CompoundFilter = {
  readonly type: 'and' | 'or';
  readonly filters: readonly AttributeFilter[];
};

export type AttributeFilter = ComparisonFilter | CompoundFilter;

export function matchesFilter(attributes: Attributes, filter: AttributeFilter): boolean {
  if ('filters' in filter) {
    return filter.type === 'and'
      ? filter.filters.every((inner) => matchesFilter(attributes, inner))
      : filter.filters.some((inner) => matchesFilter(attributes, inner));
  }
  const actual = attributes[filter.key];
  const expected = filter.value;
  switch (filter.type) {
    case 'eq':
      return actual !== undefined && actual === expected;
    case 'ne':
      return actual !== expected;
    case 'in':
      return actual !== undefined && Array.isArray(expected) && (expected as unknown[]).includes(actual);
    case 'nin':
      return !(Array.isArray(expected) && (expected as unknown[]).includes(actual));
    default: {
      // Order comparisons only between two numbers or two strings.
      if (actual === undefined || Array.isArray(expected) || typeof actual !== typeof expected) return false;
      if (typeof actual === 'boolean') return false;
      const left = actual as number | string;
      const right = expected as number | string;
      if (filter.type === 'gt') return left > right;
      if (filter.type === 'gte') return left >= right;
      if (filter.type === 'lt') return left < right;
      return left <= right;
    }
  }
}
