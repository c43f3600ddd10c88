// The message box of the GPT pages (the builder's chat, the preview, a GPT's chat): grows with
// its text, Enter sends (Shift+Enter, a touch keyboard's Enter, or Enter while composing Korean
// starts a new line or finishes the syllable), and its button stops an answer being written.
import { forwardRef, useId, useImperativeHandle, useLayoutEffect, useRef, useState } from 'react';
import { enterSends } from '../../ui/enter-sends';
import { Icon } from '../../ui/icons';

export interface MessageBoxHandle {
  focus(): void;
}

export interface MessageBoxProps {
  readonly label: string;
  readonly placeholder: string;
  readonly sendLabel: string;
  readonly stopLabel: string;
  readonly busy: boolean;
  readonly disabled?: boolean;
  readonly onSend: (text: string) => void;
  readonly onStop: () => void;
}

const MAX_HEIGHT = 200;

export const MessageBox = forwardRef<MessageBoxHandle, MessageBoxProps>(function MessageBox(
  { label, placeholder, sendLabel, stopLabel, busy, disabled = false, onSend, onStop },
  ref,
) {
  const id = useId();
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

  const canSend = !busy && !disabled && text.trim() !== '';
  const submit = () => {
    if (!canSend) return;
    onSend(text.trim());
    setText('');
  };

  return (
    <form
      className="gpt-composer"
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) onStop();
        else submit();
      }}
    >
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <textarea
        id={id}
        ref={area}
        rows={1}
        value={text}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (!enterSends(event)) return;
          event.preventDefault();
          submit();
        }}
        enterKeyHint="send"
      />
      <button
        type="submit"
        className="composer-button"
        aria-label={busy ? stopLabel : sendLabel}
        title={busy ? stopLabel : sendLabel}
        disabled={!busy && !canSend}
      >
        <Icon name={busy ? 'stop' : 'send'} size={18} />
      </button>
    </form>
  );
});
