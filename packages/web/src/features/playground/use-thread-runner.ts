// The thread on screen and what can be done to it: load it, add messages, start a streamed run,
// answer its function calls, cancel it. Stream events update the state as they arrive; when a
// stream ends, the run is read once more so its steps and usage are the stored ones. A run found
// still going without a stream (after a reload) is looked at again every second until it settles.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import {
  addMessage as addMessageRequest,
  cancelRun as cancelRunRequest,
  createThread,
  loadRunView,
  loadThread,
  type RunOptions,
  streamRun,
  streamToolOutputs,
} from './playground-api';
import type { Attachment, Message, StreamEvent } from './playground-types';
import {
  activeRun,
  applyEvent,
  EMPTY_THREAD,
  type RunView,
  type ThreadState,
  upsertMessage,
  upsertRun,
} from './thread-state';

type Action =
  | { readonly type: 'reset'; readonly state: ThreadState }
  | { readonly type: 'event'; readonly event: StreamEvent }
  | { readonly type: 'run'; readonly view: RunView }
  | { readonly type: 'message'; readonly message: Message };

function reducer(state: ThreadState, action: Action): ThreadState {
  switch (action.type) {
    case 'reset':
      return action.state;
    case 'event':
      return applyEvent(state, action.event);
    case 'run':
      return upsertRun(state, action.view.run, action.view.steps);
    case 'message':
      return upsertMessage(state, action.message);
  }
}

export interface ThreadRunner {
  readonly state: ThreadState;
  readonly loading: boolean;
  readonly streaming: boolean;
  readonly error: string | null;
  addMessage(message: { content: string; attachments: readonly Attachment[] }): Promise<string | null>;
  run(options: RunOptions, message?: { content: string; attachments: readonly Attachment[] }): Promise<void>;
  submitOutputs(runId: string, outputs: readonly { tool_call_id: string; output: string }[]): Promise<void>;
  cancel(runId: string): Promise<void>;
  clearError(): void;
}

export function useThreadRunner({
  threadId,
  onThreadCreated,
}: {
  threadId: string | null;
  onThreadCreated: (threadId: string) => void;
}): ThreadRunner {
  const [state, dispatch] = useReducer(reducer, EMPTY_THREAD);
  const [loading, setLoading] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const stream = useRef<AbortController | null>(null);
  // The thread a new one was just made for: no need to load it from the server.
  const created = useRef<string | null>(null);

  useEffect(() => {
    // The thread this page just made: its run is already streaming into the state. (Once: coming
    // back to it later, from another thread, loads it.)
    if (threadId !== null && created.current === threadId) {
      created.current = null;
      return;
    }
    stream.current?.abort();
    if (threadId === null) {
      dispatch({ type: 'reset', state: EMPTY_THREAD });
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    loadThread(threadId)
      .then((loaded) => {
        if (!controller.signal.aborted) dispatch({ type: 'reset', state: loaded });
      })
      .catch((failure: Error) => {
        if (!controller.signal.aborted) setError(failure.message);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [threadId]);

  useEffect(() => () => stream.current?.abort(), []);

  // A run going on without a stream of ours (the page was reloaded mid-run, or cancelled while
  // waiting for outputs): look again until it settles, then read the thread's new messages.
  const pending = activeRun(state);
  const pendingId = pending?.run.id ?? null;
  const pendingStatus = pending?.run.status ?? null;
  useEffect(() => {
    if (!threadId || !pendingId || streaming || pendingStatus === 'requires_action') return;
    const timer = setTimeout(async () => {
      try {
        const view = await loadRunView(threadId, pendingId);
        if (view.run.status === pendingStatus) dispatch({ type: 'run', view });
        else dispatch({ type: 'reset', state: await loadThread(threadId) });
      } catch (failure) {
        setError((failure as Error).message);
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [threadId, pendingId, pendingStatus, streaming]);

  const ensureThread = useCallback(async (): Promise<string> => {
    if (threadId) return threadId;
    const thread = await createThread();
    created.current = thread.id;
    dispatch({ type: 'reset', state: EMPTY_THREAD });
    onThreadCreated(thread.id);
    return thread.id;
  }, [threadId, onThreadCreated]);

  const postMessage = useCallback(
    async (id: string, message: { content: string; attachments: readonly Attachment[] }) => {
      dispatch({ type: 'message', message: await addMessageRequest(id, message) });
    },
    [],
  );

  /** Streams a run's events into the state, then reads the run once more. */
  const follow = useCallback(
    async (
      id: string,
      start: (options: { signal: AbortSignal; onEvent: (event: StreamEvent) => void }) => Promise<void>,
    ) => {
      stream.current?.abort();
      const controller = new AbortController();
      stream.current = controller;
      setStreaming(true);
      let runId: string | null = null;
      try {
        await start({
          signal: controller.signal,
          onEvent: (event) => {
            if (event.event.startsWith('thread.run.') && !event.event.startsWith('thread.run.step.')) {
              runId = (event.data as { id: string }).id;
            }
            dispatch({ type: 'event', event });
          },
        });
        if (runId) dispatch({ type: 'run', view: await loadRunView(id, runId) });
      } catch (failure) {
        if (!controller.signal.aborted) setError((failure as Error).message);
      } finally {
        if (stream.current === controller) {
          stream.current = null;
          setStreaming(false);
        }
      }
    },
    [],
  );

  return {
    state,
    loading,
    streaming,
    error,
    clearError: () => setError(null),
    async addMessage(message) {
      setError(null);
      try {
        const id = await ensureThread();
        await postMessage(id, message);
        return id;
      } catch (failure) {
        setError((failure as Error).message);
        return null;
      }
    },
    async run(options, message) {
      setError(null);
      let id: string;
      try {
        id = await ensureThread();
        if (message) await postMessage(id, message);
      } catch (failure) {
        setError((failure as Error).message);
        return;
      }
      await follow(id, (handlers) => streamRun(id, options, handlers));
    },
    async submitOutputs(runId, outputs) {
      if (!threadId) return;
      setError(null);
      await follow(threadId, (handlers) => streamToolOutputs(threadId, runId, outputs, handlers));
    },
    async cancel(runId) {
      if (!threadId) return;
      setError(null);
      try {
        const run = await cancelRunRequest(threadId, runId);
        dispatch({ type: 'event', event: { event: `thread.run.${run.status}`, data: run } });
        // Cancelled at once (it was waiting for outputs): read its steps, cancelled with it. A run
        // still cancelling ends through the open stream, or the poll above.
        if (run.status === 'cancelled' && !stream.current)
          dispatch({ type: 'run', view: await loadRunView(threadId, runId) });
      } catch (failure) {
        setError((failure as Error).message);
      }
    },
  };
}
