// An answer in one of the GPT pages' own conversations (the builder's preview, its Create tab):
// its Markdown as it arrives, a typing mark until the first words, and how it ended when it ended
// early. `children` go under the text (notes about held action calls).
import type { ReactNode } from 'react';
import { Markdown } from '../chat/markdown/markdown';
import { useGptsI18n } from './gpts-i18n';

export interface GptAnswerTurn {
  readonly text: string;
  readonly status: 'streaming' | 'done' | 'stopped' | 'failed';
  readonly error?: string;
}

export function GptAnswer({
  turn,
  writingLabel,
  className = '',
  children = null,
}: {
  turn: GptAnswerTurn;
  /** What the typing mark says to a screen reader. */
  writingLabel: string;
  className?: string;
  children?: ReactNode;
}) {
  const { t } = useGptsI18n();
  return (
    <div
      className={`gpt-message gpt-message-assistant${className ? ` ${className}` : ''}`}
      aria-busy={turn.status === 'streaming' || undefined}
      data-status={turn.status}
    >
      {turn.text ? <Markdown text={turn.text} /> : null}
      {turn.status === 'streaming' && !turn.text ? (
        <span className="gpt-typing" role="img" aria-label={writingLabel} />
      ) : null}
      {children}
      {turn.status === 'stopped' ? <p className="gpt-message-note">{t('chat.stopped')}</p> : null}
      {turn.status === 'failed' ? (
        <p className="gpt-message-error" role="alert">
          {t('chat.failed', { message: turn.error ?? '' })}
        </p>
      ) : null}
    </div>
  );
}
