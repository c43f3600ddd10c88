// Adds or edits one function tool: its definition typed as JSON (name, description, parameters
// as a JSON Schema, strict), checked as it is typed; saving is possible only when it is valid.
import { useMemo, useState } from 'react';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { checkFunctionDefinition, EXAMPLE_FUNCTION } from './function-definition';
import { JsonEditor } from './json-editor';
import type { PlaygroundTranslate } from './playground-i18n';
import type { FunctionDefinition } from './playground-types';

export function FunctionDialog({
  open,
  initial,
  takenNames,
  onSave,
  onClose,
  t,
}: {
  open: boolean;
  /** null: a new function. */
  initial: FunctionDefinition | null;
  /** Names of the assistant's other functions (a name must be unique). */
  takenNames: readonly string[];
  onSave: (definition: FunctionDefinition) => void;
  onClose: () => void;
  t: PlaygroundTranslate;
}) {
  const [text, setText] = useState(() => (initial ? JSON.stringify(initial, null, 2) : ''));
  const checked = useMemo(() => checkFunctionDefinition(text, { takenNames }), [text, takenNames]);
  return (
    <Dialog
      open={open}
      size="large"
      className="function-dialog"
      title={initial ? t('functions.editTitle', { name: initial.name }) : t('functions.addTitle')}
      closeLabel={t('common.cancel')}
      onClose={onClose}
    >
      <form
        className="dialog-body function-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (checked.ok) onSave(checked.value);
        }}
      >
        <p className="field-hint">{t('functions.help')}</p>
        <JsonEditor
          label={t('functions.definition')}
          value={text}
          onChange={setText}
          problem={text.trim() === '' ? null : checked.ok ? null : checked.problem}
          hint={text.trim() === '' ? t('functions.emptyHint') : undefined}
          rows={16}
          t={t}
        />
        <footer className="function-form-footer">
          <Button variant="ghost" onClick={() => setText(JSON.stringify(EXAMPLE_FUNCTION, null, 2))}>
            {t('functions.example')}
          </Button>
          <span className="spacer" />
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" type="submit" disabled={!checked.ok}>
            {t('common.save')}
          </Button>
        </footer>
      </form>
    </Dialog>
  );
}
