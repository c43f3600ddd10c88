// The open chat: its message tree, the answer being streamed, and what the person can do (send,
// stop, regenerate, edit, switch between versions). The server keeps the tree and answers with
// runs of the engine: a question goes out with the ids of the messages it adds, the answer
// streams back and shows as it grows (a new chat is created by its first question, in the same
// request, so nothing stands between Enter and the first words). When another tab or device
// changes the chat, it is read again; an answer written from another device grows here word by
// word as its text arrives on the live event stream. A chat with a GPT is started with the GPT
// (`gptId`) and answered by it; an answer that waits for the person's answer about one of its
// action calls is `pending` until `continuePending` goes on with it.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { ApiError } from '../../api/http';
import { navigate } from '../../router';
import { onChatEvent } from '../sync/live-sync';
import {
  type AnswerEnd,
  type AnswerHandlers,
  type AttachmentRef,
  answerAgain,
  ask,
  type ChatGpt,
  type ChatNode,
  type ContentPart,
  continueAnswer,
  type FileInfo,
  getChat,
  type Question,
  showBranch,
  startChat,
  stopAnswer,
  textOf,
} from './chat-api';
import { newestLeaf, newNodeId, pathTo, replaceNode, siblingsOf, titleFrom } from './chat-tree';
import { type LiveAnswer, NOTHING_KNOWN, withDelta, withSaved } from './live-answer';

export interface ChatState {
  /** The server's id; null until a new chat's first question created it. */
  readonly chatId: string | null;
  readonly temporary: boolean;
  readonly model: string | null;
  /** The GPT the chat talks to (once it exists; a new chat's comes from the page). */
  readonly gpt: ChatGpt | null;
  readonly nodes: readonly ChatNode[];
  readonly currentId: string | null;
  readonly status: 'ready' | 'loading' | 'not-found' | 'error';
  /** The answer streaming into this page. */
  readonly streamingId: string | null;
  /** Why answers failed, by node id (kept for this visit only). */
  readonly errors: Readonly<Record<string, string>>;
  /** Names of the files the messages refer to, by id. */
  readonly files: Readonly<Record<string, FileInfo>>;
}

const EMPTY: ChatState = {
  chatId: null,
  temporary: false,
  model: null,
  gpt: null,
  nodes: [],
  currentId: null,
  status: 'ready',
  streamingId: null,
  errors: {},
  files: {},
};

/** What the person wrote: text, images to show the model, files for the built-in tools. */
export interface Draft {
  readonly text: string;
  readonly images: readonly string[];
  readonly attachments: readonly AttachmentRef[];
  /** Names of the files above, as uploaded. */
  readonly files: Readonly<Record<string, FileInfo>>;
}

export interface ChatController {
  readonly state: ChatState;
  readonly path: readonly ChatNode[];
  /** An answer is being written (here, or on another device): new questions wait. */
  readonly busy: boolean;
  send(draft: Draft, model: string): void;
  regenerate(answerId: string, model: string): void;
  edit(questionId: string, text: string, model: string): void;
  stop(): void;
  showSibling(nodeId: string, step: -1 | 1): void;
  setTemporary(temporary: boolean): void;
  /** The model the next answer in this chat uses (the model menu). */
  setModel(model: string): void;
  /** Goes on with a `pending` answer once its action calls were answered. */
  continuePending(answerId: string): void;
}

export function useChatController({
  chatId,
  gptId = null,
  newChatToken,
  historyOff,
  onError,
}: {
  /** From the route: null for a new chat. */
  chatId: string | null;
  /** A new chat is started with this GPT (`/g/<id>`). */
  gptId?: string | null;
  /** Changes when the person asks for a new chat (even while on one that is not saved yet). */
  newChatToken: number;
  /** The account's chat history is off: new chats are temporary. */
  historyOff: boolean;
  onError: (message: string) => void;
}): ChatController {
  const queryClient = useQueryClient();
  const [state, setState] = useState<ChatState>(EMPTY);
  // The latest state, for async work that outlives a render.
  const latest = useRef<ChatState>(EMPTY);
  /** Stops reading the answer streaming here (the server goes on writing it). */
  const abort = useRef<AbortController | null>(null);
  /** The answer streaming here, once the server named its chat; or a stop asked for before that. */
  const streaming = useRef<{ chatId: string | null; answerId: string; stopRequested: boolean } | null>(null);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;
  const historyOffRef = useRef(historyOff);
  historyOffRef.current = historyOff;
  const gptIdRef = useRef(gptId);
  gptIdRef.current = gptId;
  /** What is known of answers being written elsewhere, by node id (reads and live events). */
  const live = useRef(new Map<string, LiveAnswer>());
  /** A read to catch up with the words of an answer that were missed, if one is due. */
  const catchUp = useRef<ReturnType<typeof setTimeout> | null>(null);

  const update = useCallback((change: (state: ChatState) => ChatState) => {
    latest.current = change(latest.current);
    setState(latest.current);
  }, []);

  const refreshHistory = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: ['chats'] });
  }, [queryClient]);

  /**
   * Reads the chat again in a while, if by then an answer written elsewhere still waits for words
   * it missed (`read`: reads it).
   */
  const catchUpLater = useCallback((id: string, read: () => void) => {
    if (catchUp.current !== null) return;
    catchUp.current = setTimeout(() => {
      catchUp.current = null;
      if (latest.current.chatId === id && missesWords(latest.current, live.current)) read();
    }, CATCH_UP_DELAY_MS);
  }, []);

  /** Shows the chat as the server has it now (unless an answer streams here, or it moved on). */
  const reload = useCallback(
    (id: string) => {
      const read = () =>
        getChat(id).then(
          (record) => {
            const current = latest.current;
            if (current.chatId !== id || current.streamingId || current.status === 'not-found') return;
            update(() => ({
              ...current,
              status: 'ready',
              temporary: record.temporary,
              model: record.model,
              gpt: record.gpt,
              nodes: record.nodes.map((node) => withLiveText(node, live.current)),
              currentId: record.currentNodeId ?? record.nodes.at(-1)?.id ?? null,
              files: { ...current.files, ...record.files },
            }));
            // Saved before the first words heard were sent: once more, later.
            if (missesWords(latest.current, live.current)) catchUpLater(id, read);
          },
          (error: unknown) => {
            if (latest.current.chatId !== id) return;
            if (latest.current.status !== 'loading') {
              if (missesWords(latest.current, live.current)) catchUpLater(id, read);
              return;
            }
            update((current) => ({
              ...current,
              status: error instanceof ApiError && error.status === 404 ? 'not-found' : 'error',
            }));
          },
        );
      void read();
    },
    [update, catchUpLater],
  );

  // Open the chat the route names.
  useEffect(() => {
    if (chatId === latest.current.chatId) return;
    abort.current?.abort();
    streaming.current = null;
    if (chatId === null) {
      update(() => EMPTY);
      return;
    }
    update(() => ({ ...EMPTY, chatId, status: 'loading' }));
    reload(chatId);
  }, [chatId, update, reload]);

  /**
   * Shows more of an answer written elsewhere. Words that start past what is known (the page came
   * in the middle, or its stream dropped) wait for one read of the chat that reaches them.
   */
  const grow = useCallback(
    (event: { messageId: string; offset: number; text: string }) => {
      const state = latest.current;
      // Streaming into this page: its own stream shows it.
      if (!state.chatId || state.streamingId === event.messageId) return;
      const before = live.current.get(event.messageId) ?? NOTHING_KNOWN;
      const answer = withDelta(before, event);
      live.current.set(event.messageId, answer);
      if (answer.held.length > 0) {
        const id = state.chatId;
        catchUpLater(id, () => reload(id));
      }
      if (answer.text === before.text) return;
      update((current) => ({
        ...current,
        nodes: current.nodes.map((node) =>
          node.id === event.messageId && node.status === 'streaming' ? withText(node, answer.text) : node,
        ),
      }));
    },
    [update, reload, catchUpLater],
  );

  // Another tab or device changed the open chat (or an answer written elsewhere grew or ended).
  useEffect(
    () =>
      onChatEvent((event) => {
        const id = latest.current.chatId;
        if (!id || (event.type !== 'resync' && event.chatId !== id)) return;
        if (event.type === 'answer-delta') {
          grow(event);
          return;
        }
        if (event.type === 'deleted') {
          abort.current?.abort();
          update((current) =>
            current.chatId === id ? { ...EMPTY, chatId: id, status: 'not-found' } : current,
          );
          return;
        }
        if (event.type === 'updated' && event.changes.every((change) => change === 'title')) return;
        reload(id);
      }),
    [update, reload, grow],
  );

  // Texts of answers written elsewhere belong to the chat they were in.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new chat on screen is the signal.
  useEffect(() => {
    live.current.clear();
    if (catchUp.current !== null) clearTimeout(catchUp.current);
    catchUp.current = null;
  }, [state.chatId]);

  // "New chat": leaves whatever is on screen.
  const firstToken = useRef(newChatToken);
  useEffect(() => {
    if (newChatToken === firstToken.current) return;
    firstToken.current = newChatToken;
    abort.current?.abort();
    streaming.current = null;
    update(() => EMPTY);
  }, [newChatToken, update]);

  // Leaving the page stops reading the answer; the server finishes it and keeps it.
  useEffect(() => () => abort.current?.abort(), []);

  /**
   * Streams a new answer after `parentId`: to `question` (already in `nodes`, the tree to show),
   * or, without one, again to the question `parentId`; or, with `resume`, the rest of that
   * pending answer, into it.
   */
  const answer = useCallback(
    async ({
      nodes,
      question,
      parentId,
      model,
      resume = null,
    }: {
      nodes: readonly ChatNode[];
      question: Question | null;
      parentId: string;
      model: string;
      resume?: ChatNode | null;
    }) => {
      // A pending answer goes on after what it wrote before (the server's answer holds both).
      const earlier = resume ? resume.parts : [];
      const reply: ChatNode = resume
        ? { ...resume, status: 'streaming', error: null, pendingActions: undefined }
        : {
            id: newNodeId(),
            parentId,
            role: 'assistant',
            content: '',
            parts: [],
            attachments: [],
            model,
            status: 'streaming',
            error: null,
            createdAt: Math.floor(Date.now() / 1000),
          };
      update((state) => ({
        ...state,
        model,
        nodes: resume ? replaceNode(nodes, reply) : [...nodes, reply],
        currentId: reply.id,
        streamingId: reply.id,
      }));
      const controller = new AbortController();
      abort.current = controller;
      const chatId = latest.current.chatId;
      const here = { chatId, answerId: reply.id, stopRequested: false };
      streaming.current = here;

      let parts: readonly ContentPart[] = [];
      let frame: number | null = null;
      let finished = false;
      let firstShown: () => void = () => {};
      const shownOrEnded = new Promise<void>((resolve) => {
        firstShown = resolve;
      });
      const show = () => {
        frame = null;
        // A frame that fires after the end must not put the streaming node back.
        if (finished) return;
        const shown = [...earlier, ...parts];
        update((state) => ({
          ...state,
          nodes: replaceNode(state.nodes, { ...reply, parts: shown, content: textOf(shown) }),
        }));
      };
      const handlers: AnswerHandlers = {
        onTurn: (turn) => {
          here.chatId = turn.chat.id;
          if (here.stopRequested) void stopAnswer(turn.chat.id, reply.id).catch(() => {});
          if (chatId !== null) return;
          // A new chat exists now: the page follows (address, history) once the first words show.
          void shownOrEnded.then(() => {
            if (!latest.current.nodes.some((node) => node.id === reply.id)) return;
            update((state) => ({
              ...state,
              chatId: turn.chat.id,
              temporary: turn.chat.temporary,
              gpt: turn.chat.gpt,
            }));
            navigate(`/c/${turn.chat.id}`, { replace: true });
            refreshHistory();
          });
        },
        onParts: (next) => {
          const first = parts.length === 0;
          parts = next;
          if (first) {
            // The first words show at once, rendered right here rather than at React's next turn.
            flushSync(show);
            firstShown();
          } else {
            // After that, once per frame is as fast as anyone reads.
            frame ??= requestAnimationFrame(show);
          }
        },
      };
      const request = { answerId: reply.id, model, signal: controller.signal, handlers };
      let end: AnswerEnd;
      try {
        end = await (chatId === null
          ? startChat({
              ...request,
              title: titleFrom(question?.text || 'New chat'),
              temporary: latest.current.temporary || historyOffRef.current,
              gptId: gptIdRef.current,
              question: question!,
            })
          : resume
            ? continueAnswer({ ...request, chatId })
            : question
              ? ask({ ...request, chatId, question })
              : answerAgain({ ...request, chatId, questionId: parentId }));
      } catch (error) {
        end = {
          status: controller.signal.aborted ? 'stopped' : 'failed',
          parts,
          error: controller.signal.aborted ? null : messageOf(error),
        };
      }
      firstShown();
      finished = true;
      if (frame !== null) cancelAnimationFrame(frame);
      if (abort.current === controller) abort.current = null;
      if (streaming.current === here) streaming.current = null;
      // Left for another chat meanwhile: that one is on screen now.
      if (!latest.current.nodes.some((node) => node.id === reply.id)) return;
      const written = [...earlier, ...end.parts];
      update((state) => ({
        ...state,
        nodes: replaceNode(state.nodes, {
          ...reply,
          parts: written,
          content: textOf(written),
          status: end.status,
          error: end.error,
          pendingActions: end.pendingActions,
        }),
        streamingId: state.streamingId === reply.id ? null : state.streamingId,
        errors: end.error ? { ...state.errors, [reply.id]: end.error } : state.errors,
      }));
      refreshHistory();
    },
    [refreshHistory, update],
  );

  const send = useCallback(
    (draft: Draft, model: string) => {
      const state = latest.current;
      if (busyNow(state) || state.status !== 'ready') return;
      if (!draft.text.trim() && draft.images.length === 0) return;
      const question: Question = {
        id: newNodeId(),
        parentId: state.currentId,
        text: draft.text,
        images: draft.images,
        attachments: draft.attachments,
      };
      update((current) => ({ ...current, files: { ...current.files, ...draft.files } }));
      void answer({
        nodes: [...state.nodes, questionNode(question)],
        question,
        parentId: question.id,
        model,
      });
    },
    [answer, update],
  );

  const regenerate = useCallback(
    (answerId: string, model: string) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === answerId);
      if (busyNow(state) || !node?.parentId || state.chatId === null) return;
      void answer({ nodes: state.nodes, question: null, parentId: node.parentId, model });
    },
    [answer],
  );

  const edit = useCallback(
    (questionId: string, text: string, model: string) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === questionId);
      if (busyNow(state) || !node || !text.trim()) return;
      // The edited question is a new branch beside the old one, which stays reachable; its
      // images and files go with it.
      const question: Question = {
        id: newNodeId(),
        parentId: node.parentId,
        text,
        images: node.parts.flatMap((part) => (part.type === 'image_file' ? [part.fileId] : [])),
        attachments: node.attachments,
      };
      void answer({
        nodes: [...state.nodes, questionNode(question)],
        question,
        parentId: question.id,
        model,
      });
    },
    [answer],
  );

  const stop = useCallback(() => {
    const here = streaming.current;
    if (here) {
      // The run stops on the server; its stream then ends here with what it wrote.
      if (here.chatId) void stopAnswer(here.chatId, here.answerId).catch(() => {});
      else here.stopRequested = true;
      return;
    }
    // An answer being written from another device.
    const state = latest.current;
    const writing = pathTo(state.nodes, state.currentId).find((node) => node.status === 'streaming');
    if (state.chatId && writing) {
      void stopAnswer(state.chatId, writing.id).catch((error: unknown) =>
        onErrorRef.current(messageOf(error)),
      );
    }
  }, []);

  const showSibling = useCallback(
    (nodeId: string, step: -1 | 1) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === nodeId);
      if (state.streamingId || !node) return;
      const siblings = siblingsOf(state.nodes, node);
      const target = siblings[siblings.findIndex((sibling) => sibling.id === nodeId) + step];
      if (!target) return;
      const leaf = newestLeaf(state.nodes, target.id);
      update((current) => ({ ...current, currentId: leaf }));
      if (state.chatId) {
        showBranch(state.chatId, leaf).catch((error: unknown) => onErrorRef.current(messageOf(error)));
      }
    },
    [update],
  );

  const setTemporary = useCallback(
    (temporary: boolean) => {
      if (latest.current.chatId === null && latest.current.nodes.length === 0) {
        update((state) => ({ ...state, temporary }));
      }
    },
    [update],
  );

  const setModel = useCallback((model: string) => update((state) => ({ ...state, model })), [update]);

  const continuePending = useCallback(
    (answerId: string) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === answerId);
      if (busyNow(state) || node?.status !== 'pending' || !node.parentId || state.chatId === null) return;
      void answer({
        nodes: state.nodes,
        question: null,
        parentId: node.parentId,
        model: node.model ?? state.model ?? '',
        resume: node,
      });
    },
    [answer],
  );

  return {
    state,
    path: pathTo(state.nodes, state.currentId),
    setModel,
    continuePending,
    busy: busyNow(state),
    send,
    regenerate,
    edit,
    stop,
    showSibling,
    setTemporary,
  };
}

/** An answer is being written: here, or (a node still streaming) on another device. */
function busyNow(state: ChatState): boolean {
  return (
    state.streamingId !== null ||
    pathTo(state.nodes, state.currentId).some((node) => node.status === 'streaming')
  );
}

/**
 * Between missing words of an answer and reading the chat again. The server saves an answer's
 * text about every second: a read this long after the first words heard has the ones before.
 */
const CATCH_UP_DELAY_MS = 1200;

function withText(node: ChatNode, text: string): ChatNode {
  return { ...node, content: text, parts: [{ type: 'text', text, annotations: [] }] };
}

/**
 * An answer still being written, as read from the server, with what the live events told of it
 * beyond that (the server saves its text about every second).
 */
function withLiveText(node: ChatNode, live: Map<string, LiveAnswer>): ChatNode {
  if (node.status !== 'streaming') {
    live.delete(node.id);
    return node;
  }
  const answer = withSaved(live.get(node.id) ?? NOTHING_KNOWN, node.content);
  live.set(node.id, answer);
  return answer.text === node.content ? node : withText(node, answer.text);
}

/** Some answer being written elsewhere has words that wait for ones this page missed. */
function missesWords(state: ChatState, live: Map<string, LiveAnswer>): boolean {
  return state.nodes.some((node) => node.status === 'streaming' && (live.get(node.id)?.held.length ?? 0) > 0);
}

function questionNode(question: Question): ChatNode {
  return {
    id: question.id,
    parentId: question.parentId,
    role: 'user',
    content: question.text,
    parts: [
      ...(question.text.trim() ? [{ type: 'text' as const, text: question.text, annotations: [] }] : []),
      ...question.images.map((fileId) => ({ type: 'image_file' as const, fileId })),
    ],
    attachments: question.attachments,
    model: null,
    status: 'complete',
    error: null,
    createdAt: Math.floor(Date.now() / 1000),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
