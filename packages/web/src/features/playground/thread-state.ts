// A thread as the playground shows it: its messages in thread order and its runs with their
// steps, built from what the API lists and kept current by the run's stream events (deltas
// appended, objects replaced as they complete). Pure functions, so the reducer is tested alone.
import type {
  Annotation,
  Message,
  MessageContent,
  MessageDelta,
  Run,
  RunStatus,
  RunStep,
  RunStepDelta,
  StreamEvent,
  ToolCall,
  ToolCallDelta,
} from './playground-types';

export interface RunView {
  readonly run: Run;
  readonly steps: readonly RunStep[];
}

export interface ThreadState {
  readonly messages: readonly Message[];
  readonly runs: readonly RunView[];
}

export const EMPTY_THREAD: ThreadState = { messages: [], runs: [] };

/** Statuses in which a run is still going (or waiting for the client). */
export const ACTIVE_STATUSES: readonly RunStatus[] = [
  'queued',
  'in_progress',
  'requires_action',
  'cancelling',
];

export function isActive(run: Run): boolean {
  return ACTIVE_STATUSES.includes(run.status);
}

/** The run that is still going, if any (a thread has at most one). */
export function activeRun(state: ThreadState): RunView | null {
  return state.runs.findLast((view) => isActive(view.run)) ?? null;
}

/** A copy of `items` with the one at `index` replaced (Array#with, for browsers before 2023). */
function replaceAt<Item>(items: readonly Item[], index: number, item: Item): readonly Item[] {
  const copy = [...items];
  copy[index] = item;
  return copy;
}

export function upsertMessage(state: ThreadState, message: Message): ThreadState {
  const index = state.messages.findIndex((known) => known.id === message.id);
  if (index < 0) return { ...state, messages: [...state.messages, message] };
  return { ...state, messages: replaceAt(state.messages, index, message) };
}

export function upsertRun(state: ThreadState, run: Run, steps?: readonly RunStep[]): ThreadState {
  const index = state.runs.findIndex((view) => view.run.id === run.id);
  if (index < 0) return { ...state, runs: [...state.runs, { run, steps: steps ?? [] }] };
  const known = state.runs[index] as RunView;
  return { ...state, runs: replaceAt(state.runs, index, { run, steps: steps ?? known.steps }) };
}

function upsertStep(state: ThreadState, step: RunStep): ThreadState {
  return mapRun(state, step.run_id, (view) => {
    const index = view.steps.findIndex((known) => known.id === step.id);
    return { ...view, steps: index < 0 ? [...view.steps, step] : replaceAt(view.steps, index, step) };
  });
}

function mapRun(state: ThreadState, runId: string, change: (view: RunView) => RunView): ThreadState {
  const index = state.runs.findIndex((view) => view.run.id === runId);
  if (index < 0) return state;
  return { ...state, runs: replaceAt(state.runs, index, change(state.runs[index] as RunView)) };
}

/** Applies one stream event; events the playground does not show leave the state as it is. */
export function applyEvent(state: ThreadState, { event, data }: StreamEvent): ThreadState {
  if (event === 'thread.run.step.delta') return applyStepDelta(state, data as RunStepDelta);
  if (event === 'thread.message.delta') return applyMessageDelta(state, data as MessageDelta);
  if (event.startsWith('thread.run.step.')) return upsertStep(state, data as RunStep);
  if (event.startsWith('thread.run.')) return upsertRun(state, data as Run);
  if (event.startsWith('thread.message.')) return upsertMessage(state, data as Message);
  return state;
}

function applyStepDelta(state: ThreadState, delta: RunStepDelta): ThreadState {
  const pieces = delta.delta.step_details?.tool_calls ?? [];
  if (pieces.length === 0) return state;
  const owner = state.runs.find((view) => view.steps.some((step) => step.id === delta.id));
  if (!owner) return state;
  return mapRun(state, owner.run.id, (view) => ({
    ...view,
    steps: view.steps.map((step) => {
      if (step.id !== delta.id || step.step_details.type !== 'tool_calls') return step;
      let calls = step.step_details.tool_calls;
      for (const piece of pieces) calls = mergeToolCall(calls, piece);
      return { ...step, step_details: { type: 'tool_calls', tool_calls: calls } };
    }),
  }));
}

/** Merges a tool call's streamed piece: text (arguments, code) is appended, outputs placed. */
export function mergeToolCall(calls: ToolCall[], piece: ToolCallDelta): ToolCall[] {
  const known = calls[piece.index] ?? newToolCall(piece);
  if (!known) return calls;
  let merged: ToolCall = known;
  if (known.type === 'function' && piece.function) {
    merged = {
      ...known,
      function: {
        name: piece.function.name ?? known.function.name,
        arguments: known.function.arguments + (piece.function.arguments ?? ''),
        output: piece.function.output !== undefined ? piece.function.output : known.function.output,
      },
    };
  } else if (known.type === 'code_interpreter' && piece.code_interpreter) {
    const outputs = [...known.code_interpreter.outputs];
    for (const { index, ...output } of piece.code_interpreter.outputs ?? []) outputs[index] = output;
    merged = {
      ...known,
      code_interpreter: {
        input: known.code_interpreter.input + (piece.code_interpreter.input ?? ''),
        outputs,
      },
    };
  } else if (known.type === 'file_search' && piece.file_search?.results) {
    merged = { ...known, file_search: { results: [...piece.file_search.results] } };
  }
  const next = [...calls];
  next[piece.index] = merged;
  return next;
}

function newToolCall(piece: ToolCallDelta): ToolCall | null {
  const id = piece.id ?? '';
  switch (piece.type) {
    case 'function':
      return { id, type: 'function', function: { name: '', arguments: '', output: null } };
    case 'code_interpreter':
      return { id, type: 'code_interpreter', code_interpreter: { input: '', outputs: [] } };
    case 'file_search':
      return { id, type: 'file_search', file_search: {} };
    default:
      return null;
  }
}

/** An annotation from a delta, when it came whole (the server sends each one whole, once). */
function completeAnnotation(delta: Partial<Annotation> & { type: Annotation['type'] }): Annotation | null {
  const { text, start_index, end_index } = delta;
  if (text === undefined || start_index === undefined || end_index === undefined) return null;
  if (delta.type === 'file_citation' && 'file_citation' in delta && delta.file_citation) {
    return { type: 'file_citation', text, start_index, end_index, file_citation: delta.file_citation };
  }
  if (delta.type === 'file_path' && 'file_path' in delta && delta.file_path) {
    return { type: 'file_path', text, start_index, end_index, file_path: delta.file_path };
  }
  return null;
}

function applyMessageDelta(state: ThreadState, delta: MessageDelta): ThreadState {
  const index = state.messages.findIndex((message) => message.id === delta.id);
  const message = state.messages[index];
  if (!message) return state;
  const content: MessageContent[] = [...message.content];
  for (const part of delta.delta.content ?? []) {
    const known = content[part.index];
    if (part.type === 'text') {
      const text = known?.type === 'text' ? known.text : { value: '', annotations: [] };
      const annotations = [...text.annotations];
      for (const { index: at, ...annotation } of part.text?.annotations ?? []) {
        const complete = completeAnnotation(annotation);
        if (complete) annotations[at] = complete;
      }
      content[part.index] = {
        type: 'text',
        text: { value: text.value + (part.text?.value ?? ''), annotations },
      };
    } else if (part.image_file?.file_id) {
      content[part.index] = { type: 'image_file', image_file: { file_id: part.image_file.file_id } };
    }
  }
  return { ...state, messages: replaceAt(state.messages, index, { ...message, content }) };
}

export type TimelineItem =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'run'; readonly view: RunView; readonly messages: readonly Message[] };

/**
 * The thread in reading order: messages in thread order, each run where its first answer is (its
 * answers inside it), and runs that wrote nothing by their creation time, after any message of
 * the same second (a run starts after the message it answers).
 */
export function timeline(state: ThreadState): readonly TimelineItem[] {
  const runs = new Map(state.runs.map((view) => [view.run.id, view]));
  const byRun = new Map<string, Message[]>();
  const items: TimelineItem[] = [];
  for (const message of state.messages) {
    const view = message.run_id ? runs.get(message.run_id) : undefined;
    if (!view) {
      items.push({ kind: 'message', message });
      continue;
    }
    const answers = byRun.get(view.run.id);
    if (answers) {
      answers.push(message);
      continue;
    }
    const started = [message];
    byRun.set(view.run.id, started);
    items.push({ kind: 'run', view, messages: started });
  }
  for (const view of state.runs) {
    if (byRun.has(view.run.id)) continue;
    const time = (item: TimelineItem) =>
      item.kind === 'message' ? item.message.created_at : item.view.run.created_at;
    let at = items.length;
    while (at > 0 && time(items[at - 1] as TimelineItem) > view.run.created_at) at--;
    items.splice(at, 0, { kind: 'run', view, messages: [] });
  }
  return items;
}

/** A message's text parts, joined (images and links are shown beside it). */
export function messageText(message: Message): string {
  return message.content.flatMap((part) => (part.type === 'text' ? [part.text.value] : [])).join('\n\n');
}
