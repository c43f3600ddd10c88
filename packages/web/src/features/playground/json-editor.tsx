// A labelled, monospaced JSON text box that says at once what is wrong with what was typed
// (announced with the field: aria-invalid, aria-describedby).
import { useId } from 'react';
import type { Problem } from './function-definition';
import type { PlaygroundTranslate } from './playground-i18n';

export function JsonEditor({
  label,
  value,
  onChange,
  problem,
  hint,
  rows = 14,
  t,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  problem: Problem | null;
  hint?: string;
  rows?: number;
  t: PlaygroundTranslate;
}) {
  const id = useId();
  return (
    <div className="field json-editor">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={rows}
        value={value}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-status`}
        onChange={(event) => onChange(event.target.value)}
      />
      <p id={`${id}-status`} className={problem ? 'field-error' : 'field-hint'} aria-live="polite">
        {problem ? t(problem.key, problem.params) : (hint ?? t('json.valid'))}
      </p>
    </div>
  );
}
