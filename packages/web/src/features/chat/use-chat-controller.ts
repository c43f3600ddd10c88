// The open chat: its message tree, the answer being streamed, and what the person can do
// (send, stop, regenerate, edit, switch between versions). Answers stream from the server while
// the chat is saved beside them: a new chat is created as the first answer starts, so the
// first token is not kept waiting, and the tree is saved again when an answer ends.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { ApiError } from '../../api/http';
import { navigate } from '../../router';
import { type ChatNode, createChat, getChat, saveChat, streamReply } from './chat-api';
import {
  type CustomInstructions,
  newestLeaf,
  newNodeId,
  pathTo,
  promptFor,
  replaceNode,
  siblingsOf,
  titleFrom,
} from './chat-tree';

export interface ChatState {
  /** The server's id; null until a new chat's first message created it. */
  readonly chatId: string | null;
  readonly temporary: boolean;
  readonly model: string | null;
  readonly nodes: readonly ChatNode[];
  readonly currentId: string | null;
  readonly status: 'ready' | 'loading' | 'not-found' | 'error';
  readonly streamingId: string | null;
  /** Why answers failed, by node id (kept for this visit only). */
  readonly errors: Readonly<Record<string, string>>;
}

const EMPTY: ChatState = {
  chatId: null,
  temporary: false,
  model: null,
  nodes: [],
  currentId: null,
  status: 'ready',
  streamingId: null,
  errors: {},
};

export interface ChatController {
  readonly state: ChatState;
  readonly path: readonly ChatNode[];
  send(text: string, model: string): void;
  regenerate(answerId: string, model: string): void;
  edit(questionId: string, text: string, model: string): void;
  stop(): void;
  showSibling(nodeId: string, step: -1 | 1): void;
  setTemporary(temporary: boolean): void;
}

export function useChatController({
  chatId,
  newChatToken,
  instructions,
  onError,
}: {
  /** From the route: null for a new chat. */
  chatId: string | null;
  /** Changes when the person asks for a new chat (even while on one that is not saved yet). */
  newChatToken: number;
  instructions: CustomInstructions | null;
  onError: (message: string) => void;
}): ChatController {
  const queryClient = useQueryClient();
  const [state, setState] = useState<ChatState>(EMPTY);
  // The latest state, for async work that outlives a render.
  const latest = useRef<ChatState>(EMPTY);
  const abort = useRef<AbortController | null>(null);
  const creating = useRef<Promise<string | null> | null>(null);
  const saving = useRef<Promise<void>>(Promise.resolve());
  const instructionsRef = useRef(instructions);
  instructionsRef.current = instructions;
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  const update = useCallback((change: (state: ChatState) => ChatState) => {
    latest.current = change(latest.current);
    setState(latest.current);
  }, []);

  const refreshHistory = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: ['chats'] });
  }, [queryClient]);

  /** Saves the whole tree after any earlier save, once the chat exists on the server. */
  const persist = useCallback(
    ({ refresh = true }: { refresh?: boolean } = {}) => {
      saving.current = saving.current.then(async () => {
        const id = latest.current.chatId ?? (await creating.current);
        if (!id || latest.current.chatId !== id) return;
        const { nodes, currentId, model } = latest.current;
        try {
          await saveChat(id, { nodes, currentNodeId: currentId, model });
          if (refresh) refreshHistory();
        } catch (error) {
          onErrorRef.current(messageOf(error));
        }
      });
    },
    [refreshHistory],
  );

  // Open the chat the route names.
  useEffect(() => {
    if (chatId === latest.current.chatId) return;
    abort.current?.abort();
    creating.current = null;
    if (chatId === null) {
      update(() => EMPTY);
      return;
    }
    update(() => ({ ...EMPTY, chatId, status: 'loading' }));
    // Whether the answer is still wanted is read when it arrives (the person may have moved on),
    // not from this effect's cleanup, which React also runs when it merely re-runs the effect.
    const stillWanted = () => latest.current.chatId === chatId && latest.current.status === 'loading';
    getChat(chatId).then(
      (record) => {
        if (!stillWanted()) return;
        update(() => ({
          ...EMPTY,
          chatId: record.id,
          temporary: record.temporary,
          model: record.model,
          nodes: record.nodes,
          currentId: record.currentNodeId ?? record.nodes.at(-1)?.id ?? null,
        }));
      },
      (error: unknown) => {
        if (!stillWanted()) return;
        update((state) => ({
          ...state,
          status: error instanceof ApiError && error.status === 404 ? 'not-found' : 'error',
        }));
      },
    );
  }, [chatId, update]);

  // "New chat": leaves whatever is on screen, saved or not.
  const firstToken = useRef(newChatToken);
  useEffect(() => {
    if (newChatToken === firstToken.current) return;
    firstToken.current = newChatToken;
    abort.current?.abort();
    creating.current = null;
    update(() => EMPTY);
  }, [newChatToken, update]);

  // Leaving the page mid-answer stops it (the request closes and the server stops generating).
  useEffect(() => () => abort.current?.abort(), []);

  /** Streams an answer to `questionId`, which `nodes` (the tree to show) already contains. */
  const answer = useCallback(
    async ({
      nodes,
      questionId,
      model,
    }: {
      nodes: readonly ChatNode[];
      questionId: string;
      model: string;
    }) => {
      const reply: ChatNode = {
        id: newNodeId(),
        parentId: questionId,
        role: 'assistant',
        content: '',
        model,
        status: 'streaming',
        createdAt: Math.floor(Date.now() / 1000),
      };
      const question = pathTo(nodes, questionId);
      update((state) => ({
        ...state,
        model,
        nodes: [...nodes, reply],
        currentId: reply.id,
        streamingId: reply.id,
      }));
      const controller = new AbortController();
      abort.current = controller;

      let content = '';
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
        update((state) => ({ ...state, nodes: replaceNode(state.nodes, { ...reply, content }) }));
      };
      // The answer's request goes first: nothing else stands between Enter and the first words.
      const streamed = streamReply({
        model,
        messages: promptFor(question, instructionsRef.current),
        signal: controller.signal,
        onDelta: (delta) => {
          const first = content === '';
          content += delta;
          if (first) {
            // The first words show at once, rendered right here rather than at React's next turn.
            flushSync(show);
            firstShown();
          } else {
            // After that, once per frame is as fast as anyone reads.
            frame ??= requestAnimationFrame(show);
          }
        },
      });

      if (latest.current.chatId === null && !creating.current) {
        // A new chat: create it now, beside the stream, with the question already in it. The
        // page follows (address, history list) once the first words are on screen.
        const first = question[0];
        creating.current = createChat({
          title: titleFrom(first?.content ?? ''),
          temporary: latest.current.temporary,
          model,
          nodes,
          currentNodeId: questionId,
        }).then(
          async (record) => {
            await shownOrEnded;
            // Someone started another chat meanwhile: this one is saved, but no longer on screen.
            if (!latest.current.nodes.some((node) => node.id === reply.id)) return record.id;
            update((state) => ({ ...state, chatId: record.id }));
            navigate(`/c/${record.id}`, { replace: true });
            refreshHistory();
            return record.id;
          },
          (error: unknown) => {
            onErrorRef.current(messageOf(error));
            return null;
          },
        );
      } else {
        // The question is saved before the answer arrives: closing the tab keeps it. The history
        // list catches up when the answer is saved.
        persist({ refresh: false });
      }

      let status: ChatNode['status'] = 'complete';
      let failure: string | null = null;
      try {
        await streamed;
      } catch (error) {
        if (controller.signal.aborted) status = 'stopped';
        else {
          status = 'failed';
          failure = messageOf(error);
        }
      }
      firstShown();
      finished = true;
      if (frame !== null) cancelAnimationFrame(frame);
      if (abort.current === controller) abort.current = null;
      update((state) => ({
        ...state,
        nodes: replaceNode(state.nodes, { ...reply, content, status }),
        streamingId: state.streamingId === reply.id ? null : state.streamingId,
        errors: failure ? { ...state.errors, [reply.id]: failure } : state.errors,
      }));
      persist();
    },
    [persist, refreshHistory, update],
  );

  const send = useCallback(
    (text: string, model: string) => {
      const state = latest.current;
      if (state.streamingId || state.status !== 'ready' || !text.trim()) return;
      const question: ChatNode = {
        id: newNodeId(),
        parentId: state.currentId,
        role: 'user',
        content: text,
        model: null,
        status: 'complete',
        createdAt: Math.floor(Date.now() / 1000),
      };
      void answer({ nodes: [...state.nodes, question], questionId: question.id, model });
    },
    [answer],
  );

  const regenerate = useCallback(
    (answerId: string, model: string) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === answerId);
      if (state.streamingId || !node?.parentId) return;
      void answer({ nodes: state.nodes, questionId: node.parentId, model });
    },
    [answer],
  );

  const edit = useCallback(
    (questionId: string, text: string, model: string) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === questionId);
      if (state.streamingId || !node || !text.trim()) return;
      // The edited question is a new branch beside the old one, which stays reachable.
      const question: ChatNode = {
        ...node,
        id: newNodeId(),
        content: text,
        createdAt: Math.floor(Date.now() / 1000),
      };
      void answer({ nodes: [...state.nodes, question], questionId: question.id, model });
    },
    [answer],
  );

  const stop = useCallback(() => abort.current?.abort(), []);

  const showSibling = useCallback(
    (nodeId: string, step: -1 | 1) => {
      const state = latest.current;
      const node = state.nodes.find((candidate) => candidate.id === nodeId);
      if (state.streamingId || !node) return;
      const siblings = siblingsOf(state.nodes, node);
      const target = siblings[siblings.findIndex((sibling) => sibling.id === nodeId) + step];
      if (!target) return;
      update((current) => ({ ...current, currentId: newestLeaf(current.nodes, target.id) }));
      persist();
    },
    [persist, update],
  );

  const setTemporary = useCallback(
    (temporary: boolean) => {
      if (latest.current.chatId === null && latest.current.nodes.length === 0) {
        update((state) => ({ ...state, temporary }));
      }
    },
    [update],
  );

  return {
    state,
    path: pathTo(state.nodes, state.currentId),
    send,
    regenerate,
    edit,
    stop,
    showSibling,
    setTemporary,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
