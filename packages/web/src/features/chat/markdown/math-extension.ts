// Math in Markdown, as models write it: $$…$$ and \[…\] for display, $…$ and \(…\) inline.
// Dollar amounts stay text: an inline $ must hug its formula ($x$, not "$5 and $10").
import type { TokenizerExtension } from 'marked';

export interface MathToken {
  readonly type: 'blockMath' | 'inlineMath';
  readonly raw: string;
  readonly tex: string;
  readonly display: boolean;
}

const BLOCK = [/^\$\$([\s\S]+?)\$\$[ \t]*(?:\n|$)/, /^\\\[([\s\S]+?)\\\][ \t]*(?:\n|$)/];
const INLINE_DISPLAY = /^\$\$([^$]+?)\$\$/;
const INLINE = [/^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<![\s\\])\$(?!\d)/, /^\\\(([\s\S]+?)\\\)/];

export const blockMath: TokenizerExtension = {
  name: 'blockMath',
  level: 'block',
  start: (source) => source.match(/^(?:\$\$|\\\[)/m)?.index,
  tokenizer(source) {
    for (const pattern of BLOCK) {
      const match = pattern.exec(source);
      if (match?.[1]?.trim())
        return { type: 'blockMath', raw: match[0], tex: match[1].trim(), display: true };
    }
    return undefined;
  },
};

export const inlineMath: TokenizerExtension = {
  name: 'inlineMath',
  level: 'inline',
  start: (source) => source.match(/\$|\\\(/)?.index,
  tokenizer(source) {
    const display = INLINE_DISPLAY.exec(source);
    if (display?.[1]?.trim())
      return { type: 'inlineMath', raw: display[0], tex: display[1].trim(), display: true };
    for (const pattern of INLINE) {
      const match = pattern.exec(source);
      if (match?.[1]?.trim())
        return { type: 'inlineMath', raw: match[0], tex: match[1].trim(), display: false };
    }
    return undefined;
  },
};
