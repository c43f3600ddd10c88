// The thread side of the playground: the conversation with every run in it (streamed as it
// happens), run options (tool_choice, additional instructions), and the message box with file
// attachments for the code interpreter or file search. "Add" only adds the message; "Run" adds it
// and runs the assistant on the thread.
import { type FormEvent, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Button, IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { useToast } from '../../ui/toast';
import { toolChoiceOptions } from './assistant-draft';
import { FileName } from './file-views';
import type { PlaygroundTranslate } from './playground-i18n';
import type { Assistant, AttachmentTool, FileObject } from './playground-types';
import { MessageBody, RunCard } from './run-card';
import { activeRun, timeline } from './thread-state';
import { UploadButton } from './tool-files';
import { useThreadRunner } from './use-thread-runner';

interface PendingAttachment {
  readonly file: FileObject;
  readonly tools: readonly AttachmentTool[];
}

export function ThreadPanel({
  assistant,
  threadId,
  onThreadChange,
  t,
}: {
  /** null: no saved assistant yet (nothing to run). */
  assistant: Assistant | null;
  threadId: string | null;
  onThreadChange: (threadId: string | null) => void;
  t: PlaygroundTranslate;
}) {
  const toast = useToast();
  const ids = useId();
  const runner = useThreadRunner({ threadId, onThreadCreated: onThreadChange });
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState<readonly PendingAttachment[]>([]);
  const [toolChoice, setToolChoice] = useState('auto');
  const [additionalInstructions, setAdditionalInstructions] = useState('');
  const [sending, setSending] = useState(false);
  const [announcement, setAnnouncement] = useState('');

  const choices = useMemo(() => toolChoiceOptions(assistant?.tools ?? []), [assistant]);
  const choice = choices.find((option) => option.value === toolChoice) ?? choices[0];
  // A forced tool the assistant no longer has falls back to auto.
  useEffect(() => {
    if (!choices.some((option) => option.value === toolChoice)) setToolChoice('auto');
  }, [choices, toolChoice]);

  const current = activeRun(runner.state);
  const busy = sending || runner.streaming;
  const items = timeline(runner.state);

  // Say what became of the latest run, for screen readers.
  const latest = runner.state.runs.at(-1)?.run;
  const latestStatus = latest?.status;
  useEffect(() => {
    if (latestStatus) setAnnouncement(t('run.announce', { status: t(`status.${latestStatus}`) }));
  }, [latestStatus, t]);

  // Keep the newest part of the thread in view as it grows, unless the reader scrolled up.
  const scroller = useRef<HTMLElement>(null);
  const stick = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the thread changes.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [runner.state]);

  const message = () => ({
    content: text,
    attachments: attachments.map((attachment) => ({
      file_id: attachment.file.id,
      tools: attachment.tools.map((type) => ({ type })),
    })),
  });
  const clearComposer = () => {
    setText('');
    setAttachments([]);
  };

  const add = async () => {
    if (!text.trim()) return;
    setSending(true);
    const added = await runner.addMessage(message());
    setSending(false);
    if (added) clearComposer();
  };

  const run = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!assistant || !choice || busy || current) return;
    const withMessage = text.trim() ? message() : undefined;
    if (withMessage) clearComposer();
    setSending(true);
    await runner.run(
      { assistantId: assistant.id, toolChoice: choice.choice, additionalInstructions },
      withMessage,
    );
    setSending(false);
  };

  return (
    <div className="thread-panel">
      <div className="panel-heading">
        <h2 id={`${ids}-title`}>{t('thread.title')}</h2>
        {threadId ? (
          <button
            type="button"
            className="id-chip"
            title={t('common.copyId')}
            aria-label={t('common.copyValue', { value: threadId })}
            onClick={() => void copyText(threadId).then(() => toast(t('common.copied')))}
          >
            {threadId}
          </button>
        ) : null}
        <span className="spacer" />
        <Button
          size="small"
          icon="new-chat"
          disabled={threadId === null && runner.state.messages.length === 0}
          onClick={() => {
            clearComposer();
            runner.clearError();
            onThreadChange(null);
          }}
        >
          {t('thread.new')}
        </Button>
      </div>

      <details className="run-options">
        <summary>{t('runOptions.title')}</summary>
        <div className="run-options-body">
          <div className="field">
            <label htmlFor={`${ids}-tool-choice`}>{t('runOptions.toolChoice')}</label>
            <select
              id={`${ids}-tool-choice`}
              value={choice?.value ?? 'auto'}
              aria-describedby={`${ids}-tool-choice-hint`}
              onChange={(event) => setToolChoice(event.target.value)}
            >
              {choices.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.value.startsWith('function:')
                    ? t('runOptions.forceFunction', { name: option.value.slice('function:'.length) })
                    : t(`runOptions.choice.${option.value as 'auto' | 'none' | 'required' | AttachmentTool}`)}
                </option>
              ))}
            </select>
            <p id={`${ids}-tool-choice-hint`} className="field-hint">
              {t('runOptions.toolChoiceHint')}
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${ids}-additional`}>{t('runOptions.additionalInstructions')}</label>
            <textarea
              id={`${ids}-additional`}
              rows={2}
              value={additionalInstructions}
              onChange={(event) => setAdditionalInstructions(event.target.value)}
            />
          </div>
        </div>
      </details>

      <section
        ref={scroller}
        className="thread-timeline"
        aria-labelledby={`${ids}-title`}
        aria-busy={runner.loading || undefined}
        onScroll={(event) => {
          const element = event.currentTarget;
          stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 48;
        }}
      >
        {runner.loading ? <span className="spinner" role="img" aria-label={t('thread.loading')} /> : null}
        {!runner.loading && items.length === 0 ? (
          <p className="thread-empty muted">{assistant ? t('thread.empty') : t('thread.saveFirst')}</p>
        ) : null}
        {items.map((item) =>
          item.kind === 'message' ? (
            <div key={item.message.id} className={`thread-message thread-message-${item.message.role}`}>
              <span className="thread-role">{t(`role.${item.message.role}`)}</span>
              <MessageBody message={item.message} t={t} />
            </div>
          ) : (
            <RunCard
              key={item.view.run.id}
              view={item.view}
              messages={item.messages}
              busy={busy}
              onSubmitOutputs={(outputs) => void runner.submitOutputs(item.view.run.id, outputs)}
              onCancel={() => void runner.cancel(item.view.run.id)}
              t={t}
            />
          ),
        )}
      </section>
      <p className="sr-only" role="status">
        {announcement}
      </p>
      {runner.error ? (
        <p className="form-error" role="alert">
          {t('thread.error', { message: runner.error })}
        </p>
      ) : null}

      <form className="thread-composer" onSubmit={run}>
        <label htmlFor="composer-input" className="sr-only">
          {t('composer.label')}
        </label>
        <textarea
          id="composer-input"
          rows={2}
          value={text}
          placeholder={t('composer.placeholder')}
          aria-describedby={`${ids}-composer-hint`}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              void run();
            }
          }}
        />
        <p id={`${ids}-composer-hint`} className="sr-only">
          {t('composer.hint')}
        </p>
        {attachments.length > 0 ? (
          <ul className="pending-attachments" aria-label={t('composer.attachments')}>
            {attachments.map((attachment, index) => (
              <li key={attachment.file.id} className="pending-attachment">
                <FileName fileId={attachment.file.id} />
                {(['code_interpreter', 'file_search'] as const).map((tool) => (
                  <label key={tool} className="check">
                    <input
                      type="checkbox"
                      checked={attachment.tools.includes(tool)}
                      onChange={(event) =>
                        setAttachments((all) =>
                          all.map((item, at) =>
                            at !== index
                              ? item
                              : {
                                  ...item,
                                  tools: event.target.checked
                                    ? [...item.tools, tool]
                                    : item.tools.filter((known) => known !== tool),
                                },
                          ),
                        )
                      }
                    />
                    {t(`attach.${tool}`)}
                  </label>
                ))}
                <IconButton
                  icon="close"
                  size="small"
                  label={t('files.remove', { name: attachment.file.filename })}
                  onClick={() => setAttachments((all) => all.filter((_, at) => at !== index))}
                />
              </li>
            ))}
          </ul>
        ) : null}
        <div className="composer-actions">
          <UploadButton
            label={t('composer.attach')}
            onUploaded={(files) =>
              setAttachments((all) => [
                ...all,
                ...files.map((file) => ({ file, tools: defaultTools(assistant) })),
              ])
            }
            onError={(problem) => toast(problem, 'error')}
            t={t}
          />
          <span className="spacer" />
          <Button disabled={!text.trim() || busy || !!current} onClick={() => void add()}>
            {t('composer.add')}
          </Button>
          <Button
            type="submit"
            variant="primary"
            busy={busy}
            disabled={!assistant || !!current || (!text.trim() && runner.state.messages.length === 0)}
          >
            {t('composer.run')}
          </Button>
        </div>
      </form>
    </div>
  );
}

/** An attachment goes to the tools the assistant has (file search first, as OpenAI's default). */
function defaultTools(assistant: Assistant | null): readonly AttachmentTool[] {
  const tools = assistant?.tools ?? [];
  const chosen: AttachmentTool[] = [];
  if (tools.some((tool) => tool.type === 'file_search')) chosen.push('file_search');
  if (tools.some((tool) => tool.type === 'code_interpreter')) chosen.push('code_interpreter');
  return chosen.length > 0 ? chosen : ['file_search'];
}
