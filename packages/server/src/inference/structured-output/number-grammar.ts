// GBNF for JSON numbers within bounds: exact digit-by-digit ranges for integers (as llama.cpp's
// json-schema-to-grammar does) and for decimals on a grid of 16 fraction digits. Inclusive bounds
// only: a parser rounds monotonically, so text ≥ the bound's shortest decimal parses to a double ≥
// the bound; callers turn exclusive bounds into inclusive ones first (see nextUp / nextDown).
import { gbnfLiteral } from './string-automaton.js';

/** Digits of an integer part and of a fraction, as tightenNumberRules allows for numbers. */
const MAX_DIGITS = 16;
const SCALE = 10n ** BigInt(MAX_DIGITS);

/** A GBNF expression for the integers in [min, max] (null: unbounded), or null when there is none. */
export function integerRangeGrammar(min: bigint | null, max: bigint | null): string | null {
  const options: string[] = [];
  if (max === null || max >= 0n) options.push(...naturalRange(min === null || min < 0n ? 0n : min, max));
  if (min === null || min < 0n) {
    const magnitudes = naturalRange(max !== null && max < 0n ? -max : 1n, min === null ? null : -min);
    if (magnitudes.length > 0) options.push(`${gbnfLiteral('-')} ${group(magnitudes)}`);
  }
  return options.length === 0 ? null : group(options);
}

/**
 * A GBNF expression for decimal numbers (no exponent, at most 16 fraction digits) in [min, max],
 * or null when there is none. The bounds are rounded inwards to that grid.
 */
export function numberRangeGrammar(min: number | null, max: number | null): string | null {
  // An exclusive bound at ±Number.MAX_VALUE moves past the last finite number: nothing is left.
  if (min === Number.POSITIVE_INFINITY || max === Number.NEGATIVE_INFINITY) return null;
  const low = min === null ? null : scaled(min, 'ceil');
  const high = max === null ? null : scaled(max, 'floor');
  const options: string[] = [];
  if (high === null || high >= 0n) options.push(...magnitudeRange(low === null || low < 0n ? 0n : low, high));
  if (low === null || low < 0n) {
    // A negative branch reaching magnitude 0 only when 0 is itself in range ("-0" is 0).
    const magnitudes = magnitudeRange(high !== null && high < 0n ? -high : 0n, low === null ? null : -low);
    if (magnitudes.length > 0) options.push(`${gbnfLiteral('-')} ${group(magnitudes)}`);
  }
  return options.length === 0 ? null : group(options);
}

/** The next double above `value` (an exclusive lower bound as an inclusive one). */
export function nextUp(value: number): number {
  if (Number.isNaN(value) || value === Number.POSITIVE_INFINITY) return value;
  if (value === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + (value > 0 ? 1n : -1n));
  return view.getFloat64(0);
}

export function nextDown(value: number): number {
  return -nextUp(-value);
}

/** Alternatives for the integers lo..hi (hi null: unbounded) written without leading zeros. */
function naturalRange(lo: bigint, hi: bigint | null): string[] {
  const options: string[] = [];
  const low = lo.toString();
  const lastLength = hi === null ? MAX_DIGITS : Math.min(hi.toString().length, MAX_DIGITS);
  for (let length = low.length; length <= lastLength; length++) {
    if (hi === null && length > low.length) {
      options.push(`[1-9] [0-9]{${length - 1},${MAX_DIGITS - 1}}`);
      break;
    }
    const from = length === low.length ? low : `1${'0'.repeat(length - 1)}`;
    const to = hi !== null && length === hi.toString().length ? hi.toString() : '9'.repeat(length);
    if (BigInt(from) <= BigInt(to)) options.push(sameLength(from, to));
  }
  return options;
}

/** Digit strings of one length from `low` to `high` (leading zeros allowed: used for tails). */
function sameLength(low: string, high: string): string {
  if (low === high) return gbnfLiteral(low);
  let index = 0;
  while (low[index] === high[index]) index++;
  const prefix = low.slice(0, index);
  const first = Number(low[index]);
  const last = Number(high[index]);
  const lowRest = low.slice(index + 1);
  const highRest = high.slice(index + 1);
  const tail = digits(lowRest.length, lowRest.length);
  const options: string[] = [];
  let from = first;
  let to = last;
  if (!/^0*$/.test(lowRest)) {
    options.push(`"${first}" ${sameLength(lowRest, '9'.repeat(lowRest.length))}`);
    from++;
  }
  let highOption: string | undefined;
  if (!/^9*$/.test(highRest)) {
    highOption = `"${last}" ${sameLength('0'.repeat(highRest.length), highRest)}`;
    to--;
  }
  if (from <= to) options.push(`${from === to ? `"${from}"` : `[${from}-${to}]`}${tail ? ` ${tail}` : ''}`);
  if (highOption) options.push(highOption);
  const body = group(options);
  return prefix ? `${gbnfLiteral(prefix)} ${body}` : body;
}

/** Non-negative decimals from `low` to `high` (scaled by 10^16; high null: unbounded). */
function magnitudeRange(low: bigint, high: bigint | null): string[] {
  if (high !== null && low > high) return [];
  const lowInteger = low / SCALE;
  const lowFraction = fractionDigits(low % SCALE);
  const options: string[] = [`${gbnfLiteral(lowInteger.toString())} ${fractionAtLeast(lowFraction)}`];
  if (high === null) {
    const above = naturalRange(lowInteger + 1n, null);
    if (above.length > 0) options.push(`${group(above)} ${anyFraction()}`);
    return options;
  }
  const highInteger = high / SCALE;
  const highFraction = fractionDigits(high % SCALE);
  if (lowInteger === highInteger) {
    return [`${gbnfLiteral(lowInteger.toString())} ${fractionBetween(lowFraction, highFraction)}`];
  }
  if (lowInteger + 1n <= highInteger - 1n) {
    options.push(`${group(naturalRange(lowInteger + 1n, highInteger - 1n))} ${anyFraction()}`);
  }
  options.push(`${gbnfLiteral(highInteger.toString())} ${fractionAtMost(highFraction)}`);
  return options;
}

function anyFraction(): string {
  return `("." [0-9]{1,${MAX_DIGITS}})?`;
}

/** The optional fraction of a number whose digits, read as a fraction, are at least `lower`. */
function fractionAtLeast(lower: string): string {
  return lower === '' ? anyFraction() : `"." ${atLeast(lower, 0)}`;
}

/** The optional fraction whose digits are at most `upper`. */
function fractionAtMost(upper: string): string {
  return upper === '' ? `("." "0"{1,${MAX_DIGITS}})?` : `("." ${atMost(upper, 0)})?`;
}

function fractionBetween(lower: string, upper: string): string {
  return lower === '' ? fractionAtMost(upper) : `"." ${between(lower, upper, 0)}`;
}

/** Fraction digits from position `index` on, given equal digits before, ≥ `lower` zero-padded. */
function atLeast(lower: string, index: number): string {
  if (index === lower.length) return digits(0, MAX_DIGITS - index) || '""';
  const digit = Number(lower[index]);
  const options: string[] = [];
  if (digit < 9) options.push(join(`[${digit + 1}-9]`, digits(0, MAX_DIGITS - index - 1)));
  options.push(`"${digit}" ${atLeast(lower, index + 1)}`);
  return group(options);
}

/** Fraction digits from `index` on, given equal digits before, ≤ `upper`; may end here if index > 0. */
function atMost(upper: string, index: number): string {
  if (index >= upper.length) return index >= MAX_DIGITS ? '""' : `"0"{0,${MAX_DIGITS - index}}`;
  const digit = Number(upper[index]);
  const options: string[] = [];
  if (digit > 0)
    options.push(join(digit === 1 ? '"0"' : `[0-${digit - 1}]`, digits(0, MAX_DIGITS - index - 1)));
  options.push(`"${digit}" ${atMost(upper, index + 1)}`);
  return index > 0 ? `(${options.join(' | ')})?` : group(options);
}

/** Fraction digits from `index` on between `lower` and `upper` (lower ≤ upper, equal before). */
function between(lower: string, upper: string, index: number): string {
  if (index >= lower.length) return atMost(upper, index);
  const low = Number(lower[index]);
  const high = Number(upper[index] ?? '0');
  if (low === high) return `"${low}" ${between(lower, upper, index + 1)}`;
  const options = [`"${low}" ${atLeast(lower, index + 1)}`];
  if (low + 1 <= high - 1) {
    const range = low + 1 === high - 1 ? `"${low + 1}"` : `[${low + 1}-${high - 1}]`;
    options.push(join(range, digits(0, MAX_DIGITS - index - 1)));
  }
  options.push(`"${high}" ${atMost(upper, index + 1)}`);
  return group(options);
}

/** `[0-9]{min,max}`, or '' when max is 0. */
function digits(min: number, max: number): string {
  if (max <= 0) return '';
  return min === max ? `[0-9]{${min}}` : `[0-9]{${min},${max}}`;
}

function join(...parts: string[]): string {
  return parts.filter((part) => part !== '').join(' ');
}

function group(options: readonly string[]): string {
  return options.length === 1 ? options[0]! : `(${options.join(' | ')})`;
}

/** 16 fraction digits of a scaled remainder, trailing zeros dropped. */
function fractionDigits(remainder: bigint): string {
  return remainder.toString().padStart(MAX_DIGITS, '0').replace(/0+$/, '');
}

/** `value` × 10^16 exactly from its shortest decimal form, rounded as asked. */
function scaled(value: number, rounding: 'ceil' | 'floor'): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!match) throw new RangeError(`not a finite number: ${value}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const mantissa = BigInt(`${whole}${fraction}`);
  const shift = Number(exponent) - fraction.length + MAX_DIGITS;
  let magnitude: bigint;
  if (shift >= 0) magnitude = mantissa * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    magnitude = mantissa / divisor;
    const inexact = mantissa % divisor !== 0n;
    // Rounding the magnitude away from zero is a ceiling for positives and a floor for negatives.
    if (inexact && (rounding === 'ceil') === (sign === '')) magnitude += 1n;
  }
  return sign === '-' ? -magnitude : magnitude;
}
