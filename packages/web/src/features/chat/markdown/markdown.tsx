// Renders an answer's Markdown (GitHub flavour: tables, task lists, strikethrough; plus math) to
// React elements from marked's tokens. No HTML string ever reaches the page: raw HTML in the
// text shows as text, links open only http(s)/mailto, and images become links, since a model's
// output may carry what a prompt injection put there (an image URL is a way to leak data).
import { Marked, type Token, type Tokens } from 'marked';
import { createContext, memo, type ReactNode, useContext } from 'react';
import { CodeBlock } from './code-block';
import { MathFormula } from './math';
import { blockMath, inlineMath, type MathToken } from './math-extension';

const marked = new Marked({ gfm: true, breaks: false, extensions: [blockMath, inlineMath] });

export function lexMarkdown(text: string): Token[] {
  return marked.lexer(text);
}

/**
 * Renders links of the app's own (a citation, a file the code interpreter wrote) in place of an
 * anchor; returns undefined for every other link, which is rendered as usual.
 */
export type LinkRenderer = (href: string, children: ReactNode) => ReactNode | undefined;

const LinkRendererContext = createContext<LinkRenderer | null>(null);

export const Markdown = memo(function Markdown({
  text,
  renderLink = null,
}: {
  text: string;
  renderLink?: LinkRenderer | null;
}) {
  const content = <div className="markdown">{blocks(lexMarkdown(text))}</div>;
  return renderLink ? (
    <LinkRendererContext.Provider value={renderLink}>{content}</LinkRendererContext.Provider>
  ) : (
    content
  );
});

function MarkdownLink({
  href,
  title,
  children,
}: {
  href: string;
  title: string | null;
  children: ReactNode;
}) {
  const render = useContext(LinkRendererContext);
  const own = render?.(href, children);
  if (own !== undefined) return own;
  const safe = safeHref(href);
  if (!safe) return <span>{children}</span>;
  return (
    <a href={safe} title={title ?? undefined} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

function blocks(tokens: readonly Token[]): ReactNode[] {
  return tokens.map((token, index) => block(token, index));
}

function block(token: Token, key: number): ReactNode {
  switch (token.type) {
    case 'space':
    case 'def':
      return null;
    case 'paragraph':
      return <p key={key}>{inlines((token as Tokens.Paragraph).tokens)}</p>;
    case 'heading': {
      const heading = token as Tokens.Heading;
      const Tag = `h${Math.min(Math.max(heading.depth, 1), 6)}` as 'h1';
      return <Tag key={key}>{inlines(heading.tokens)}</Tag>;
    }
    case 'code': {
      const code = token as Tokens.Code;
      const language = (code.lang ?? '').trim().split(/\s+/)[0] ?? '';
      return <CodeBlock key={key} code={code.text} language={language} />;
    }
    case 'blockquote':
      return <blockquote key={key}>{blocks((token as Tokens.Blockquote).tokens)}</blockquote>;
    case 'hr':
      return <hr key={key} />;
    case 'list':
      return list(token as Tokens.List, key);
    case 'table':
      return table(token as Tokens.Table, key);
    case 'blockMath': {
      const math = token as unknown as MathToken;
      return <MathFormula key={key} tex={math.tex} display />;
    }
    case 'html':
      // Shown, not interpreted.
      return (
        <p key={key} className="markdown-html">
          {(token as Tokens.HTML).text}
        </p>
      );
    case 'text': {
      const text = token as Tokens.Text;
      return <span key={key}>{text.tokens ? inlines(text.tokens) : text.text}</span>;
    }
    default:
      return 'tokens' in token && Array.isArray(token.tokens) ? (
        <span key={key}>{inlines(token.tokens as Token[])}</span>
      ) : (
        <span key={key}>{token.raw}</span>
      );
  }
}

function list(token: Tokens.List, key: number): ReactNode {
  const items = token.items.map((item, index) => (
    // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity but their position.
    <li key={index} className={item.task ? 'task' : undefined}>
      {item.tokens.map((child, childIndex) => {
        if (child.type === 'checkbox') {
          return (
            <input
              // biome-ignore lint/suspicious/noArrayIndexKey: as above.
              key={childIndex}
              type="checkbox"
              checked={(child as Tokens.Checkbox).checked}
              disabled
              aria-label={(child as Tokens.Checkbox).checked ? 'done' : 'not done'}
            />
          );
        }
        // A tight list's text is inline; a loose list's is paragraphs.
        if (child.type === 'text' && !item.loose) {
          const text = child as Tokens.Text;
          // biome-ignore lint/suspicious/noArrayIndexKey: as above.
          return <span key={childIndex}>{text.tokens ? inlines(text.tokens) : text.text}</span>;
        }
        return block(child, childIndex);
      })}
    </li>
  ));
  if (token.ordered) {
    return (
      <ol key={key} start={typeof token.start === 'number' && token.start !== 1 ? token.start : undefined}>
        {items}
      </ol>
    );
  }
  return <ul key={key}>{items}</ul>;
}

function table(token: Tokens.Table, key: number): ReactNode {
  const align = (index: number) => token.align[index] ?? undefined;
  return (
    <div key={key} className="table-wrap">
      <table>
        <thead>
          <tr>
            {token.header.map((cell, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions.
              <th key={index} style={{ textAlign: align(index) }}>
                {inlines(cell.tokens)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {token.rows.map((row, rowIndex) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions.
            <tr key={rowIndex}>
              {row.map((cell, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions.
                <td key={index} style={{ textAlign: align(index) }}>
                  {inlines(cell.tokens)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function inlines(tokens: readonly Token[] | undefined): ReactNode[] {
  return (tokens ?? []).map((token, index) => inline(token, index));
}

function inline(token: Token, key: number): ReactNode {
  switch (token.type) {
    case 'text': {
      const text = token as Tokens.Text;
      return text.tokens ? <span key={key}>{inlines(text.tokens)}</span> : text.text;
    }
    case 'escape':
      return (token as Tokens.Escape).text;
    case 'strong':
      return <strong key={key}>{inlines((token as Tokens.Strong).tokens)}</strong>;
    case 'em':
      return <em key={key}>{inlines((token as Tokens.Em).tokens)}</em>;
    case 'del':
      return <del key={key}>{inlines((token as Tokens.Del).tokens)}</del>;
    case 'codespan':
      return <code key={key}>{(token as Tokens.Codespan).text}</code>;
    case 'br':
      return <br key={key} />;
    case 'link': {
      const link = token as Tokens.Link;
      return (
        <MarkdownLink key={key} href={link.href} title={link.title ?? null}>
          {inlines(link.tokens)}
        </MarkdownLink>
      );
    }
    case 'image': {
      const image = token as Tokens.Image;
      const href = safeHref(image.href);
      const label = image.text || image.href;
      return href ? (
        <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow">
          {label}
        </a>
      ) : (
        label
      );
    }
    case 'inlineMath': {
      const math = token as unknown as MathToken;
      return <MathFormula key={key} tex={math.tex} display={math.display} />;
    }
    case 'html':
      return (token as Tokens.HTML).text;
    case 'checkbox':
      return null;
    default:
      return token.raw;
  }
}

/** The link when it is absolute http(s) or mailto; null for javascript:, data:, relative… */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:'
      ? url.href
      : null;
  } catch {
    return null;
  }
}
