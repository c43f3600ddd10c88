// A formula, typeset by KaTeX once it has loaded (KaTeX and its fonts are not part of the
// initial download); until then, and if the TeX is invalid, the source is shown as code.
import { useEffect, useState } from 'react';

type KaTeX = typeof import('katex').default;
let loading: Promise<KaTeX> | undefined;

function loadKatex(): Promise<KaTeX> {
  loading ??= Promise.all([import('katex'), import('katex/dist/katex.min.css')]).then(
    ([module]) => module.default,
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

export function MathFormula({ tex, display }: { tex: string; display: boolean }) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    loadKatex().then(
      (katex) => {
        if (!current) return;
        try {
          // trust: false keeps \href, \includegraphics and the like from producing live markup.
          setHtml(
            katex.renderToString(tex, {
              displayMode: display,
              throwOnError: true,
              trust: false,
              strict: 'ignore',
              output: 'htmlAndMathml',
            }),
          );
        } catch {
          setHtml(null);
        }
      },
      () => setHtml(null),
    );
    return () => {
      current = false;
    };
  }, [tex, display]);

  const Tag = display ? 'div' : 'span';
  if (html === null) {
    return <Tag className={display ? 'math math-display math-source' : 'math math-source'}>{tex}</Tag>;
  }
  return (
    // biome-ignore lint/security/noDangerouslySetInnerHtml: KaTeX output with trust off: markup it generates, text escaped.
    <Tag className={display ? 'math math-display' : 'math'} dangerouslySetInnerHTML={{ __html: html }} />
  );
}
