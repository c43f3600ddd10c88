// Web chats: each person's chats, their titles and message trees, answered by the run engine. A
// chat is backed by Assistants threads in the person's workspace and each answer is a run, so
// the web app gets everything the engine does (file_search, code_interpreter, long threads). A
// chat is a tree (regenerate and edit keep both versions), a thread is a line: each branch is
// written to a thread, and a branch that leaves a thread's end starts a new thread with a copy
// of the conversation so far (docs/decisions/2026-11-25-web-chat-on-runs.md).
//
// A chat someone else owns reads as missing. Temporary chats (one chat, or every new chat while
// the account's "chat history & training" is off) are never listed, never used for training,
// and are deleted with their threads 30 days after they were created.

import type { ModelLookup } from '../engine/assistant-checks.js';
import type { EventBus } from '../engine/event-bus.js';
import type { NewMessage, RunEngine, RunStart } from '../engine/run-engine.js';
import { type RunEventSubscription, STREAM_END_STATUSES, subscribeToRun } from '../engine/run-events.js';
import { isTerminal } from '../engine/run-state.js';
import { ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { AssistantTool, Attachment, MessageContent } from '../storage/assistants-domain.js';
import type { AccountPreferences } from '../storage/repositories/account-preferences-repository.js';
import type { Chat, ChatMessage, ChatSummary, ChatUpdate } from '../storage/repositories/chats-repository.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { AccountEvent, AccountEvents, ChatChange } from './account-events.js';

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
  readonly chat: Chat;
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

export interface ChatsService {
  readonly capabilities: ChatCapabilities;
  list(params: {
    accountId: string;
    limit: number;
    after?: string | undefined;
    search?: string | undefined;
  }): Promise<{ readonly data: readonly ChatSummary[]; readonly hasMore: boolean }>;
  /** The chat as it is now (answers whose run ended meanwhile are brought up to date). */
  get(accountId: string, chatId: string): Promise<Chat>;
  create(
    params: {
      accountId: string;
      title?: string | undefined;
      temporary?: boolean | undefined;
      model?: string | null | undefined;
      /** Plain-text messages to start with (an imported conversation). */
      messages?: readonly ChatMessage[] | undefined;
      currentNodeId?: string | null | undefined;
    } & Origin,
  ): Promise<Chat>;
  /** Title, model, or the branch on screen (`currentNodeId`). */
  update(
    accountId: string,
    chatId: string,
    changes: Pick<ChatUpdate, 'title' | 'model' | 'currentNodeId'>,
    options?: Origin,
  ): Promise<Chat>;
  /** Deletes the chat with its threads. */
  delete(accountId: string, chatId: string, options?: Origin): Promise<void>;
  /** Adds a question and starts its answer (`answerId`) with `model`. */
  ask(
    params: {
      accountId: string;
      /** Where a chat without threads yet gets them: the session's workspace. */
      workspaceId: string;
      chatId: string;
      question: Question;
      answerId: string;
      model: string;
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
      model: string;
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
   * on screen, complete answers only). The only way chats leave for training: temporary chats
   * and the chats of people who turned "chat history & training" off are never in it.
   */
  trainingExamples(): AsyncIterable<TrainingExample>;
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

export function createChatsService({
  repositories,
  events = undefined,
  runs = undefined,
  now = () => Math.floor(Date.now() / 1000),
}: {
  repositories: Repositories;
  /** Where the person's other tabs and devices hear of changes; none: they are not told. */
  events?: AccountEvents | undefined;
  /** None: chats are kept, but not answered (history, sweeps and exports still work). */
  runs?: ChatRuns | undefined;
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

  /** Writes into the answer what its run wrote, once the run is over. */
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
      return {
        messages: current.messages.map((message) =>
          message.id === answerId ? { ...message, ...outcome } : message,
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

  async function outcomeOf(run: Run): Promise<Pick<ChatMessage, 'content' | 'parts' | 'status' | 'error'>> {
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
      case 'completed':
      case 'incomplete':
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

  /** Follows a run until it ends, then writes the answer into the chat and tells the other pages. */
  async function watch(accountId: string, chatId: string, answerId: string, runId: string, bus: EventBus) {
    // Subscribed before the run is read again: an end between the two is not missed.
    const subscription = await subscribeToRun(bus, runId);
    try {
      const run = await repositories.runs.findById(runId);
      if (run && !STREAM_END_STATUSES.includes(run.status)) {
        for await (const event of subscription) {
          if (
            event.type === 'run' &&
            event.event !== 'created' &&
            STREAM_END_STATUSES.includes(event.run.status)
          )
            break;
        }
      }
    } finally {
      subscription.close();
    }
    await settle(accountId, chatId, answerId);
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
    model,
    stream,
    origin,
  }: {
    accountId: string;
    workspaceId: string;
    chatId: string;
    parentId: string;
    question: Question | null;
    answerId: string;
    model: string;
    stream: boolean;
    origin: string | null;
  }): Promise<ChatTurn> {
    if (!runs) throw new InvalidRequestError('This server does not answer chats.', { param: 'model' });
    const chat = await settleAll(accountId, await find(accountId, chatId));
    const busy = chat.messages.find((message) => message.status === 'in_progress');
    if (busy) {
      throw new ConflictError('An answer is still being written in this chat: stop it or wait for it.', {
        code: 'answer_in_progress',
      });
    }
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
    const asked: NewMessage | null = question
      ? { role: 'user', content: question.content, attachments: question.attachments, metadata: {} }
      : null;
    const branch = parent ? pathTo(chat.messages, parent.id) : [];
    const searchable = [
      ...branch.flatMap((message) => message.attachments ?? []),
      ...(question?.attachments ?? []),
    ].some((attachment) => attachment.tools.includes('file_search'));
    const assistantId = await assistantFor(chat, workspaceId, model);
    const preferences = await repositories.accountPreferences.get(accountId);
    const instructions = customInstructions(preferences);
    const options = {
      model,
      tools: toolsFor(model, { searchable }),
      metadata: { atelier_chat_id: chat.id },
      ...(instructions ? { instructions } : {}),
    };
    let started: RunStart;
    let threadId: string;
    if (continues) {
      started = await runs.engine.createRun({
        workspaceId,
        threadId: continues,
        assistantId,
        options,
        additionalMessages: asked ? [asked] : [],
        stream,
      });
      threadId = continues;
    } else {
      const copies = parent ? await copiesOf(workspaceId, branch) : [];
      const withThread = await runs.engine.createThreadAndRun({
        workspaceId,
        assistantId,
        thread: {
          messages: asked ? [...copies, asked] : copies,
          toolResources: {},
          metadata: { atelier_chat_id: chat.id },
        },
        options,
        stream,
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
    let recorded: Chat | null;
    try {
      recorded = await repositories.chats.modify(accountId, chatId, (current) => {
        checkNewIds(current, [...(questionNode ? [questionNode.id] : []), answerId]);
        const messages = [...current.messages, ...(questionNode ? [questionNode] : []), answerNode];
        checkTree(messages, answerId);
        return { messages, currentNodeId: answerId, model, workspaceId, assistantId };
      });
      if (!recorded) throw notFound(chatId);
    } catch (error) {
      // The chat changed under us (deleted, the same ids sent twice): the run must not go on.
      started.events?.close();
      await runs.engine.cancelRun({ workspaceId, threadId, runId: started.run.id }).catch(() => {});
      throw error;
    }
    changed(accountId, recorded, ['messages'], origin);
    void watch(accountId, chatId, answerId, started.run.id, runs.bus).catch(() => {
      // Settled when the chat is next read.
    });
    return {
      chat: recorded,
      question: questionNode,
      answer: answerNode,
      runId: started.run.id,
      events: started.events,
    };
  }

  return {
    capabilities,

    list({ accountId, limit, after = undefined, search = undefined }) {
      return repositories.chats.list({ accountId, limit, after, search });
    },

    async get(accountId, chatId) {
      return settleAll(accountId, await find(accountId, chatId));
    },

    async create({
      accountId,
      title,
      temporary = false,
      model = null,
      messages = [],
      currentNodeId = null,
      origin = null,
    }) {
      checkTree(messages, currentNodeId);
      // With history off every new chat is temporary, whatever the page asked for.
      const { chatHistoryEnabled } = await repositories.accountPreferences.get(accountId);
      const chat = await repositories.chats.create({
        accountId,
        title: normalizeTitle(title),
        temporary: temporary || !chatHistoryEnabled,
        model,
        messages,
        currentNodeId: currentNodeId ?? messages.at(-1)?.id ?? null,
      });
      announce(accountId, { type: 'chat.created', chat: summaryOf(chat), origin });
      return chat;
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
      return updated;
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

    async *trainingExamples() {
      let after: string | undefined;
      for (;;) {
        const page = await repositories.chats.listForTraining({ after, limit: TRAINING_PAGE });
        for (const chat of page) {
          const example = trainingExample(chat);
          if (example) yield example;
        }
        if (page.length < TRAINING_PAGE) return;
        after = page.at(-1)!.id;
      }
    },
  };
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
const LOST: Pick<ChatMessage, 'content' | 'parts' | 'status' | 'error'> = {
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
