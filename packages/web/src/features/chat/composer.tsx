// The message box: grows with its text, Enter sends (Shift+Enter, or Enter on a touch keyboard,
// starts a new line; Enter while composing Korean or Japanese finishes the syllable, not the
// message), and its button becomes Stop while an answer streams.
import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { Icon } from '../../ui/icons';

export interface ComposerHandle {
  focus(): void;
}

export interface ComposerProps {
  readonly onSend: (text: string) => void;
  readonly onStop: () => void;
  readonly streaming: boolean;
  readonly disabled?: boolean;
}

const MAX_HEIGHT = 240;

export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer(
  { onSend, onStop, streaming, disabled = false },
  ref,
) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(ref, () => ({ focus: () => area.current?.focus() }), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text, read from the element.
  useLayoutEffect(() => {
    const element = area.current;
    if (!element) return;
    element.style.height = 'auto';
    element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT)}px`;
  }, [text]);

  const canSend = !streaming && !disabled && text.trim().length > 0;
  const submit = () => {
    if (!canSend) return;
    onSend(text);
    setText('');
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        if (streaming) onStop();
        else submit();
      }}
    >
      <label htmlFor="composer-input" className="sr-only">
        {t('chat.inputLabel')}
      </label>
      <textarea
        id="composer-input"
        ref={area}
        rows={1}
        value={text}
        placeholder={t('chat.placeholder')}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (
            event.key !== 'Enter' ||
            event.shiftKey ||
            event.nativeEvent.isComposing ||
            event.keyCode === 229
          )
            return;
          if (matchMedia('(pointer: coarse)').matches) return;
          event.preventDefault();
          submit();
        }}
        enterKeyHint="send"
        // biome-ignore lint/a11y/noAutofocus: the message box is what a chat page is for.
        autoFocus
      />
      {streaming ? (
        <button
          type="submit"
          className="composer-button composer-stop"
          aria-label={t('chat.stop')}
          title={t('chat.stop')}
        >
          <Icon name="stop" size={18} />
        </button>
      ) : (
        <button
          type="submit"
          className="composer-button"
          disabled={!canSend}
          aria-label={t('chat.send')}
          title={t('chat.send')}
        >
          <Icon name="send" size={18} />
        </button>
      )}
    </form>
  );
});
