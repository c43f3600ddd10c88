// Labelled inputs: every field has a visible label tied to it, an optional hint, and an error
// announced with the field (aria-describedby, aria-invalid).
import { forwardRef, type InputHTMLAttributes, type TextareaHTMLAttributes, useId } from 'react';

interface FieldChrome {
  readonly label: string;
  readonly hint?: string | undefined;
  readonly error?: string | null | undefined;
}

export const TextField = forwardRef<HTMLInputElement, FieldChrome & InputHTMLAttributes<HTMLInputElement>>(
  function TextField({ label, hint, error, className, id, ...rest }, ref) {
    const generated = useId();
    const fieldId = id ?? generated;
    const hintId = `${fieldId}-hint`;
    const errorId = `${fieldId}-error`;
    const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
    return (
      <div className={`field${className ? ` ${className}` : ''}`}>
        <label htmlFor={fieldId}>{label}</label>
        <input
          ref={ref}
          id={fieldId}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          {...rest}
        />
        {hint ? (
          <p id={hintId} className="field-hint">
            {hint}
          </p>
        ) : null}
        {error ? (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    );
  },
);

export const TextArea = forwardRef<
  HTMLTextAreaElement,
  FieldChrome & TextareaHTMLAttributes<HTMLTextAreaElement> & { readonly counter?: string }
>(function TextArea({ label, hint, error, counter, className, id, ...rest }, ref) {
  const generated = useId();
  const fieldId = id ?? generated;
  const hintId = `${fieldId}-hint`;
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={fieldId}>{label}</label>
      <textarea ref={ref} id={fieldId} aria-describedby={hint || counter ? hintId : undefined} {...rest} />
      {hint || counter || error ? (
        <p id={hintId} className="field-hint field-hint-row">
          <span>{error ? <span className="field-error-inline">{error}</span> : hint}</span>
          {counter ? <span className="field-counter">{counter}</span> : null}
        </p>
      ) : null}
    </div>
  );
});
