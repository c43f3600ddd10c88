import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  accepts,
  type Dfa,
  intersectDfa,
  isEmpty,
  limitLength,
  patternDfa,
  UnsupportedConstraint,
} from './string-automaton.js';
import { STRING_FORMATS } from './string-formats.js';

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A random string the automaton accepts: a walk that stops at accepting states now and then. */
function walk(dfa: Dfa, next: () => number): string {
  let state = dfa.start;
  let text = '';
  for (let step = 0; step < 200; step++) {
    const edges = dfa.edges[state]!;
    if (dfa.accepting[state] && (edges.length === 0 || next() < 0.15)) return text;
    const edge = edges[Math.floor(next() * edges.length)]!;
    const [lo, hi] = edge.set[Math.floor(next() * edge.set.length)]!;
    // Mostly near the start of a range, where the interesting characters are.
    const span = Math.min(hi - lo, next() < 0.8 ? 200 : hi - lo);
    text += String.fromCodePoint(lo + Math.floor(next() * (span + 1)));
    state = edge.to;
  }
  return text;
}

/** Strings over an alphabet that probes the pattern: its own characters and a few others. */
function probes(pattern: string, count: number, next: () => number): string[] {
  const alphabet = [
    ...new Set([...pattern.replace(/[\\^$()[\]{}|?*+]/g, ''), 'a', 'Z', '0', '9', ' ', '\n', '-', '.']),
  ];
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * 9);
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  });
}

const PATTERNS = [
  '^[0-9]{3}$',
  '^(?:TK|BUG)-[1-9]\\d{2,4}$',
  '^[a-z][a-z0-9_]{0,7}(\\.(md|txt))?$',
  '^#([0-9a-fA-F]{3}){1,2}$',
  'ab+c',
  '^\\S+$',
  '^[^a-c]*$',
  '^a|b$',
  'x$',
  '^(a|ab)(c|bcd)(d*)$',
  '^.{2,4}$',
  '^\\w+\\s\\w+$',
  '^[\\d.-]+$',
  '^(?<year>\\d{4})-\\d\\d$',
  '^a*?b+?$',
  '^\\u0041\\x42\\t$',
  '^[\\]\\\\]$',
  '^$',
  '',
  '^a{2}b{0,}c{1,}$',
  '^(?:)$',
  '(^|,)x(,|$)',
];

describe('patterns', () => {
  it.each(PATTERNS)('%j: the automaton accepts exactly what RegExp matches', (pattern) => {
    const dfa = patternDfa(pattern);
    const regex = new RegExp(pattern, 'u');
    const next = random(pattern.length + 7);
    const samples = [...probes(pattern, 400, next), ...Array.from({ length: 100 }, () => walk(dfa, next))];
    for (const text of samples) expect(accepts(dfa, text), JSON.stringify(text)).toBe(regex.test(text));
  });

  it('anchors follow ECMAScript: $ only at the very end, ^ only at the very start', () => {
    const dfa = patternDfa('^ab$');
    expect(accepts(dfa, 'ab')).toBe(true);
    expect(accepts(dfa, 'ab\n')).toBe(false);
    expect(accepts(dfa, 'xab')).toBe(false);
    expect(isEmpty(patternDfa('a^b'))).toBe(true);
  });

  it.each([
    ['^(a)\\1$', 'it uses a backreference'],
    ['^(?<x>a)\\k<x>$', 'it uses a backreference'],
    ['^(?=a)\\w+$', 'it uses a lookaround assertion'],
    ['^(?!a)\\w+$', 'it uses a lookaround assertion'],
    ['(?<=a)b', 'it uses a lookaround assertion'],
    ['\\bword\\b', 'it uses a word boundary (\\b)'],
    ['^\\p{L}+$', 'it uses a Unicode property escape (\\p{…})'],
    ['^[a-z', 'it is not a valid regular expression'],
    ['^(?:a{1000}){1000}$', 'it needs too large a grammar'],
    ['^a{2000}$', 'it repeats something more than 1000 times'],
  ])('%j is refused: %s', (pattern, reason) => {
    let error: unknown;
    try {
      patternDfa(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedConstraint);
    expect((error as Error).message).toBe(reason);
  });
});

describe('formats', () => {
  it.each([...STRING_FORMATS.keys()])(
    'every %s the automaton allows is one ajv-formats accepts',
    (format) => {
      const dfa = patternDfa(STRING_FORMATS.get(format)!);
      const definition = ajvFormats.default.get(
        format as Parameters<typeof ajvFormats.default.get>[0],
      ) as unknown;
      const check =
        typeof definition === 'object' && definition !== null && 'validate' in definition
          ? definition.validate
          : definition;
      const validate = (text: string): boolean =>
        check instanceof RegExp ? check.test(text) : (check as (text: string) => boolean)(text);
      const next = random(format.length);
      const texts = Array.from({ length: 500 }, () => walk(dfa, next)).filter((text) => accepts(dfa, text));
      expect(texts.length).toBeGreaterThan(400);
      for (const text of texts) expect(validate(text), `${format}: ${JSON.stringify(text)}`).toBe(true);
    },
  );

  it('dates have real month lengths and leap days', () => {
    const dfa = patternDfa(STRING_FORMATS.get('date')!);
    expect(accepts(dfa, '2024-02-29')).toBe(true);
    expect(accepts(dfa, '2000-02-29')).toBe(true);
    expect(accepts(dfa, '1900-02-29')).toBe(false);
    expect(accepts(dfa, '2023-02-29')).toBe(false);
    expect(accepts(dfa, '2023-04-31')).toBe(false);
    expect(accepts(dfa, '2023-12-31')).toBe(true);
  });
});

describe('combining', () => {
  it('intersects patterns and bounds lengths', () => {
    const both = intersectDfa(patternDfa('^[a-z]+$'), patternDfa('x'));
    const bounded = limitLength(both, 2, 4);
    const next = random(3);
    for (let index = 0; index < 300; index++) {
      const text = walk(bounded, next);
      expect(text).toMatch(/^[a-z]{2,4}$/);
      expect(text).toContain('x');
    }
    expect(accepts(bounded, 'x')).toBe(false);
    expect(accepts(bounded, 'abxd')).toBe(true);
    expect(accepts(bounded, 'abcde')).toBe(false);
    expect(isEmpty(limitLength(patternDfa('^[0-9]{5}$'), 0, 4))).toBe(true);
  });

  it('counts code points, as JSON Schema lengths do', () => {
    const dfa = limitLength(patternDfa('^.*$'), 1, 1);
    expect(accepts(dfa, '😀')).toBe(true);
    expect(accepts(dfa, 'ab')).toBe(false);
  });
});
