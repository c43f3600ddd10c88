// One run as the playground shows it: status, usage and errors; every step in order (the answer
// it wrote, or each tool call with its input and output: function arguments and results, code
// interpreter code, logs and images, file search results); the form for function outputs when
// the run requires action, and a cancel button while it goes on.
import { type ReactNode, useId, useState } from 'react';
import { Button } from '../../ui/button';
import { FileDownload, FileImage, FileName } from './file-views';
import type { PlaygroundTranslate } from './playground-i18n';
import type { Message, RequiredToolCall, RunStatus, RunStep, ToolCall } from './playground-types';
import { isActive, messageText, type RunView } from './thread-state';

export function StatusBadge({
  status,
  t,
}: {
  status: RunStatus | RunStep['status'];
  t: PlaygroundTranslate;
}) {
  return <span className={`status-badge status-${status}`}>{t(`status.${status}`)}</span>;
}

export function RunCard({
  view,
  messages,
  busy,
  onSubmitOutputs,
  onCancel,
  t,
}: {
  view: RunView;
  /** The run's answers, from the thread. */
  messages: readonly Message[];
  /** A request about this thread is under way (buttons wait). */
  busy: boolean;
  onSubmitOutputs: (outputs: readonly { tool_call_id: string; output: string }[]) => void;
  onCancel: () => void;
  t: PlaygroundTranslate;
}) {
  const { run, steps } = view;
  const titleId = useId();
  const shown = new Set<string>();
  return (
    <article className={`run-card run-${run.status}`} aria-labelledby={titleId} data-run-id={run.id}>
      <header className="run-header">
        <h3 id={titleId} className="run-title">
          {t('run.title')} <code>{run.id}</code>
        </h3>
        <StatusBadge status={run.status} t={t} />
        {isActive(run) && run.status !== 'cancelling' ? (
          <Button size="small" variant="ghost" icon="stop" onClick={onCancel}>
            {t('run.cancel')}
          </Button>
        ) : null}
      </header>
      <dl className="run-facts">
        <div>
          <dt>{t('run.model')}</dt>
          <dd>{run.model}</dd>
        </div>
        {run.usage ? (
          <div>
            <dt>{t('run.usage')}</dt>
            <dd>
              {t('run.usageValue', {
                prompt: run.usage.prompt_tokens,
                completion: run.usage.completion_tokens,
                total: run.usage.total_tokens,
              })}
            </dd>
          </div>
        ) : null}
      </dl>
      {run.last_error ? (
        <p className="form-error" role="alert">
          {t('run.error', { code: run.last_error.code, message: run.last_error.message })}
        </p>
      ) : null}
      {run.incomplete_details ? (
        <p className="form-error">{t('run.incomplete', { reason: run.incomplete_details.reason })}</p>
      ) : null}

      <section className="run-steps" aria-label={t('run.steps')}>
        <h4 className="group-title">{t('run.stepsCount', { count: steps.length })}</h4>
        {steps.length === 0 ? <p className="field-hint">{t('run.noSteps')}</p> : null}
        <ol className="step-list">
          {steps.map((step) => {
            const messageId =
              step.step_details.type === 'message_creation'
                ? step.step_details.message_creation.message_id
                : null;
            if (messageId) shown.add(messageId);
            return (
              <StepView
                key={step.id}
                step={step}
                message={messageId ? (messages.find((message) => message.id === messageId) ?? null) : null}
                t={t}
              />
            );
          })}
        </ol>
        {messages
          .filter((message) => !shown.has(message.id))
          .map((message) => (
            <MessageBody key={message.id} message={message} t={t} />
          ))}
      </section>

      {run.status === 'requires_action' && run.required_action ? (
        <ToolOutputsForm
          calls={run.required_action.submit_tool_outputs.tool_calls}
          busy={busy}
          onSubmit={onSubmitOutputs}
          t={t}
        />
      ) : null}
    </article>
  );
}

function StepView({ step, message, t }: { step: RunStep; message: Message | null; t: PlaygroundTranslate }) {
  return (
    <li className="step" data-step-id={step.id}>
      <div className="step-header">
        <span className="step-kind">
          {step.type === 'message_creation' ? t('step.messageCreation') : t('step.toolCalls')}
        </span>
        <StatusBadge status={step.status} t={t} />
        <code className="step-id">{step.id}</code>
        {step.usage ? (
          <span className="muted step-usage">{t('step.usage', { total: step.usage.total_tokens })}</span>
        ) : null}
      </div>
      {step.last_error ? (
        <p className="form-error">
          {t('run.error', { code: step.last_error.code, message: step.last_error.message })}
        </p>
      ) : null}
      {step.step_details.type === 'message_creation' ? (
        message ? (
          <MessageBody message={message} t={t} />
        ) : (
          <p className="muted">{step.step_details.message_creation.message_id}</p>
        )
      ) : (
        step.step_details.tool_calls.map((call, index) => (
          <ToolCallView key={call.id || index} call={call} t={t} />
        ))
      )}
    </li>
  );
}

function ToolCallView({ call, t }: { call: ToolCall; t: PlaygroundTranslate }) {
  switch (call.type) {
    case 'function':
      return (
        <div className="tool-call">
          <p className="tool-call-title">
            {t('call.function', { name: call.function.name })} <code className="muted">{call.id}</code>
          </p>
          <Labelled label={t('call.arguments')}>
            <pre className="code-box">{prettyJson(call.function.arguments)}</pre>
          </Labelled>
          <Labelled label={t('call.output')}>
            {call.function.output === null ? (
              <p className="muted">{t('call.waiting')}</p>
            ) : (
              <pre className="code-box">{prettyJson(call.function.output)}</pre>
            )}
          </Labelled>
        </div>
      );
    case 'code_interpreter':
      return (
        <div className="tool-call">
          <p className="tool-call-title">
            {t('call.codeInterpreter')} <code className="muted">{call.id}</code>
          </p>
          <Labelled label={t('call.input')}>
            <pre className="code-box">{call.code_interpreter.input}</pre>
          </Labelled>
          <Labelled label={t('call.outputs')}>
            {call.code_interpreter.outputs.length === 0 ? (
              <p className="muted">{t('call.noOutputs')}</p>
            ) : null}
            {call.code_interpreter.outputs.map((output, index) =>
              output.type === 'logs' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: outputs are only ever appended.
                <pre key={index} className="code-box logs">
                  {output.logs}
                </pre>
              ) : (
                // biome-ignore lint/suspicious/noArrayIndexKey: outputs are only ever appended.
                <FileImage key={index} fileId={output.image.file_id} t={t} />
              ),
            )}
          </Labelled>
        </div>
      );
    case 'file_search': {
      const results = call.file_search.results;
      return (
        <div className="tool-call">
          <p className="tool-call-title">
            {t('call.fileSearch')} <code className="muted">{call.id}</code>
          </p>
          <Labelled label={t('call.results')}>
            {!results || results.length === 0 ? (
              <p className="muted">{results ? t('call.noResults') : t('call.resultsNotReturned')}</p>
            ) : (
              <ol className="search-results">
                {results.map((result, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: results come ranked, as a whole.
                  <li key={index}>
                    <span className="file-name">{result.file_name}</span>{' '}
                    <span className="muted">{t('call.score', { score: result.score.toFixed(3) })}</span>
                    {result.content?.map((part, at) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: a result's parts never move.
                      <blockquote key={at}>{part.text}</blockquote>
                    ))}
                  </li>
                ))}
              </ol>
            )}
          </Labelled>
        </div>
      );
    }
  }
}

function Labelled({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="labelled">
      <span className="labelled-label">{label}</span>
      {children}
    </div>
  );
}

/** A message: its text (as written, whitespace kept), images, citations and files to download. */
export function MessageBody({ message, t }: { message: Message; t: PlaygroundTranslate }) {
  const text = messageText(message);
  const annotations = message.content.flatMap((part) => (part.type === 'text' ? part.text.annotations : []));
  return (
    <div className={`message-body message-${message.role}`} data-message-id={message.id}>
      {text ? <p className="message-text">{text}</p> : null}
      {message.status === 'in_progress' && !text ? <span className="spinner" aria-hidden="true" /> : null}
      {message.content.map((part) =>
        part.type === 'image_file' ? (
          <FileImage key={part.image_file.file_id} fileId={part.image_file.file_id} t={t} />
        ) : part.type === 'image_url' ? (
          <img
            key={part.image_url.url}
            className="playground-image"
            src={part.image_url.url}
            alt={t('file.imageAlt', { id: part.image_url.url })}
          />
        ) : null,
      )}
      {annotations.length > 0 ? (
        <ul className="annotations" aria-label={t('message.annotations')}>
          {annotations.map((annotation, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: annotations are placed by index.
            <li key={index}>
              <code>{annotation.text}</code>{' '}
              {annotation.type === 'file_citation' ? (
                <>
                  {t('message.citation')} <FileName fileId={annotation.file_citation.file_id} />
                </>
              ) : annotation.type === 'file_path' ? (
                <FileDownload fileId={annotation.file_path.file_id} label={annotation.text} t={t} />
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {message.attachments.length > 0 ? (
        <ul className="attachments" aria-label={t('message.attachments')}>
          {message.attachments.map((attachment) => (
            <li key={attachment.file_id}>
              <FileName fileId={attachment.file_id} />{' '}
              <span className="muted">
                {attachment.tools.map((tool) => t(`attach.${tool.type}`)).join(', ')}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function ToolOutputsForm({
  calls,
  busy,
  onSubmit,
  t,
}: {
  calls: readonly RequiredToolCall[];
  busy: boolean;
  onSubmit: (outputs: readonly { tool_call_id: string; output: string }[]) => void;
  t: PlaygroundTranslate;
}) {
  const [outputs, setOutputs] = useState<Readonly<Record<string, string>>>({});
  const ids = useId();
  return (
    <form
      className="tool-outputs"
      aria-labelledby={`${ids}-title`}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(calls.map((call) => ({ tool_call_id: call.id, output: outputs[call.id] ?? '' })));
      }}
    >
      <h4 id={`${ids}-title`}>{t('outputs.title')}</h4>
      <p className="field-hint">{t('outputs.hint')}</p>
      {calls.map((call, index) => (
        <div key={call.id} className="field">
          <label htmlFor={`${ids}-${index}`}>
            {t('outputs.label', { name: call.function.name, id: call.id })}
          </label>
          <pre className="code-box" id={`${ids}-${index}-arguments`}>
            {prettyJson(call.function.arguments)}
          </pre>
          <textarea
            id={`${ids}-${index}`}
            rows={3}
            value={outputs[call.id] ?? ''}
            aria-describedby={`${ids}-${index}-arguments`}
            placeholder={t('outputs.placeholder')}
            onChange={(event) => setOutputs((current) => ({ ...current, [call.id]: event.target.value }))}
          />
        </div>
      ))}
      <div className="tool-outputs-footer">
        <Button type="submit" variant="primary" busy={busy}>
          {t('outputs.submit')}
        </Button>
      </div>
    </form>
  );
}

/** JSON shown indented when it parses; anything else as it came. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
