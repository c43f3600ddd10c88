import { Marked, type Token } from 'marked';
import { describe, expect, it } from 'vitest';
import { blockMath, inlineMath } from './math-extension';

const marked = new Marked({ gfm: true, extensions: [blockMath, inlineMath] });

function mathIn(text: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  marked.walkTokens(marked.lexer(text), (token: Token) => {
    if (token.type === 'blockMath' || token.type === 'inlineMath') found.push([token.type, token['tex']]);
  });
  return found;
}

describe('math in Markdown', () => {
  it('finds display and inline formulas in the four spellings models use', () => {
    expect(mathIn('$$\\frac{1}{2}$$')).toEqual([['blockMath', '\\frac{1}{2}']]);
    expect(mathIn('\\[x^2\\]')).toEqual([['blockMath', 'x^2']]);
    expect(mathIn('Euler: $e^{i\\pi}+1=0$.')).toEqual([['inlineMath', 'e^{i\\pi}+1=0']]);
    expect(mathIn('so \\(a+b\\) holds')).toEqual([['inlineMath', 'a+b']]);
  });

  it('leaves prices and code alone', () => {
    expect(mathIn('It costs $5 and $10 today.')).toEqual([]);
    expect(mathIn('Between $1,000 and $2,000.')).toEqual([]);
    expect(mathIn('Use `$x$` in a shell.')).toEqual([]);
    expect(mathIn('```\n$$not math$$\n```')).toEqual([]);
  });
});
