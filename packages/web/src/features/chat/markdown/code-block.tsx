// A fenced code block: the language, a copy button, and highlighting once the highlighter has
// loaded (plain text until then, and for languages it does not know).
import { useEffect, useState } from 'react';
import { useI18n } from '../../../i18n/i18n';
import { copyText } from '../../../ui/copy-text';
import { Icon } from '../../../ui/icons';

type Highlighter = typeof import('./highlight');
let loading: Promise<Highlighter> | undefined;

function useHighlighted(code: string, language: string): string | null {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    if (!language) {
      setHtml(null);
      return;
    }
    let current = true;
    loading ??= import('./highlight');
    loading.then(
      (module) => {
        if (current) setHtml(module.highlightCode(code, language));
      },
      () => {
        loading = undefined;
      },
    );
    return () => {
      current = false;
    };
  }, [code, language]);
  return html;
}

export function CodeBlock({ code, language }: { code: string; language: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const html = useHighlighted(code, language);

  return (
    <div className="code-block">
      <div className="code-block-header">
        <span className="code-block-language">{language || 'text'}</span>
        <button
          type="button"
          className="code-block-copy"
          onClick={() => {
            void copyText(code).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            });
          }}
        >
          <Icon name={copied ? 'check' : 'copy'} size={16} />
          <span>{copied ? t('chat.codeCopied') : t('chat.copyCode')}</span>
        </button>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must be reachable by keyboard to scroll it (WCAG 2.1.1). */}
      <pre tabIndex={0}>
        {html === null ? (
          <code>{code}</code>
        ) : (
          // biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the code; its output only adds spans.
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        )}
      </pre>
    </div>
  );
}
