// The assistant's settings, as in OpenAI's playground: name, instructions, model, tools (file
// search and code interpreter with their files, functions edited as JSON), response format and
// sampling. Saving creates the assistant or updates it through /v1/assistants; deleting asks first.
import { useMutation } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import type { Model } from '../../api/types';
import { Button, IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { ConfirmDialog } from '../../ui/dialog';
import { Switch } from '../../ui/switch';
import { TextArea, TextField } from '../../ui/text-field';
import { useToast } from '../../ui/toast';
import {
  type AssistantDraft,
  draftFromAssistant,
  draftToParams,
  newDraft,
  type ResponseFormatKind,
} from './assistant-draft';
import { checkResponseSchema } from './function-definition';
import { FunctionDialog } from './function-dialog';
import { JsonEditor } from './json-editor';
import { createAssistant, deleteAssistant, updateAssistant } from './playground-api';
import type { PlaygroundTranslate } from './playground-i18n';
import type { Assistant, FunctionDefinition } from './playground-types';
import { CodeInterpreterFiles, FileSearchFiles } from './tool-files';

const RESPONSE_FORMATS: readonly ResponseFormatKind[] = ['auto', 'text', 'json_object', 'json_schema'];

export function AssistantPanel({
  assistant,
  models,
  onSaved,
  onDeleted,
  t,
}: {
  /** null: a new assistant. */
  assistant: Assistant | null;
  models: readonly Model[];
  onSaved: (assistant: Assistant, created: boolean) => void;
  onDeleted: () => void;
  t: PlaygroundTranslate;
}) {
  const toast = useToast();
  const ids = useId();
  const [draft, setDraft] = useState<AssistantDraft>(() =>
    assistant ? draftFromAssistant(assistant) : newDraft(models[0]?.id ?? ''),
  );
  const [editing, setEditing] = useState<{ index: number | null } | null>(null);
  const [dialogKey, setDialogKey] = useState(0);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const update = (change: Partial<AssistantDraft>) => setDraft((current) => ({ ...current, ...change }));
  const params = useMemo(() => draftToParams(draft), [draft]);
  const saved = useMemo(() => (assistant ? draftToParams(draftFromAssistant(assistant)) : null), [assistant]);
  const dirty = !assistant || JSON.stringify(params) !== JSON.stringify(saved);
  const schemaCheck = useMemo(
    () => (draft.responseFormat === 'json_schema' ? checkResponseSchema(draft.responseSchema) : null),
    [draft.responseFormat, draft.responseSchema],
  );

  const save = useMutation({
    mutationFn: () => {
      if (!params.ok) throw new Error(t(params.problem.key, params.problem.params));
      return assistant ? updateAssistant(assistant.id, params.value) : createAssistant(params.value);
    },
    onSuccess: (result) => {
      setProblem(null);
      toast(assistant ? t('assistant.saved') : t('assistant.created'));
      onSaved(result, !assistant);
    },
    onError: (error) => setProblem(error.message),
  });
  const remove = useMutation({
    mutationFn: () => deleteAssistant((assistant as Assistant).id),
    onSuccess: () => {
      setConfirmDelete(false);
      toast(t('assistant.deleted'));
      onDeleted();
    },
    onError: (error) => {
      setConfirmDelete(false);
      setProblem(error.message);
    },
  });

  const openEditor = (index: number | null) => {
    // A new key each time: the editor starts from the function chosen, not from last time's text.
    setDialogKey((key) => key + 1);
    setEditing({ index });
  };
  const modelKnown = models.some((model) => model.id === draft.model);
  const editingFunction = editing?.index == null ? null : (draft.functions[editing.index] ?? null);

  return (
    <>
      <form
        className="assistant-form"
        aria-labelledby={`${ids}-title`}
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <div className="panel-heading">
          <h2 id={`${ids}-title`}>{assistant ? t('assistant.editTitle') : t('assistant.newTitle')}</h2>
          {assistant ? (
            <button
              type="button"
              className="id-chip"
              title={t('common.copyId')}
              aria-label={t('common.copyValue', { value: assistant.id })}
              onClick={() => void copyText(assistant.id).then(() => toast(t('common.copied')))}
            >
              {assistant.id}
            </button>
          ) : null}
        </div>

        <TextField
          label={t('assistant.name')}
          value={draft.name}
          maxLength={256}
          placeholder={t('assistant.namePlaceholder')}
          onChange={(event) => update({ name: event.target.value })}
        />
        <TextArea
          label={t('assistant.instructions')}
          value={draft.instructions}
          rows={6}
          placeholder={t('assistant.instructionsPlaceholder')}
          onChange={(event) => update({ instructions: event.target.value })}
        />
        <TextField
          label={t('assistant.description')}
          value={draft.description}
          maxLength={512}
          onChange={(event) => update({ description: event.target.value })}
        />
        <div className="field">
          <label htmlFor={`${ids}-model`}>{t('assistant.model')}</label>
          <select
            id={`${ids}-model`}
            value={draft.model}
            onChange={(event) => update({ model: event.target.value })}
          >
            {!modelKnown ? (
              <option value={draft.model}>{draft.model || t('assistant.noModel')}</option>
            ) : null}
            {models.map((model) => (
              <option key={model.id} value={model.id}>
                {model.id}
              </option>
            ))}
          </select>
        </div>

        <fieldset className="panel-group">
          <legend>{t('tools.title')}</legend>
          <Switch
            label={t('tools.fileSearch')}
            hint={t('tools.fileSearchHint')}
            checked={draft.fileSearch}
            onChange={(fileSearch) => update({ fileSearch })}
          />
          {draft.fileSearch ? (
            <FileSearchFiles
              vectorStoreId={draft.vectorStoreId}
              storeName={t('tools.vectorStoreName', { name: draft.name.trim() || t('assistant.untitled') })}
              onVectorStore={(vectorStoreId) => update({ vectorStoreId })}
              onError={setProblem}
              t={t}
            />
          ) : null}
          <Switch
            label={t('tools.codeInterpreter')}
            hint={t('tools.codeInterpreterHint')}
            checked={draft.codeInterpreter}
            onChange={(codeInterpreter) => update({ codeInterpreter })}
          />
          {draft.codeInterpreter ? (
            <CodeInterpreterFiles
              fileIds={draft.codeFileIds}
              onChange={(codeFileIds) => update({ codeFileIds })}
              onError={setProblem}
              t={t}
            />
          ) : null}
          <div className="functions">
            <h3 className="group-title">{t('functions.title')}</h3>
            {draft.functions.length === 0 ? <p className="field-hint">{t('functions.none')}</p> : null}
            <ul className="function-list" aria-label={t('functions.title')}>
              {draft.functions.map((definition, index) => (
                <li key={definition.name} className="function-row">
                  <span className="function-text">
                    <code>{definition.name}</code>
                    {definition.description ? <span className="muted">{definition.description}</span> : null}
                  </span>
                  <IconButton
                    icon="pencil"
                    size="small"
                    label={t('functions.edit', { name: definition.name })}
                    onClick={() => openEditor(index)}
                  />
                  <IconButton
                    icon="trash"
                    size="small"
                    label={t('functions.remove', { name: definition.name })}
                    onClick={() => update({ functions: draft.functions.filter((_, at) => at !== index) })}
                  />
                </li>
              ))}
            </ul>
            <Button size="small" icon="new-chat" onClick={() => openEditor(null)}>
              {t('functions.add')}
            </Button>
          </div>
        </fieldset>

        <fieldset className="panel-group">
          <legend>{t('config.title')}</legend>
          <div className="field">
            <label htmlFor={`${ids}-format`}>{t('config.responseFormat')}</label>
            <select
              id={`${ids}-format`}
              value={draft.responseFormat}
              onChange={(event) => update({ responseFormat: event.target.value as ResponseFormatKind })}
            >
              {RESPONSE_FORMATS.map((kind) => (
                <option key={kind} value={kind}>
                  {t(`config.format.${kind}`)}
                </option>
              ))}
            </select>
          </div>
          {draft.responseFormat === 'json_schema' ? (
            <JsonEditor
              label={t('config.responseSchema')}
              value={draft.responseSchema}
              onChange={(responseSchema) => update({ responseSchema })}
              problem={schemaCheck && !schemaCheck.ok ? schemaCheck.problem : null}
              rows={10}
              t={t}
            />
          ) : null}
          <Slider
            label={t('config.temperature')}
            hint={t('config.temperatureHint')}
            value={draft.temperature}
            max={2}
            onChange={(temperature) => update({ temperature })}
          />
          <Slider
            label={t('config.topP')}
            hint={t('config.topPHint')}
            value={draft.topP}
            max={1}
            onChange={(topP) => update({ topP })}
          />
        </fieldset>

        {problem ? (
          <p className="form-error" role="alert">
            {problem}
          </p>
        ) : null}
        <footer className="assistant-footer">
          <span className="muted save-state" aria-live="polite">
            {assistant ? (dirty ? t('assistant.unsaved') : t('assistant.allSaved')) : ''}
          </span>
          {assistant ? (
            <Button variant="ghost" icon="trash" onClick={() => setConfirmDelete(true)}>
              {t('assistant.delete')}
            </Button>
          ) : null}
          <Button
            variant="primary"
            type="submit"
            busy={save.isPending}
            disabled={!params.ok || !draft.model || (!!assistant && !dirty)}
          >
            {assistant ? t('assistant.save') : t('assistant.create')}
          </Button>
        </footer>
      </form>

      <FunctionDialog
        key={dialogKey}
        open={editing !== null}
        initial={editingFunction}
        takenNames={draft.functions
          .filter((_, index) => index !== editing?.index)
          .map((definition) => definition.name)}
        onClose={() => setEditing(null)}
        onSave={(definition: FunctionDefinition) => {
          const functions = [...draft.functions];
          if (editing?.index === null || editing?.index === undefined) functions.push(definition);
          else functions[editing.index] = definition;
          update({ functions });
          setEditing(null);
        }}
        t={t}
      />
      {assistant ? (
        <ConfirmDialog
          open={confirmDelete}
          title={t('assistant.deleteTitle')}
          body={<p>{t('assistant.deleteBody', { name: assistant.name || assistant.id })}</p>}
          confirmLabel={t('assistant.delete')}
          cancelLabel={t('common.cancel')}
          busy={remove.isPending}
          onCancel={() => setConfirmDelete(false)}
          onConfirm={() => remove.mutate()}
        />
      ) : null}
    </>
  );
}

function Slider({
  label,
  hint,
  value,
  max,
  onChange,
}: {
  label: string;
  hint: string;
  value: number;
  max: number;
  onChange: (value: number) => void;
}) {
  const id = useId();
  return (
    <div className="field slider-field">
      <div className="slider-label">
        <label htmlFor={id}>{label}</label>
        <output htmlFor={id}>{value.toFixed(2)}</output>
      </div>
      <input
        id={id}
        type="range"
        min={0}
        max={max}
        step={0.01}
        value={value}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onChange(Number(event.target.value))}
      />
      <p id={`${id}-hint`} className="field-hint">
        {hint}
      </p>
    </div>
  );
}
