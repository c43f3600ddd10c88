// Regular string constraints (JSON Schema `pattern`, `format`, `minLength`/`maxLength`) as finite
// automata: an ECMAScript regex subset is parsed, determinised, intersected with the other
// constraints, and written as a GBNF rule set for the JSON string that holds such a value.

/** Sorted, disjoint, inclusive code point ranges. */
export type CharSet = readonly (readonly [number, number])[];

/** Every code point a JSON string can hold as text (no lone surrogates). */
const UNIVERSE: CharSet = [
  [0, 0xd7ff],
  [0xe000, 0x10ffff],
];
const DIGITS: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
/** ECMAScript `\s`: WhiteSpace and LineTerminator. */
const SPACE: CharSet = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const LINE_TERMINATORS: CharSet = normalize([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);

/** The most automaton states one string constraint may take: past it, the grammar gets too big. */
export const MAX_STATES = 4000;
/** Automata up to this size are minimised before they become grammar rules. */
const MAX_MINIMIZED = 600;
/** The largest `{m,n}` count a pattern may use. */
const MAX_REPEAT = 1000;

/** A constraint this module cannot turn into an automaton; the message says why. */
export class UnsupportedConstraint extends Error {}

// ---------------------------------------------------------------------------------------------
// Character sets

function normalize(ranges: readonly (readonly [number, number])[]): CharSet {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function union(a: CharSet, b: CharSet): CharSet {
  return normalize([...a, ...b]);
}

export function intersect(a: CharSet, b: CharSet): CharSet {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [aLo, aHi] = a[i]!;
    const [bLo, bHi] = b[j]!;
    const lo = Math.max(aLo, bLo);
    const hi = Math.min(aHi, bHi);
    if (lo <= hi) out.push([lo, hi]);
    if (aHi < bHi) i++;
    else j++;
  }
  return out;
}

export function subtract(a: CharSet, b: CharSet): CharSet {
  return intersect(a, complement(b));
}

function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return intersect(out, UNIVERSE);
}

function contains(set: CharSet, code: number): boolean {
  let low = 0;
  let high = set.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [lo, hi] = set[middle]!;
    if (code < lo) high = middle - 1;
    else if (code > hi) low = middle + 1;
    else return true;
  }
  return false;
}

function single(code: number): CharSet {
  return [[code, code]];
}

function sameSet(a: CharSet, b: CharSet): boolean {
  return a.length === b.length && a.every(([lo, hi], index) => lo === b[index]![0] && hi === b[index]![1]);
}

// ---------------------------------------------------------------------------------------------
// Regex syntax: the ECMAScript subset a grammar can hold

type RegexNode =
  | { readonly kind: 'chars'; readonly set: CharSet }
  | { readonly kind: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alt'; readonly options: readonly RegexNode[] }
  | { readonly kind: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number }
  | { readonly kind: 'start' }
  | { readonly kind: 'end' };

/**
 * Parses `pattern` as ECMAScript (what JSON Schema specifies): literals and escapes, classes with
 * ranges and negation, `\d \w \s` and their negations, `.`, groups (capturing, `(?:…)`, named),
 * alternation, greedy or lazy quantifiers, and `^`/`$` anchors. Throws UnsupportedConstraint for
 * what has no regular-language meaning (backreferences, lookarounds, word boundaries) or is not
 * handled (Unicode property escapes).
 */
export function parseRegex(pattern: string): RegexNode {
  let valid = false;
  for (const flags of ['u', '']) {
    try {
      new RegExp(pattern, flags);
      valid = true;
      break;
    } catch {
      // Tried without the `u` flag next.
    }
  }
  if (!valid) throw new UnsupportedConstraint('it is not a valid regular expression');
  const codes = Array.from(pattern, (char) => char.codePointAt(0)!);
  let position = 0;
  const peek = (offset = 0) => codes[position + offset];
  const at = (char: string, offset = 0) => codes[position + offset] === char.codePointAt(0);
  const fail = (reason: string): never => {
    throw new UnsupportedConstraint(reason);
  };

  const parseAlternation = (): RegexNode => {
    const options = [parseSequence()];
    while (at('|')) {
      position++;
      options.push(parseSequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  };

  const parseSequence = (): RegexNode => {
    const items: RegexNode[] = [];
    while (position < codes.length && !at('|') && !at(')')) items.push(parseQuantified());
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  };

  /** `{m}`, `{m,}` or `{m,n}` at the cursor, or undefined (a plain `{` is a literal). */
  const readBraces = (): { min: number; max: number; length: number } | undefined => {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...codes.slice(position, position + 24)));
    if (!match) return undefined;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Number.POSITIVE_INFINITY : Number(match[3]);
    return { min, max, length: match[0].length };
  };

  const parseQuantified = (): RegexNode => {
    const atom = parseAtom();
    let node = atom;
    for (;;) {
      let min: number;
      let max: number;
      if (at('*')) [min, max, position] = [0, Number.POSITIVE_INFINITY, position + 1];
      else if (at('+')) [min, max, position] = [1, Number.POSITIVE_INFINITY, position + 1];
      else if (at('?')) [min, max, position] = [0, 1, position + 1];
      else {
        const braces = at('{') ? readBraces() : undefined;
        if (!braces) break;
        ({ min, max } = braces);
        position += braces.length;
      }
      if (node !== atom) fail('a quantifier follows another quantifier');
      if (atom.kind === 'start' || atom.kind === 'end') fail('an anchor cannot be repeated');
      if (min > max) fail('a {m,n} quantifier has m greater than n');
      if (min > MAX_REPEAT || (max !== Number.POSITIVE_INFINITY && max > MAX_REPEAT)) {
        fail(`it repeats something more than ${MAX_REPEAT} times`);
      }
      if (at('?')) position++; // Laziness changes which match is found, not whether one is.
      node = { kind: 'repeat', item: atom, min, max };
    }
    return node;
  };

  const parseAtom = (): RegexNode => {
    const code = peek()!;
    const char = String.fromCodePoint(code);
    position++;
    switch (char) {
      case '(': {
        if (at('?')) {
          if (at(':', 1)) position += 2;
          else if (at('=', 1) || at('!', 1) || (at('<', 1) && (at('=', 2) || at('!', 2)))) {
            fail('it uses a lookaround assertion');
          } else if (at('<', 1)) {
            const close = codes.indexOf('>'.codePointAt(0)!, position);
            if (close < 0) fail('a named group is not closed');
            position = close + 1;
          } else fail('it uses a group syntax that is not supported');
        }
        const inner = parseAlternation();
        if (!at(')')) fail('a group is not closed');
        position++;
        return inner;
      }
      case ')':
        return fail('a parenthesis is not opened');
      case '[':
        return { kind: 'chars', set: parseClass() };
      case '.':
        return { kind: 'chars', set: subtract(UNIVERSE, LINE_TERMINATORS) };
      case '^':
        return { kind: 'start' };
      case '$':
        return { kind: 'end' };
      case '*':
      case '+':
      case '?':
        return fail('a quantifier has nothing to repeat');
      case '{': {
        position--;
        if (readBraces()) fail('a quantifier has nothing to repeat');
        position++;
        return { kind: 'chars', set: single(code) };
      }
      case '\\':
        return parseEscape(false);
      default:
        return { kind: 'chars', set: single(code) };
    }
  };

  const hex = (digits: number): number => {
    const text = String.fromCodePoint(...codes.slice(position, position + digits));
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(text)) fail('an escape has too few hex digits');
    position += digits;
    return Number.parseInt(text, 16);
  };

  /** The escape after a backslash; `inClass` reads `\b` as backspace and `\-` as a hyphen. */
  const parseEscape = (inClass: boolean): RegexNode & { kind: 'chars' } => {
    if (position >= codes.length) fail('the pattern ends with a backslash');
    const char = String.fromCodePoint(peek()!);
    position++;
    const chars = (set: CharSet) => ({ kind: 'chars' as const, set });
    switch (char) {
      case 'd':
        return chars(DIGITS);
      case 'D':
        return chars(subtract(UNIVERSE, DIGITS));
      case 'w':
        return chars(WORD);
      case 'W':
        return chars(subtract(UNIVERSE, WORD));
      case 's':
        return chars(SPACE);
      case 'S':
        return chars(subtract(UNIVERSE, SPACE));
      case 't':
        return chars(single(0x09));
      case 'n':
        return chars(single(0x0a));
      case 'v':
        return chars(single(0x0b));
      case 'f':
        return chars(single(0x0c));
      case 'r':
        return chars(single(0x0d));
      case 'b':
        if (inClass) return chars(single(0x08));
        return fail('it uses a word boundary (\\b)');
      case 'B':
        return fail('it uses a word boundary (\\B)');
      case 'c': {
        const letter = peek();
        if (letter === undefined || !/[A-Za-z]/.test(String.fromCodePoint(letter))) {
          return fail('\\c must be followed by a letter');
        }
        position++;
        return chars(single(letter % 32));
      }
      case 'x':
        return chars(single(hex(2)));
      case 'u': {
        if (at('{')) {
          const close = codes.indexOf('}'.codePointAt(0)!, position);
          const text = close < 0 ? '' : String.fromCodePoint(...codes.slice(position + 1, close));
          if (!/^[0-9a-fA-F]{1,6}$/.test(text) || Number.parseInt(text, 16) > 0x10ffff) {
            return fail('a \\u{…} escape is malformed');
          }
          position = close + 1;
          return chars(single(Number.parseInt(text, 16)));
        }
        const unit = hex(4);
        // A surrogate pair written as two escapes is one code point.
        if (unit >= 0xd800 && unit <= 0xdbff && at('\\') && at('u', 1)) {
          const saved = position;
          position += 2;
          const low = hex(4);
          if (low >= 0xdc00 && low <= 0xdfff) {
            return chars(single(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)));
          }
          position = saved;
        }
        if (unit >= 0xd800 && unit <= 0xdfff) return fail('a lone surrogate cannot appear in JSON text');
        return chars(single(unit));
      }
      case 'p':
      case 'P':
        return fail('it uses a Unicode property escape (\\p{…})');
      case 'k':
        return fail('it uses a backreference');
      case '0':
        if (peek() !== undefined && /[0-9]/.test(String.fromCodePoint(peek()!))) {
          return fail('it uses an octal escape');
        }
        return chars(single(0));
      default:
        if (/[1-9]/.test(char)) return fail('it uses a backreference');
        if (inClass && char === '-') return chars(single(0x2d));
        if (/[A-Za-z0-9]/.test(char)) return fail(`it uses the escape \\${char}, which has no meaning`);
        return chars(single(char.codePointAt(0)!));
    }
  };

  const parseClass = (): CharSet => {
    let negated = false;
    if (at('^')) {
      negated = true;
      position++;
    }
    let set: CharSet = [];
    const classAtom = (): CharSet => {
      const code = peek();
      if (code === undefined) return fail('a character class is not closed');
      position++;
      if (code === 0x5c) return parseEscape(true).set;
      return single(code);
    };
    while (!at(']')) {
      if (position >= codes.length) fail('a character class is not closed');
      const low = classAtom();
      if (at('-') && !at(']', 1) && position + 1 < codes.length) {
        position++;
        const high = classAtom();
        if (
          low.length !== 1 ||
          high.length !== 1 ||
          low[0]![0] !== low[0]![1] ||
          high[0]![0] !== high[0]![1]
        ) {
          fail('a class range has a class at one end');
        }
        if (low[0]![0] > high[0]![0]) fail('a class range is out of order');
        set = union(set, [[low[0]![0], high[0]![0]]]);
      } else set = union(set, low);
    }
    position++;
    return negated ? subtract(UNIVERSE, set) : intersect(set, UNIVERSE);
  };

  const tree = parseAlternation();
  if (position < codes.length) fail('a parenthesis is not opened');
  return tree;
}

// ---------------------------------------------------------------------------------------------
// Automata

interface NfaState {
  readonly edges: { set: CharSet; to: number }[];
  readonly empty: number[];
  readonly startAnchors: number[];
  readonly endAnchors: number[];
}

/** A deterministic automaton over code points; every state can still reach acceptance once trimmed. */
export interface Dfa {
  readonly start: number;
  readonly accepting: readonly boolean[];
  readonly edges: readonly (readonly { readonly set: CharSet; readonly to: number }[])[];
}

const tooComplex = () => new UnsupportedConstraint('it needs too large a grammar');

/** The strings in which `pattern` finds a match (unanchored, as JSON Schema reads a pattern). */
export function patternDfa(pattern: string): Dfa {
  const tree = parseRegex(pattern);
  const states: NfaState[] = [];
  const add = (): number => {
    if (states.length >= MAX_STATES * 8) throw tooComplex();
    states.push({ edges: [], empty: [], startAnchors: [], endAnchors: [] });
    return states.length - 1;
  };
  const build = (node: RegexNode, from: number, to: number): void => {
    switch (node.kind) {
      case 'chars':
        if (node.set.length > 0) states[from]!.edges.push({ set: node.set, to });
        return;
      case 'start':
        states[from]!.startAnchors.push(to);
        return;
      case 'end':
        states[from]!.endAnchors.push(to);
        return;
      case 'alt':
        for (const option of node.options) build(option, from, to);
        return;
      case 'seq': {
        let current = from;
        node.items.forEach((item, index) => {
          const next = index === node.items.length - 1 ? to : add();
          build(item, current, next);
          current = next;
        });
        if (node.items.length === 0) states[from]!.empty.push(to);
        return;
      }
      case 'repeat': {
        let current = from;
        for (let index = 0; index < node.min; index++) {
          const next = add();
          build(node.item, current, next);
          current = next;
        }
        if (node.max === Number.POSITIVE_INFINITY) {
          const loop = add();
          states[current]!.empty.push(loop);
          build(node.item, loop, loop);
          states[loop]!.empty.push(to);
          return;
        }
        for (let index = node.min; index < node.max; index++) {
          states[current]!.empty.push(to);
          const next = add();
          build(node.item, current, next);
          current = next;
        }
        states[current]!.empty.push(to);
        return;
      }
    }
  };
  // Unanchored: any text may come before and after the match.
  const initial = add();
  const begin = add();
  const finish = add();
  const final = add();
  states[initial]!.edges.push({ set: UNIVERSE, to: initial });
  states[initial]!.empty.push(begin);
  build(tree, begin, finish);
  states[finish]!.empty.push(final);
  states[final]!.edges.push({ set: UNIVERSE, to: final });
  return determinize(states, initial, final);
}

/**
 * Subset construction. An NFA configuration is a state and a phase: 0 before any character, 1
 * after one, 2 after a `$` (no character may follow); `^` holds only in phase 0.
 */
function determinize(states: readonly NfaState[], initial: number, final: number): Dfa {
  const closure = (seeds: readonly number[]): number[] => {
    const seen = new Set<number>(seeds);
    const stack = [...seeds];
    while (stack.length > 0) {
      const config = stack.pop()!;
      const state = states[Math.floor(config / 3)]!;
      const phase = config % 3;
      const push = (target: number, nextPhase: number) => {
        const next = target * 3 + nextPhase;
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      };
      for (const target of state.empty) push(target, phase);
      if (phase === 0) for (const target of state.startAnchors) push(target, 0);
      for (const target of state.endAnchors) push(target, 2);
    }
    return [...seen].sort((a, b) => a - b);
  };
  const ids = new Map<string, number>();
  const sets: number[][] = [];
  const accepting: boolean[] = [];
  const edges: { set: CharSet; to: number }[][] = [];
  const idOf = (configs: number[]): number => {
    const key = configs.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      if (sets.length >= MAX_STATES) throw tooComplex();
      id = sets.length;
      ids.set(key, id);
      sets.push(configs);
      accepting.push(configs.some((config) => Math.floor(config / 3) === final));
      edges.push([]);
    }
    return id;
  };
  const start = idOf(closure([initial * 3]));
  for (let id = 0; id < sets.length; id++) {
    const moves: { set: CharSet; to: number }[] = [];
    for (const config of sets[id]!) {
      if (config % 3 === 2) continue;
      for (const edge of states[Math.floor(config / 3)]!.edges)
        moves.push({ set: edge.set, to: edge.to * 3 + 1 });
    }
    for (const { set, targets } of partition(moves)) {
      edges[id]!.push({ set, to: idOf(closure(targets)) });
    }
  }
  return trim({ start, accepting, edges });
}

/** Splits overlapping labelled moves into disjoint sets, each with every target it leads to. */
function partition(moves: readonly { set: CharSet; to: number }[]): { set: CharSet; targets: number[] }[] {
  if (moves.length === 0) return [];
  const cuts = new Set<number>();
  for (const { set } of moves) {
    for (const [lo, hi] of set) {
      cuts.add(lo);
      cuts.add(hi + 1);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const groups = new Map<string, { set: [number, number][]; targets: number[] }>();
  for (let index = 0; index < points.length - 1; index++) {
    const lo = points[index]!;
    const hi = points[index + 1]! - 1;
    const targets = [...new Set(moves.filter(({ set }) => contains(set, lo)).map(({ to }) => to))].sort(
      (a, b) => a - b,
    );
    if (targets.length === 0) continue;
    const key = targets.join(',');
    const group = groups.get(key);
    if (group) group.set.push([lo, hi]);
    else groups.set(key, { set: [[lo, hi]], targets });
  }
  return [...groups.values()].map(({ set, targets }) => ({ set: normalize(set), targets }));
}

/** Strings both automata accept. */
export function intersectDfa(a: Dfa, b: Dfa): Dfa {
  const ids = new Map<string, number>();
  const pairs: [number, number][] = [];
  const accepting: boolean[] = [];
  const edges: { set: CharSet; to: number }[][] = [];
  const idOf = (left: number, right: number): number => {
    const key = `${left},${right}`;
    let id = ids.get(key);
    if (id === undefined) {
      if (pairs.length >= MAX_STATES) throw tooComplex();
      id = pairs.length;
      ids.set(key, id);
      pairs.push([left, right]);
      accepting.push(a.accepting[left]! && b.accepting[right]!);
      edges.push([]);
    }
    return id;
  };
  const start = idOf(a.start, b.start);
  for (let id = 0; id < pairs.length; id++) {
    const [left, right] = pairs[id]!;
    for (const first of a.edges[left]!) {
      for (const second of b.edges[right]!) {
        const set = intersect(first.set, second.set);
        if (set.length > 0) edges[id]!.push({ set, to: idOf(first.to, second.to) });
      }
    }
  }
  return trim({ start, accepting, edges });
}

/** Strings `dfa` accepts with between `min` and `max` code points. */
export function limitLength(dfa: Dfa, min: number, max: number): Dfa {
  const { shortest, longest } = lengths(dfa);
  if (shortest >= min && longest <= max) return dfa;
  const cap = max === Number.POSITIVE_INFINITY ? min : max;
  const ids = new Map<number, number>();
  const pairs: [number, number][] = [];
  const accepting: boolean[] = [];
  const edges: { set: CharSet; to: number }[][] = [];
  const idOf = (state: number, count: number): number => {
    const key = state * (cap + 1) + count;
    let id = ids.get(key);
    if (id === undefined) {
      if (pairs.length >= MAX_STATES) throw tooComplex();
      id = pairs.length;
      ids.set(key, id);
      pairs.push([state, count]);
      accepting.push(dfa.accepting[state]! && count >= min);
      edges.push([]);
    }
    return id;
  };
  const start = idOf(dfa.start, 0);
  for (let id = 0; id < pairs.length; id++) {
    const [state, count] = pairs[id]!;
    if (max !== Number.POSITIVE_INFINITY && count >= max) continue;
    const next = Math.min(count + 1, cap);
    for (const edge of dfa.edges[state]!) edges[id]!.push({ set: edge.set, to: idOf(edge.to, next) });
  }
  return trim({ start, accepting, edges });
}

/** The automaton of any string of `min` to `max` code points. */
export function anyStringDfa(): Dfa {
  return { start: 0, accepting: [true], edges: [[{ set: UNIVERSE, to: 0 }]] };
}

export function isEmpty(dfa: Dfa): boolean {
  return dfa.accepting.length === 0;
}

/** Whether `dfa` accepts `text` (for tests and checks). */
export function accepts(dfa: Dfa, text: string): boolean {
  if (isEmpty(dfa)) return false;
  let state = dfa.start;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const edge = dfa.edges[state]!.find(({ set }) => contains(set, code));
    if (!edge) return false;
    state = edge.to;
  }
  return dfa.accepting[state]!;
}

/** Shortest and longest accepted length (Infinity when a cycle can be taken). */
function lengths(dfa: Dfa): { shortest: number; longest: number } {
  if (isEmpty(dfa)) return { shortest: Number.POSITIVE_INFINITY, longest: 0 };
  const distance = new Map<number, number>([[dfa.start, 0]]);
  const queue = [dfa.start];
  let shortest = Number.POSITIVE_INFINITY;
  for (let index = 0; index < queue.length; index++) {
    const state = queue[index]!;
    const here = distance.get(state)!;
    if (dfa.accepting[state]) shortest = Math.min(shortest, here);
    for (const { to } of dfa.edges[state]!) {
      if (!distance.has(to)) {
        distance.set(to, here + 1);
        queue.push(to);
      }
    }
  }
  // Longest path in a trimmed automaton: infinite on any cycle, else by memoised depth-first search.
  const longestFrom = new Map<number, number>();
  const onPath = new Set<number>();
  const visit = (state: number): number => {
    const known = longestFrom.get(state);
    if (known !== undefined) return known;
    if (onPath.has(state)) return Number.POSITIVE_INFINITY;
    onPath.add(state);
    let best = dfa.accepting[state] ? 0 : Number.NEGATIVE_INFINITY;
    for (const { to } of dfa.edges[state]!) best = Math.max(best, visit(to) + 1);
    onPath.delete(state);
    longestFrom.set(state, best);
    return best;
  };
  return { shortest, longest: visit(dfa.start) };
}

/**
 * Keeps only states reachable from the start that can still reach acceptance (so decoding can
 * never enter a dead end), merges equivalent states, and renumbers from 0 in breadth-first order.
 */
function trim(dfa: Dfa): Dfa {
  const count = dfa.accepting.length;
  const reverse: number[][] = Array.from({ length: count }, () => []);
  dfa.edges.forEach((list, from) => {
    for (const { to } of list) reverse[to]!.push(from);
  });
  const alive = new Set<number>();
  const stack: number[] = [];
  dfa.accepting.forEach((accepting, state) => {
    if (accepting) {
      alive.add(state);
      stack.push(state);
    }
  });
  while (stack.length > 0) {
    for (const from of reverse[stack.pop()!]!) {
      if (!alive.has(from)) {
        alive.add(from);
        stack.push(from);
      }
    }
  }
  if (!alive.has(dfa.start)) return { start: 0, accepting: [], edges: [] };
  // Moore partition refinement over the live states; large automata are left as they are, since
  // refinement takes one round per state on a long chain.
  const live = [...alive];
  let classOf = new Map(
    live.map((state, index) => [state, live.length > MAX_MINIMIZED ? index : dfa.accepting[state] ? 1 : 0]),
  );
  while (live.length <= MAX_MINIMIZED) {
    const signatures = new Map<string, number>();
    const next = new Map<number, number>();
    for (const state of live) {
      const byClass = new Map<number, CharSet>();
      for (const { set, to } of dfa.edges[state]!) {
        if (!alive.has(to)) continue;
        const target = classOf.get(to)!;
        byClass.set(target, union(byClass.get(target) ?? [], set));
      }
      const signature = `${classOf.get(state)}|${[...byClass]
        .sort((a, b) => a[0] - b[0])
        .map(([target, set]) => `${target}:${set.map(([lo, hi]) => `${lo}-${hi}`).join(',')}`)
        .join(';')}`;
      if (!signatures.has(signature)) signatures.set(signature, signatures.size);
      next.set(state, signatures.get(signature)!);
    }
    const stable = signatures.size === new Set(classOf.values()).size;
    classOf = next;
    if (stable) break;
  }
  // Renumber classes in breadth-first order from the start.
  const order = new Map<number, number>();
  const representative: number[] = [];
  const queue = [dfa.start];
  order.set(classOf.get(dfa.start)!, 0);
  representative.push(dfa.start);
  for (let index = 0; index < queue.length; index++) {
    for (const { to } of dfa.edges[queue[index]!]!) {
      if (!alive.has(to)) continue;
      const target = classOf.get(to)!;
      if (!order.has(target)) {
        order.set(target, representative.length);
        representative.push(to);
        queue.push(to);
      }
    }
  }
  const edges = representative.map((state) => {
    const byTarget = new Map<number, CharSet>();
    for (const { set, to } of dfa.edges[state]!) {
      if (!alive.has(to)) continue;
      const target = order.get(classOf.get(to)!)!;
      byTarget.set(target, union(byTarget.get(target) ?? [], set));
    }
    return [...byTarget].map(([to, set]) => ({ set, to }));
  });
  return { start: 0, accepting: representative.map((state) => dfa.accepting[state]!), edges };
}

// ---------------------------------------------------------------------------------------------
// GBNF

/**
 * A GBNF expression with rules of its own. In both, `<n>` names the fragment's rule n; whoever
 * places the fragment in a grammar renames those to names that grammar does not use.
 */
export interface GrammarFragment {
  readonly expression: string;
  readonly rules: readonly string[];
}

const CONTROLS: CharSet = [[0, 0x1f]];
const SHORT_ESCAPES = new Map([
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0c, 'f'],
  [0x0d, 'r'],
]);

/** One GBNF character, escaped unless it is an ASCII letter or digit (so `<`, `"` never appear). */
function gbnfChar(code: number): string {
  if (/^[A-Za-z0-9]$/.test(String.fromCodePoint(code))) return String.fromCodePoint(code);
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** A GBNF string literal holding exactly `text`. */
export function gbnfLiteral(text: string): string {
  return `"${Array.from(text, (char) => gbnfChar(char.codePointAt(0)!)).join('')}"`;
}

function gbnfClass(set: CharSet): string {
  return `[${set.map(([lo, hi]) => (lo === hi ? gbnfChar(lo) : `${gbnfChar(lo)}-${gbnfChar(hi)}`)).join('')}]`;
}

/** The JSON text of one character from `set`, inside a string: raw, or escaped where JSON must. */
export function jsonStringChar(set: CharSet): string {
  const parts: string[] = [];
  const raw = subtract(set, normalize([...CONTROLS, [0x22, 0x22], [0x5c, 0x5c]]));
  if (raw.length > 0) parts.push(gbnfClass(raw));
  if (contains(set, 0x22)) parts.push(gbnfLiteral('\\"'));
  if (contains(set, 0x5c)) parts.push(gbnfLiteral('\\\\'));
  const controls = intersect(set, CONTROLS);
  if (sameSet(controls, CONTROLS)) {
    parts.push(`${gbnfLiteral('\\')} [bfnrt]`, `${gbnfLiteral('\\u00')} [01] [0-9a-fA-F]`);
  } else {
    for (const [lo, hi] of controls) {
      for (let code = lo; code <= hi; code++) {
        const short = SHORT_ESCAPES.get(code);
        parts.push(gbnfLiteral(short ? `\\${short}` : `\\u00${code.toString(16).padStart(2, '0')}`));
      }
    }
  }
  return parts.length === 1 ? parts[0]! : `(${parts.join(' | ')})`;
}

/** A JSON string (quotes included) whose value `dfa` accepts. */
export function jsonStringGrammar(dfa: Dfa): GrammarFragment {
  if (isEmpty(dfa)) throw new UnsupportedConstraint('no string satisfies it');
  const quote = gbnfLiteral('"');
  // A character set many states share (a long length count repeats every one) is one rule.
  const sets = new Map<string, number>();
  const characters: string[] = [];
  const characterRule = (set: CharSet): string => {
    const expression = jsonStringChar(set);
    let index = sets.get(expression);
    if (index === undefined) {
      index = dfa.accepting.length + characters.length;
      sets.set(expression, index);
      characters.push(expression);
    }
    return `<${index}>`;
  };
  const rules = dfa.edges.map((edges, state) => {
    const options = edges.map(({ set, to }) => `${characterRule(set)} <${to}>`);
    if (dfa.accepting[state]) options.push(quote);
    return options.join(' | ');
  });
  return { expression: `${quote} <${dfa.start}>`, rules: [...rules, ...characters] };
}

/** A JSON string of `min` to `max` code points, any characters: one repetition, no automaton. */
export function jsonStringLengthGrammar(min: number, max: number): GrammarFragment {
  const quote = gbnfLiteral('"');
  if (max === 0) return { expression: `${quote} ${quote}`, rules: [] };
  const count = max === Number.POSITIVE_INFINITY ? `{${min},}` : `{${min},${max}}`;
  return { expression: `${quote} ${jsonStringChar(UNIVERSE)}${count} ${quote}`, rules: [] };
}
