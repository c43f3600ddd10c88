// Web chats: each person's chats, their titles and message trees, answered by the run engine. A
// chat is backed by Assistants threads in the person's workspace and each answer is a run, so
// the web app gets everything the engine does (file_search, code_interpreter, long threads). A
// chat is a tree (regenerate and edit keep both versions), a thread is a line: each branch is
// written to a thread, and a branch that leaves a thread's end starts a new thread with a copy
// of the conversation so far (docs/decisions/2026-11-25-web-chat-on-runs.md).
//
// A chat may talk to a GPT (`gptId`): its runs name the GPT as their assistant (its instructions,
// knowledge, capabilities and actions, platform/gpts-runs.ts), for whoever may chat with it now;
// the chat is recorded as a conversation with the GPT under its builder's training choice. An
// answer whose run stopped at an action call awaiting the person's answer is `pending` until the
// page answers and continues it (a new run on the same thread makes the answered calls first).
//
// A chat someone else owns reads as missing. Temporary chats (one chat, or every new chat while
// the account's "chat history & training" is off) are never listed, never used for training,
// and are deleted with their threads 30 days after they were created.

import { gptModelName } from '@atelier/protocol';
import type { ModelLookup } from '../engine/assistant-checks.js';
import type { EventBus } from '../engine/event-bus.js';
import type { NewMessage, RunEngine, RunOptions, RunStart } from '../engine/run-engine.js';
import { type RunEventSubscription, STREAM_END_STATUSES, teeRunEvents } from '../engine/run-events.js';
import { isTerminal } from '../engine/run-state.js';
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
} from '../errors.js';
import type { AssistantTool, Attachment, MessageContent } from '../storage/assistants-domain.js';
import type { AccountPreferences } from '../storage/repositories/account-preferences-repository.js';
import type { Chat, ChatMessage, ChatSummary, ChatUpdate } from '../storage/repositories/chats-repository.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { AccountEvent, AccountEvents, ChatChange } from './account-events.js';
import type { GptChatTarget, GptSeen, GptsService } from './gpts-service.js';

/** What the server can do for chats beyond answering: the built-in tools it has. */
export interface ChatCapabilities {
  readonly fileSearch: boolean;
  readonly codeInterpreter: boolean;
}

/** A question as the person wrote it: text and images, and files for the built-in tools. */
export interface Question {
  /** The page's id for the new message (unique in the chat). */
  readonly id: string;
  /** The message it follows: the current answer, or an edited question's parent (a new branch). */
  readonly parentId: string | null;
  readonly content: readonly MessageContent[];
  readonly attachments: readonly Attachment[];
}

/** An answer under way: the messages now in the chat, and the run writing the answer. */
export interface ChatTurn {
  readonly chat: WithGpt<Chat>;
  readonly question: ChatMessage | null;
  readonly answer: ChatMessage;
  readonly runId: string;
  /** With `stream`: the run's events from `thread.run.created` on. Close it when done reading. */
  readonly events: RunEventSubscription | undefined;
}

export interface FileFacts {
  readonly filename: string;
  readonly bytes: number;
  readonly purpose: string;
}

type Origin = { origin?: string | null | undefined };

/** What chats need of GPTs: who may chat with one, its face, and recording a conversation. */
export type ChatGpts = Pick<GptsService, 'viewer' | 'get' | 'chatTarget' | 'recordConversation'>;

/** A GPT as its chats show it: the face the person may see now. */
export interface ChatGptFace {
  readonly id: string;
  /** null: the person may no longer see the GPT (deleted, or no longer shared with them). */
  readonly name: string | null;
  readonly avatarFileId: string | null;
  /** Whether the person may chat with it now: answers in its chats need that. */
  readonly available: boolean;
}

/** A chat (or its summary) with its GPT's face; null for a plain chat. */
export type WithGpt<T> = T & { readonly gpt: ChatGptFace | null };

export interface ChatsService {
  readonly capabilities: ChatCapabilities;
  list(params: {
    accountId: string;
    limit: number;
    after?: string | undefined;
    search?: string | undefined;
  }): Promise<{ readonly data: readonly WithGpt<ChatSummary>[]; readonly hasMore: boolean }>;
  /**
   * The chat as it is now: answers whose run ended meanwhile are brought up to date, answers
   * being written have their text so far.
   */
  get(accountId: string, chatId: string): Promise<WithGpt<Chat>>;
  create(
    params: {
      accountId: string;
      /** The session's workspace: where a chat with a GPT is recorded as its conversation. */
      workspaceId?: string | undefined;
      /** A chat with this GPT (`g-…`), for whoever may chat with it (else a 404). */
      gptId?: string | null | undefined;
      title?: string | undefined;
      temporary?: boolean | undefined;
      model?: string | null | undefined;
      /** Plain-text messages to start with (an imported conversation). */
      messages?: readonly ChatMessage[] | undefined;
      currentNodeId?: string | null | undefined;
    } & Origin,
  ): Promise<WithGpt<Chat>>;
  /** Title, model, or the branch on screen (`currentNodeId`). */
  update(
    accountId: string,
    chatId: string,
    changes: Pick<ChatUpdate, 'title' | 'model' | 'currentNodeId'>,
    options?: Origin,
  ): Promise<WithGpt<Chat>>;
  /** Deletes the chat with its threads. */
  delete(accountId: string, chatId: string, options?: Origin): Promise<void>;
  /**
   * Adds a question and starts its answer (`answerId`) with `model` (a chat with a GPT: the GPT's,
   * `model` may be left out or be its `gpt-<id>`).
   */
  ask(
    params: {
      accountId: string;
      /** Where a chat without threads yet gets them: the session's workspace. */
      workspaceId: string;
      chatId: string;
      question: Question;
      answerId: string;
      model?: string | undefined;
      stream: boolean;
    } & Origin,
  ): Promise<ChatTurn>;
  /** Another answer (`answerId`) to the question `questionId`, beside those it has. */
  answerAgain(
    params: {
      accountId: string;
      workspaceId: string;
      chatId: string;
      questionId: string;
      answerId: string;
      model?: string | undefined;
      stream: boolean;
    } & Origin,
  ): Promise<ChatTurn>;
  /**
   * Goes on with a `pending` answer once the person answered its held action calls: a new run on
   * its thread makes the calls they allowed (or tells the model of those they declined) and
   * writes the answer into the same message.
   */
  continueAnswer(
    params: {
      accountId: string;
      chatId: string;
      answerId: string;
      stream: boolean;
    } & Origin,
  ): Promise<ChatTurn>;
  /** Stops an answer being written; what it wrote so far is kept. */
  stop(params: { accountId: string; chatId: string; answerId: string }): Promise<ChatMessage>;
  /** Names and sizes of the files the chat's messages refer to (attachments, images, citations). */
  files(chat: Chat): Promise<ReadonlyMap<string, FileFacts>>;
  /** Deletes temporary chats created longer ago than the retention, with their threads. */
  deleteExpiredTemporary(): Promise<number>;
  /**
   * What chats may teach a model, in OpenAI's fine-tuning format (one example per chat: the branch
   * on screen, complete answers only), of chats changed at or after `since` (Unix seconds). The
   * only way chats leave for training: temporary chats, the chats of people who turned "chat
   * history & training" off, and conversations with a GPT whose builder does not allow training
   * are never in it.
   */
  trainingExamples(options?: { since?: number | undefined }): AsyncIterable<TrainingExample>;
}

export interface TrainingExample {
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly content: string }[];
}

/** What answering needs: the run engine, its bus, the models and the built-in tools. */
export interface ChatRuns {
  readonly engine: RunEngine;
  readonly bus: EventBus;
  readonly models: ModelLookup;
  readonly capabilities: ChatCapabilities;
}

export const TEMPORARY_CHAT_RETENTION_SECONDS = 30 * 24 * 60 * 60;
export const CHAT_TITLE_MAX_LENGTH = 200;
export const CHAT_MAX_MESSAGES = 10_000;
/** All messages of one chat together, in characters. */
export const CHAT_MAX_CONTENT_LENGTH = 8_000_000;
const DEFAULT_TITLE = 'New chat';
const SWEEP_PAGE = 100;
const TRAINING_PAGE = 100;
/** Messages one run may write that an answer shows (a run writes one or a few). */
const ANSWER_MESSAGES = 100;
/** How long an answer's new words gather before the other pages are told of them (ms). */
const DELTA_INTERVAL_MS = 50;

export function createChatsService({
  repositories,
  events = undefined,
  runs = undefined,
  gpts = undefined,
  now = () => Math.floor(Date.now() / 1000),
}: {
  repositories: Repositories;
  /** Where the person's other tabs and devices hear of changes; none: they are not told. */
  events?: AccountEvents | undefined;
  /** None: chats are kept, but not answered (history, sweeps and exports still work). */
  runs?: ChatRuns | undefined;
  /** None: chats cannot be started with a GPT. */
  gpts?: ChatGpts | undefined;
  now?: () => number;
}): ChatsService {
  const notFound = (chatId: string) =>
    new NotFoundError(`No chat with id '${chatId}'.`, { param: 'chat_id' });
  /**
   * Not awaited: the change is stored, and a bus that is down (Redis reconnecting) must not hold
   * the request. Pages fetch again when their event stream reconnects.
   */
  const announce = (accountId: string, event: AccountEvent) => {
    events?.publish(accountId, event).catch(() => {});
  };
  const changed = (accountId: string, chat: Chat, changes: readonly ChatChange[], origin: string | null) =>
    announce(accountId, { type: 'chat.updated', chat: summaryOf(chat), changes, origin });

  const capabilities = runs?.capabilities ?? { fileSearch: false, codeInterpreter: false };

  async function find(accountId: string, chatId: string): Promise<Chat> {
    const chat = await repositories.chats.find(accountId, chatId);
    if (!chat) throw notFound(chatId);
    return chat;
  }

  /** The GPT as this person may chat with it now (null: they may not, or it is gone). */
  async function gptTarget(accountId: string, workspaceId: string | null, gptId: string) {
    if (!gpts) return null;
    const viewer = await gpts.viewer({ accountId, workspaceId });
    return gpts.chatTarget({ viewer, gptId, draft: false });
  }

  /** The faces of these GPTs as the person may see them now. */
  async function facesOf(accountId: string, gptIds: readonly string[]): Promise<Map<string, ChatGptFace>> {
    const faces = new Map<string, ChatGptFace>();
    const unique = [...new Set(gptIds)];
    if (unique.length === 0) return faces;
    const viewer = gpts ? await gpts.viewer({ accountId, workspaceId: null }) : null;
    for (const id of unique) {
      let face: ChatGptFace = { id, name: null, avatarFileId: null, available: false };
      try {
        if (gpts && viewer) face = faceOf(await gpts.get({ viewer, gptId: id }));
      } catch (error) {
        // One they may no longer see: the chat stays, without the GPT's face.
        if (!(error instanceof NotFoundError)) throw error;
      }
      faces.set(id, face);
    }
    return faces;
  }

  async function withGpt<T extends ChatSummary>(accountId: string, chat: T): Promise<WithGpt<T>> {
    if (!chat.gptId) return { ...chat, gpt: null };
    const faces = await facesOf(accountId, [chat.gptId]);
    return { ...chat, gpt: faces.get(chat.gptId) ?? null };
  }

  /**
   * Writes into the answer what its run wrote, once the run is over, after what the answer held
   * before the run (a continued answer's earlier words).
   */
  async function settle(accountId: string, chatId: string, answerId: string): Promise<Chat | null> {
    const chat = await repositories.chats.find(accountId, chatId);
    const answer = chat?.messages.find((message) => message.id === answerId);
    if (!chat || answer?.status !== 'in_progress') return chat;
    const run = answer.runId ? await repositories.runs.findById(answer.runId) : null;
    if (run && !isTerminal(run.status)) return chat;
    const outcome = run ? await outcomeOf(run) : LOST;
    let wrote = false;
    const settled = await repositories.chats.modify(accountId, chatId, (current) => {
      const node = current.messages.find((message) => message.id === answerId);
      if (node?.status !== 'in_progress') return null;
      wrote = true;
      const parts = [...earlierPartsOf(node), ...outcome.parts];
      return {
        messages: current.messages.map((message) =>
          message.id === answerId ? { ...message, ...outcome, parts, content: textOf(parts) } : message,
        ),
      };
    });
    if (settled && wrote) changed(accountId, settled, ['messages'], null);
    return settled;
  }

  /** Brings every answer left in progress up to date (a restart may have missed their end). */
  async function settleAll(accountId: string, chat: Chat): Promise<Chat> {
    let current = chat;
    for (const message of chat.messages) {
      if (message.status === 'in_progress') {
        current = (await settle(accountId, chat.id, message.id)) ?? current;
      }
    }
    return current;
  }

  /** How the run ended, with what it wrote. */
  async function outcomeOf(run: Run): Promise<Outcome> {
    const written = await repositories.messages.list({
      workspaceId: run.workspaceId,
      threadId: run.threadId,
      runId: run.id,
      limit: ANSWER_MESSAGES,
      order: 'asc',
    });
    const parts = written.data.flatMap((message) => message.content);
    const content = textOf(parts);
    switch (run.status) {
      case 'incomplete':
        // Stopped at a GPT's action call that waits for the person: the page asks, then continues.
        if (run.pendingActions.length > 0) {
          return { content, parts, status: 'pending', error: null, pendingActions: run.pendingActions };
        }
        return { content, parts, status: 'complete', error: null };
      case 'completed':
        return { content, parts, status: 'complete', error: null };
      case 'cancelled':
        return { content, parts, status: 'stopped', error: null };
      default:
        return {
          content,
          parts,
          status: 'failed',
          error: run.lastError?.message ?? `The answer ${run.status === 'expired' ? 'expired' : 'failed'}.`,
        };
    }
  }

  /**
   * Follows a run (its events from `created` on) until it ends: the other pages are told of the
   * answer's text as it grows, at most every DELTA_INTERVAL_MS; then the answer is written into
   * the chat and they are told of that.
   */
  async function watch({
    accountId,
    chatId,
    answerId,
    earlier,
    events: subscription,
    origin,
  }: {
    accountId: string;
    chatId: string;
    answerId: string;
    /** The answer's text before this run (a continued answer's): the offsets count after it. */
    earlier: string;
    events: RunEventSubscription;
    origin: string | null;
  }) {
    let pending = '';
    let offset = earlier.length;
    let lastMessageId: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (!pending) return;
      announce(accountId, {
        type: 'chat.answer.delta',
        chatId,
        messageId: answerId,
        offset,
        text: pending,
        origin,
      });
      offset += pending.length;
      pending = '';
    };
    try {
      for await (const event of subscription) {
        if (event.type === 'message-delta' && event.content.type === 'text' && event.content.value) {
          // A run's messages read as one answer, a paragraph apart (as the chat shows them), and
          // apart from the earlier words of a continued answer.
          if (lastMessageId !== event.messageId && offset + pending.length > 0) pending += '\n\n';
          lastMessageId = event.messageId;
          pending += event.content.value;
          timer ??= setTimeout(flush, DELTA_INTERVAL_MS);
        }
        if (
          event.type === 'run' &&
          event.event !== 'created' &&
          STREAM_END_STATUSES.includes(event.run.status)
        )
          break;
      }
    } finally {
      flush();
      subscription.close();
    }
    await settle(accountId, chatId, answerId);
  }

  /**
   * Answers still being written, with what their runs wrote so far (saved every second or so)
   * after what they held before (a continued answer's earlier words).
   */
  async function withPartialAnswers(chat: Chat): Promise<Chat> {
    const writing = chat.messages.filter((message) => message.status === 'in_progress' && message.runId);
    if (writing.length === 0) return chat;
    const partial = new Map<string, Pick<ChatMessage, 'content' | 'parts'>>();
    for (const message of writing) {
      const run = await repositories.runs.findById(message.runId!);
      if (!run) continue;
      const written = await repositories.messages.list({
        workspaceId: run.workspaceId,
        threadId: run.threadId,
        runId: run.id,
        limit: ANSWER_MESSAGES,
        order: 'asc',
      });
      const parts = written.data.flatMap((part) => part.content);
      // Not trimmed: the text the other pages' `chat.answer.delta` offsets count in (see watch).
      const content = [message.content, ...parts.map((part) => (part.type === 'text' ? part.text : ''))]
        .filter((text) => text !== '')
        .join('\n\n');
      partial.set(message.id, { content, parts: [...earlierPartsOf(message), ...parts] });
    }
    return {
      ...chat,
      messages: chat.messages.map((message) => {
        const known = partial.get(message.id);
        return known ? { ...message, ...known } : message;
      }),
    };
  }

  /** The assistant a chat's runs use: the chat's own, else its workspace's one for plain chats. */
  async function assistantFor(chat: Chat, workspaceId: string, model: string): Promise<string> {
    if (chat.assistantId && (await repositories.assistants.find(workspaceId, chat.assistantId))) {
      return chat.assistantId;
    }
    const remembered = await repositories.chats.findDefaultAssistant(workspaceId);
    if (remembered && (await repositories.assistants.find(workspaceId, remembered))) return remembered;
    const created = await repositories.assistants.create({
      workspaceId,
      name: 'Atelier chat',
      description: 'Answers the web app’s chats; the model and the tools are chosen with each answer.',
      model,
      instructions: null,
      tools: [],
      toolResources: {},
      metadata: { atelier: 'web-chat' },
      temperature: null,
      topP: null,
      responseFormat: 'auto',
    });
    if (remembered) {
      // Someone deleted it through the API: this one takes its place.
      await repositories.chats.replaceDefaultAssistant(workspaceId, created.id);
      return created.id;
    }
    const kept = await repositories.chats.saveDefaultAssistant(workspaceId, created.id);
    // Another request made one at the same moment and was remembered first.
    if (kept !== created.id) await repositories.assistants.delete(workspaceId, created.id);
    return kept;
  }

  /**
   * The built-in tools of an answer: those the server has, when the model can call tools;
   * file_search only once the branch has files to search (without any it could only waste the
   * model's time, and every tool described costs prompt tokens).
   */
  function toolsFor(model: string, { searchable }: { searchable: boolean }): AssistantTool[] {
    if (!runs?.models.find(model)?.capabilities.tools) return [];
    const tools: AssistantTool[] = [];
    if (capabilities.fileSearch && searchable) tools.push({ type: 'file_search' });
    if (capabilities.codeInterpreter) tools.push({ type: 'code_interpreter' });
    return tools;
  }

  /** The conversation so far as messages for a new thread (files deleted meanwhile left out). */
  async function copiesOf(workspaceId: string, path: readonly ChatMessage[]): Promise<NewMessage[]> {
    const fileIds = new Set(path.flatMap(fileIdsOf));
    const existing = new Set(
      fileIds.size === 0
        ? []
        : (await repositories.files.findMany(workspaceId, [...fileIds])).map((file) => file.id),
    );
    const copies: NewMessage[] = [];
    for (const message of path) {
      const content = contentOf(message).filter(
        (part) => part.type !== 'image_file' || existing.has(part.fileId),
      );
      // A failed answer that wrote nothing is not part of what the model should read.
      if (!content.some((part) => part.type !== 'text' || part.text.trim() !== '')) continue;
      copies.push({
        role: message.role,
        content,
        attachments: (message.attachments ?? []).filter((attachment) => existing.has(attachment.fileId)),
        metadata: {},
      });
    }
    return copies;
  }

  /**
   * What a chat's next run is made with: a plain chat's workspace assistant with the model asked
   * for, its built-in tools and the person's custom instructions; a chat with a GPT, the GPT (its
   * model, instructions and tools; custom instructions are not the GPT's, as in ChatGPT), for
   * whoever may still chat with it.
   */
  async function runSetup({
    chat,
    accountId,
    workspaceId,
    model,
    searchable,
    attachments,
  }: {
    chat: Chat;
    accountId: string;
    workspaceId: string;
    model: string | undefined;
    searchable: boolean;
    attachments: readonly Attachment[];
  }): Promise<{ assistantId: string; model: string; options: RunOptions; face: ChatGptFace | null }> {
    const metadata = { atelier_chat_id: chat.id };
    if (chat.gptId) {
      const name = gptModelName(chat.gptId);
      if (model !== undefined && model !== name) {
        throw new InvalidRequestError(`This chat talks to a GPT: its answers come from '${name}'.`, {
          param: 'model',
        });
      }
      const target = await gptTarget(accountId, workspaceId, chat.gptId);
      if (!target) throw gptUnavailable();
      const tools = target.config.tools;
      checkGptTools(attachments, tools);
      // The chat's own files are searched beside the GPT's knowledge.
      const addSearch =
        searchable && capabilities.fileSearch && !tools.some((tool) => tool.type === 'file_search');
      return {
        assistantId: chat.gptId,
        model: name,
        options: { metadata, ...(addSearch ? { tools: [...tools, { type: 'file_search' }] } : {}) },
        face: faceOfTarget(target),
      };
    }
    if (model === undefined) {
      throw new InvalidRequestError("Missing required parameter: 'model'.", { param: 'model' });
    }
    const assistantId = await assistantFor(chat, workspaceId, model);
    const instructions = customInstructions(await repositories.accountPreferences.get(accountId));
    return {
      assistantId,
      model,
      options: {
        model,
        tools: toolsFor(model, { searchable }),
        metadata,
        ...(instructions ? { instructions } : {}),
      },
      face: null,
    };
  }

  /** Writes the answer's new messages into the chat (or cancels the run), and follows the run. */
  async function record({
    accountId,
    chatId,
    started,
    stream,
    origin,
    change,
    question,
    answer,
    face,
  }: {
    accountId: string;
    chatId: string;
    started: RunStart;
    stream: boolean;
    origin: string | null;
    /** What to write, from the chat as it is now. */
    change: (current: Chat) => ChatUpdate;
    question: ChatMessage | null;
    answer: ChatMessage;
    face: ChatGptFace | null;
  }): Promise<ChatTurn> {
    const [followed, shown] = teeRunEvents(started.events!);
    if (!stream) shown.close();
    let recorded: Chat | null;
    try {
      recorded = await repositories.chats.modify(accountId, chatId, change);
      if (!recorded) throw notFound(chatId);
    } catch (error) {
      // The chat changed under us (deleted, the same ids sent twice): the run must not go on.
      followed.close();
      shown.close();
      const { run } = started;
      await runs?.engine
        .cancelRun({ workspaceId: run.workspaceId, threadId: run.threadId, runId: run.id })
        .catch(() => {});
      throw error;
    }
    changed(accountId, recorded, ['messages'], origin);
    void watch({
      accountId,
      chatId,
      answerId: answer.id,
      earlier: answer.content,
      events: followed,
      origin,
    }).catch(() => {
      // Settled when the chat is next read.
    });
    return {
      chat: { ...recorded, gpt: face },
      question,
      answer,
      runId: started.run.id,
      events: stream ? shown : undefined,
    };
  }

  /** Refuses while an answer of the chat is being written. */
  function checkIdle(chat: Chat): void {
    if (chat.messages.some((message) => message.status === 'in_progress')) {
      throw new ConflictError('An answer is still being written in this chat: stop it or wait for it.', {
        code: 'answer_in_progress',
      });
    }
  }

  /**
   * Starts the run that writes `answerId` after `parentId` (the question, already in the chat, or
   * `question`, added with it), on the branch's thread or on a new one, and records both.
   */
  async function startAnswer({
    accountId,
    workspaceId: sessionWorkspaceId,
    chatId,
    parentId,
    question,
    answerId,
    model: asked,
    stream,
    origin,
  }: {
    accountId: string;
    workspaceId: string;
    chatId: string;
    parentId: string;
    question: Question | null;
    answerId: string;
    model: string | undefined;
    stream: boolean;
    origin: string | null;
  }): Promise<ChatTurn> {
    if (!runs) throw new InvalidRequestError('This server does not answer chats.', { param: 'model' });
    const chat = await settleAll(accountId, await find(accountId, chatId));
    checkIdle(chat);
    checkNewIds(chat, [...(question ? [question.id] : []), answerId]);
    if (question) checkTools(question.attachments, capabilities);
    const workspaceId = chat.workspaceId ?? sessionWorkspaceId;
    const parent = chat.messages.find((message) => message.id === parentId);
    if (question && question.parentId !== null && !parent) {
      throw new InvalidRequestError(`No message '${question.parentId}' in this chat.`, {
        param: 'parent_id',
      });
    }

    // The branch continues its thread when it ends there; otherwise a new thread gets a copy.
    const continues =
      parent?.threadId &&
      isLastOfThread(chat.messages, parent) &&
      (await repositories.threads.find(workspaceId, parent.threadId))
        ? parent.threadId
        : null;
    const newMessage: NewMessage | null = question
      ? { role: 'user', content: question.content, attachments: question.attachments, metadata: {} }
      : null;
    const branch = parent ? pathTo(chat.messages, parent.id) : [];
    const attachments = [
      ...branch.flatMap((message) => message.attachments ?? []),
      ...(question?.attachments ?? []),
    ];
    const searchable = attachments.some((attachment) => attachment.tools.includes('file_search'));
    const { assistantId, model, options, face } = await runSetup({
      chat,
      accountId,
      workspaceId,
      model: asked,
      searchable,
      attachments: question?.attachments ?? [],
    });
    // Always subscribed from the run's start: the watcher tells the other pages of every word.
    // The caller gets a second reader of the same events when it streams.
    let started: RunStart;
    let threadId: string;
    if (continues) {
      started = await runs.engine.createRun({
        workspaceId,
        threadId: continues,
        assistantId,
        accountId,
        options,
        additionalMessages: newMessage ? [newMessage] : [],
        stream: true,
      });
      threadId = continues;
    } else {
      const copies = parent ? await copiesOf(workspaceId, branch) : [];
      const withThread = await runs.engine.createThreadAndRun({
        workspaceId,
        assistantId,
        accountId,
        thread: {
          messages: newMessage ? [...copies, newMessage] : copies,
          toolResources: {},
          metadata: { atelier_chat_id: chat.id },
        },
        options,
        stream: true,
      });
      started = withThread;
      threadId = withThread.thread.id;
    }

    const at = now();
    const questionNode: ChatMessage | null = question
      ? {
          id: question.id,
          parentId: question.parentId,
          role: 'user',
          content: textOf(question.content),
          parts: question.content,
          attachments: question.attachments,
          model: null,
          status: 'complete',
          createdAt: at,
          threadId,
          runId: null,
        }
      : null;
    const answerNode: ChatMessage = {
      id: answerId,
      parentId: question?.id ?? parentId,
      role: 'assistant',
      content: '',
      model,
      status: 'in_progress',
      createdAt: at,
      threadId,
      runId: started.run.id,
    };
    return record({
      accountId,
      chatId,
      started,
      stream,
      origin,
      question: questionNode,
      answer: answerNode,
      face,
      change: (current) => {
        checkNewIds(current, [...(questionNode ? [questionNode.id] : []), answerId]);
        const messages = [...current.messages, ...(questionNode ? [questionNode] : []), answerNode];
        checkTree(messages, answerId);
        return { messages, currentNodeId: answerId, model, workspaceId, assistantId };
      },
    });
  }

  /** A new run on a pending answer's thread, writing into the same message. */
  async function continuePending({
    accountId,
    chatId,
    answerId,
    stream,
    origin,
  }: {
    accountId: string;
    chatId: string;
    answerId: string;
    stream: boolean;
    origin: string | null;
  }): Promise<ChatTurn> {
    if (!runs) throw new InvalidRequestError('This server does not answer chats.', { param: 'model' });
    const chat = await settleAll(accountId, await find(accountId, chatId));
    const pending = chat.messages.find((message) => message.id === answerId);
    if (pending?.role !== 'assistant') {
      throw new NotFoundError(`No answer '${answerId}' in this chat.`, { param: 'message_id' });
    }
    checkIdle(chat);
    const threadId = pending.threadId;
    const workspaceId = chat.workspaceId;
    if (
      pending.status !== 'pending' ||
      !threadId ||
      !workspaceId ||
      !isLastOfThread(chat.messages, pending) ||
      !(await repositories.threads.find(workspaceId, threadId))
    ) {
      throw new ConflictError(
        'This answer is not waiting for an answer about an action: ask again or regenerate it.',
        { param: 'message_id', code: 'answer_not_pending' },
      );
    }
    const branch = pathTo(chat.messages, pending.id);
    const { assistantId, options, face } = await runSetup({
      chat,
      accountId,
      workspaceId,
      model: undefined,
      searchable: branch.some((message) =>
        (message.attachments ?? []).some((attachment) => attachment.tools.includes('file_search')),
      ),
      attachments: [],
    });
    const started = await runs.engine
      .createRun({
        workspaceId,
        threadId,
        assistantId,
        accountId,
        options,
        additionalMessages: [],
        stream: true,
      })
      .catch((error: unknown) => {
        // Another tab continued it first: its run is on the thread now.
        if (error instanceof InvalidRequestError && error.param === 'thread_id') {
          throw new ConflictError('This answer is already being continued.', {
            param: 'message_id',
            code: 'answer_not_pending',
          });
        }
        throw error;
      });
    const answer: ChatMessage = {
      ...pending,
      status: 'in_progress',
      runId: started.run.id,
      pendingActions: undefined,
      error: null,
    };
    return record({
      accountId,
      chatId,
      started,
      stream,
      origin,
      question: null,
      answer,
      face,
      change: (current) => {
        const node = current.messages.find((message) => message.id === answerId);
        if (node?.status !== 'pending') {
          throw new ConflictError('This answer was continued meanwhile.', {
            param: 'message_id',
            code: 'answer_not_pending',
          });
        }
        return {
          messages: current.messages.map((message) => (message.id === answerId ? answer : message)),
          currentNodeId: answerId,
        };
      },
    });
  }

  return {
    capabilities,

    async list({ accountId, limit, after = undefined, search = undefined }) {
      const page = await repositories.chats.list({ accountId, limit, after, search });
      const faces = await facesOf(
        accountId,
        page.data.flatMap((chat) => chat.gptId ?? []),
      );
      return {
        data: page.data.map((chat) => ({
          ...chat,
          gpt: chat.gptId ? (faces.get(chat.gptId) ?? null) : null,
        })),
        hasMore: page.hasMore,
      };
    },

    async get(accountId, chatId) {
      const chat = await withPartialAnswers(await settleAll(accountId, await find(accountId, chatId)));
      return withGpt(accountId, chat);
    },

    async create({
      accountId,
      workspaceId = undefined,
      gptId = null,
      title,
      temporary = false,
      model = null,
      messages = [],
      currentNodeId = null,
      origin = null,
    }) {
      checkTree(messages, currentNodeId);
      let target: GptChatTarget | null = null;
      if (gptId !== null) {
        target = await gptTarget(accountId, workspaceId ?? null, gptId);
        if (!target) throw new NotFoundError(`No GPT found with id '${gptId}'.`, { param: 'gpt_id' });
        if (model !== null && model !== gptModelName(gptId)) {
          throw new InvalidRequestError(`A chat with a GPT is answered by '${gptModelName(gptId)}'.`, {
            param: 'model',
          });
        }
      }
      // With history off every new chat is temporary, whatever the page asked for.
      const { chatHistoryEnabled } = await repositories.accountPreferences.get(accountId);
      const chat = await repositories.chats.create({
        accountId,
        title: normalizeTitle(title),
        temporary: temporary || !chatHistoryEnabled,
        model: gptId !== null ? gptModelName(gptId) : model,
        messages,
        currentNodeId: currentNodeId ?? messages.at(-1)?.id ?? null,
        assistantId: gptId,
      });
      if (target && gpts) {
        // The builder's training choice in effect now goes with the chat (the export reads it).
        try {
          await gpts.recordConversation({
            target,
            conversation: { kind: 'chat', id: chat.id },
            accountId,
            workspaceId: workspaceId ?? target.gpt.workspaceId,
          });
        } catch (error) {
          await repositories.chats.delete(accountId, chat.id);
          throw error;
        }
      }
      announce(accountId, { type: 'chat.created', chat: summaryOf(chat), origin });
      return { ...chat, gpt: target ? faceOfTarget(target) : null };
    },

    async update(accountId, chatId, changes, { origin = null } = {}) {
      const updated = await repositories.chats.modify(accountId, chatId, (existing) => {
        if (changes.currentNodeId != null && !existing.messages.some((m) => m.id === changes.currentNodeId)) {
          throw new InvalidRequestError(`No message '${changes.currentNodeId}' in this chat.`, {
            param: 'current_node_id',
          });
        }
        return {
          ...(changes.title !== undefined ? { title: normalizeTitle(changes.title) } : {}),
          ...(changes.model !== undefined ? { model: changes.model } : {}),
          ...(changes.currentNodeId !== undefined ? { currentNodeId: changes.currentNodeId } : {}),
        };
      });
      if (!updated) throw notFound(chatId);
      const what: ChatChange[] = [];
      if (changes.title !== undefined) what.push('title');
      if (changes.model !== undefined) what.push('model');
      if (changes.currentNodeId !== undefined) what.push('branch');
      changed(accountId, updated, what, origin);
      return withGpt(accountId, updated);
    },

    async delete(accountId, chatId, { origin = null } = {}) {
      const chat = await find(accountId, chatId);
      if (!(await repositories.chats.delete(accountId, chatId))) throw notFound(chatId);
      await deleteThreads(repositories, chat);
      announce(accountId, { type: 'chat.deleted', chatId, origin });
    },

    ask({ accountId, workspaceId, chatId, question, answerId, model, stream, origin = null }) {
      return startAnswer({
        accountId,
        workspaceId,
        chatId,
        parentId: question.parentId ?? '',
        question,
        answerId,
        model,
        stream,
        origin,
      });
    },

    async answerAgain({
      accountId,
      workspaceId,
      chatId,
      questionId,
      answerId,
      model,
      stream,
      origin = null,
    }) {
      const chat = await find(accountId, chatId);
      const question = chat.messages.find((message) => message.id === questionId);
      if (question?.role !== 'user') {
        throw new NotFoundError(`No question '${questionId}' in this chat.`, { param: 'message_id' });
      }
      return startAnswer({
        accountId,
        workspaceId,
        chatId,
        parentId: questionId,
        question: null,
        answerId,
        model,
        stream,
        origin,
      });
    },

    continueAnswer({ accountId, chatId, answerId, stream, origin = null }) {
      return continuePending({ accountId, chatId, answerId, stream, origin });
    },

    async stop({ accountId, chatId, answerId }) {
      const chat = await find(accountId, chatId);
      const answer = chat.messages.find((message) => message.id === answerId);
      if (answer?.role !== 'assistant') {
        throw new NotFoundError(`No answer '${answerId}' in this chat.`, { param: 'message_id' });
      }
      if (answer.status !== 'in_progress' || !answer.runId || !runs) return answer;
      const run = await repositories.runs.findById(answer.runId);
      if (run && !isTerminal(run.status)) {
        // Already over by the time the cancel lands: nothing to stop.
        await runs.engine
          .cancelRun({ workspaceId: run.workspaceId, threadId: run.threadId, runId: run.id })
          .catch((error: unknown) => {
            if (!(error instanceof InvalidRequestError)) throw error;
          });
      }
      return answer;
    },

    async files(chat) {
      const ids = [...new Set(chat.messages.flatMap(fileIdsOf))];
      if (ids.length === 0 || !chat.workspaceId) return new Map();
      const found = await repositories.files.findMany(chat.workspaceId, ids);
      return new Map(
        found.map((file) => [file.id, { filename: file.filename, bytes: file.bytes, purpose: file.purpose }]),
      );
    },

    async deleteExpiredTemporary() {
      let deleted = 0;
      for (;;) {
        const expired = await repositories.chats.listTemporaryBefore(
          now() - TEMPORARY_CHAT_RETENTION_SECONDS,
          SWEEP_PAGE,
        );
        for (const chat of expired) {
          if (await repositories.chats.delete(chat.accountId, chat.id)) deleted++;
          await deleteThreads(repositories, chat);
        }
        if (expired.length < SWEEP_PAGE) return deleted;
      }
    },

    async *trainingExamples({ since = undefined } = {}) {
      let after: string | undefined;
      for (;;) {
        const page = await repositories.chats.listForTraining({ after, since, limit: TRAINING_PAGE });
        // A chat some of whose threads talked to such a GPT is left out whole.
        const barred = await repositories.chats.threadsBarredFromTraining([
          ...new Set(page.flatMap((chat) => chat.messages.flatMap((message) => message.threadId ?? []))),
        ]);
        for (const chat of page) {
          if (chat.messages.some((message) => message.threadId && barred.has(message.threadId))) continue;
          const example = trainingExample(chat);
          if (example) yield example;
        }
        if (page.length < TRAINING_PAGE) return;
        after = page.at(-1)!.id;
      }
    },
  };
}

/** Why a chat with a GPT is not answered any more: the person lost access to the GPT. */
function gptUnavailable(): PermissionDeniedError {
  return new PermissionDeniedError(
    'This GPT is no longer available to you (it was deleted or is no longer shared with you): the chat stays readable, but it cannot be answered. Start a new chat to go on.',
    { code: 'gpt_unavailable' },
  );
}

/** The face of a GPT someone may see: the published version's (the draft's for its builder). */
function faceOf({ gpt, access }: GptSeen): ChatGptFace {
  const face = gpt.published?.config ?? gpt.draft;
  return {
    id: gpt.id,
    name: face.name,
    // As the avatar route serves it: the draft's to those who edit the GPT.
    avatarFileId: access.edit ? gpt.draft.avatarFileId : face.avatarFileId,
    available: access.chat,
  };
}

/** The face of a GPT someone may chat with. */
function faceOfTarget(target: GptChatTarget): ChatGptFace {
  return {
    id: target.gpt.id,
    name: target.config.name,
    avatarFileId: target.config.avatarFileId,
    available: true,
  };
}

/** A GPT's chat may give files only to the tools the GPT has (its own, or file_search). */
function checkGptTools(attachments: readonly Attachment[], tools: readonly AssistantTool[]): void {
  for (const [index, attachment] of attachments.entries()) {
    for (const tool of attachment.tools) {
      if (tool === 'code_interpreter' && !tools.some((candidate) => candidate.type === tool)) {
        throw new InvalidRequestError('This GPT has no code interpreter to use the file with.', {
          param: `attachments[${index}].tools`,
          code: 'tool_unavailable',
        });
      }
    }
  }
}

type Outcome = Pick<ChatMessage, 'content' | 'status' | 'error' | 'pendingActions'> & {
  readonly parts: readonly MessageContent[];
};

/**
 * What an answer held before the run now writing it: nothing for a new answer, the earlier runs'
 * words for a continued one (its run writes after them).
 */
function earlierPartsOf(answer: ChatMessage): readonly MessageContent[] {
  return answer.parts ?? (answer.content ? [{ type: 'text', text: answer.content, annotations: [] }] : []);
}

/** The message's parts as the engine has them (older messages: their text). */
function contentOf(message: ChatMessage): readonly MessageContent[] {
  return message.parts ?? [{ type: 'text', text: message.content, annotations: [] }];
}

function textOf(parts: readonly MessageContent[]): string {
  return parts
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n\n')
    .trim();
}

function fileIdsOf(message: ChatMessage): string[] {
  return [
    ...(message.attachments ?? []).map((attachment) => attachment.fileId),
    ...(message.parts ?? []).flatMap((part) =>
      part.type === 'image_file'
        ? [part.fileId]
        : part.type === 'text'
          ? part.annotations.map((annotation) => annotation.fileId)
          : [],
    ),
  ];
}

/** The answer of a run that no longer exists (its thread was deleted through the API). */
const LOST: Outcome = {
  content: '',
  parts: [],
  status: 'failed',
  error: 'The answer was lost: its thread no longer exists.',
};

async function deleteThreads(repositories: Repositories, chat: Chat): Promise<void> {
  if (!chat.workspaceId) return;
  const threads = new Set(chat.messages.flatMap((message) => (message.threadId ? [message.threadId] : [])));
  for (const threadId of threads) await repositories.threads.delete(chat.workspaceId, threadId);
}

/** Whether no later message of the chat was written to `message`'s thread. */
function isLastOfThread(messages: readonly ChatMessage[], message: ChatMessage): boolean {
  const index = messages.findIndex((candidate) => candidate.id === message.id);
  return !messages.slice(index + 1).some((later) => later.threadId === message.threadId);
}

/** The conversation from the first message to `leafId`. */
function pathTo(messages: readonly ChatMessage[], leafId: string): ChatMessage[] {
  const byId = new Map(messages.map((message) => [message.id, message]));
  const path: ChatMessage[] = [];
  const seen = new Set<string>();
  for (let node = byId.get(leafId); node && !seen.has(node.id); ) {
    seen.add(node.id);
    path.unshift(node);
    node = node.parentId === null ? undefined : byId.get(node.parentId);
  }
  return path;
}

/** The system message custom instructions become (none when they are off or empty). */
export function customInstructions(preferences: AccountPreferences): string | null {
  if (!preferences.customInstructionsEnabled) return null;
  const about = preferences.aboutMe.trim();
  const style = preferences.responseStyle.trim();
  if (!about && !style) return null;
  const parts = [
    'The user provided the following information to help you give better answers. Use it when relevant; do not mention it otherwise.',
  ];
  if (about) parts.push(`What the user would like you to know about them:\n${about}`);
  if (style) parts.push(`How the user would like you to respond:\n${style}`);
  return parts.join('\n\n');
}

function checkNewIds(chat: Chat, ids: readonly string[]): void {
  for (const id of ids) {
    if (chat.messages.some((message) => message.id === id)) {
      throw new InvalidRequestError(`The chat already has a message '${id}'.`, { param: 'id' });
    }
  }
  if (new Set(ids).size !== ids.length) {
    throw new InvalidRequestError('The question and its answer need different ids.', { param: 'answer_id' });
  }
}

function checkTools(attachments: readonly Attachment[], capabilities: ChatCapabilities): void {
  for (const [index, attachment] of attachments.entries()) {
    for (const tool of attachment.tools) {
      if (
        (tool === 'file_search' && !capabilities.fileSearch) ||
        (tool === 'code_interpreter' && !capabilities.codeInterpreter)
      ) {
        throw new InvalidRequestError(`This server has no ${tool} tool to use the file with.`, {
          param: `attachments[${index}].tools`,
          code: 'tool_unavailable',
        });
      }
    }
  }
}

/** What an event says of a chat (never its messages: the page fetches them if it shows them). */
function summaryOf(chat: Chat): ChatSummary {
  return {
    id: chat.id,
    title: chat.title,
    temporary: chat.temporary,
    model: chat.model,
    createdAt: chat.createdAt,
    updatedAt: chat.updatedAt,
    gptId: chat.gptId,
  };
}

/** The branch on screen as question/answer pairs; a pair whose answer did not complete is left out. */
function trainingExample(chat: Chat): TrainingExample | null {
  const path = pathTo(chat.messages, chat.currentNodeId ?? '');
  const messages: TrainingExample['messages'][number][] = [];
  for (const [index, node] of path.entries()) {
    const question = path[index - 1];
    if (node.role !== 'assistant' || node.status !== 'complete' || question?.role !== 'user') continue;
    if (!node.content.trim() || !question.content.trim()) continue;
    messages.push({ role: 'user', content: question.content }, { role: 'assistant', content: node.content });
  }
  return messages.length > 0 ? { messages } : null;
}

function normalizeTitle(title: string | undefined): string {
  const trimmed = (title ?? '').replace(/\s+/g, ' ').trim();
  if (trimmed.length > CHAT_TITLE_MAX_LENGTH) {
    throw new InvalidRequestError(`A chat title has at most ${CHAT_TITLE_MAX_LENGTH} characters.`, {
      param: 'title',
    });
  }
  return trimmed || DEFAULT_TITLE;
}

/**
 * The messages must form a tree listed parents first (so there can be no cycle), with unique ids,
 * and the current node must be one of them.
 */
function checkTree(messages: readonly ChatMessage[], currentNodeId: string | null | undefined): void {
  if (messages.length > CHAT_MAX_MESSAGES) {
    throw new PayloadTooLargeError(`A chat has at most ${CHAT_MAX_MESSAGES} messages.`);
  }
  let length = 0;
  const seen = new Set<string>();
  for (const [index, message] of messages.entries()) {
    if (seen.has(message.id)) {
      throw new InvalidRequestError(`Duplicate message id '${message.id}'.`, {
        param: `messages[${index}].id`,
      });
    }
    if (message.parentId !== null && !seen.has(message.parentId)) {
      throw new InvalidRequestError(
        `The parent '${message.parentId}' must be listed before message '${message.id}'.`,
        { param: `messages[${index}].parent_id` },
      );
    }
    seen.add(message.id);
    length += message.content.length;
  }
  if (length > CHAT_MAX_CONTENT_LENGTH) {
    throw new PayloadTooLargeError(`A chat holds at most ${CHAT_MAX_CONTENT_LENGTH} characters of messages.`);
  }
  if (currentNodeId != null && !seen.has(currentNodeId)) {
    throw new InvalidRequestError(`No message '${currentNodeId}' in this chat.`, {
      param: 'current_node_id',
    });
  }
}
