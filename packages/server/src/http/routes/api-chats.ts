// The signed-in person's chats: list (search, pages), create, read, update (title, model, the
// branch on screen), delete; and the conversation itself: ask a question (a new chat's first one
// can come with the chat), answer a question again, stop an answer. Answers are runs of the
// engine on the chat's threads; with `stream: true` the reply is the run's Assistants events
// (`thread.run.created`, `thread.message.delta`, … `done`), after a `chat.turn` event naming the
// messages added. A chat may be started with a GPT (`gpt_id`, for whoever may chat with it): its
// answers are runs on the GPT; one that stops at an action call awaiting the person's answer is
// `pending` (`pending_actions`), and `…/continue` goes on once the page posted the answer to
// `POST /api/gpts/{id}/consents`. Someone else's chat is a 404, never a 403.
import { AttachmentParam, MessageCreateParamsV2 } from '@atelier/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AccountServices } from '../../platform/account-services.js';
import { CHAT_TITLE_MAX_LENGTH, type ChatTurn } from '../../platform/chats-service.js';
import { requireSession } from '../auth.js';
import { fromWireMessageV2 } from '../from-wire-message.js';
import { parseBody } from '../parse.js';
import { streamRunEvents } from '../stream-run-events.js';
import {
  fromWireChatMessage,
  toWireChat,
  toWireChatMessage,
  toWireListedChat,
} from '../to-wire-chat-history.js';
import { tabOrigin } from './api-events.js';

const MessageId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

const ChatMessageParam = z.object({
  id: MessageId,
  parent_id: MessageId.nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  model: z.string().max(256).nullable().optional(),
  status: z.enum(['complete', 'stopped', 'failed']).optional(),
  created_at: z.number().int().nonnegative(),
});

const Title = z
  .string()
  .max(CHAT_TITLE_MAX_LENGTH * 4)
  .optional();

/** A question and the answer it asks for: the content and attachments of a v2 message. */
const QuestionParams = z.strictObject({
  id: MessageId,
  parent_id: MessageId.nullable().default(null),
  content: MessageCreateParamsV2.shape.content,
  attachments: z.array(AttachmentParam).max(10).optional(),
  answer_id: MessageId,
  /** Required in a plain chat; a chat with a GPT is answered by the GPT (`gpt-<id>` or nothing). */
  model: z.string().min(1).max(256).optional(),
  stream: z.boolean().optional(),
});

const CreateParams = z.strictObject({
  /** A chat with this GPT (`g-…`). */
  gpt_id: z.string().min(1).max(64).optional(),
  title: Title,
  temporary: z.boolean().optional(),
  model: z.string().max(256).nullable().optional(),
  messages: z.array(ChatMessageParam).max(10_000).optional(),
  current_node_id: MessageId.nullable().optional(),
  /** The first question, answered at once (the reply is then the answer's stream when asked). */
  message: QuestionParams.optional(),
});

const UpdateParams = z.strictObject({
  title: Title,
  model: z.string().max(256).nullable().optional(),
  current_node_id: MessageId.nullable().optional(),
});

const AnswerAgainParams = z.strictObject({
  answer_id: MessageId,
  model: z.string().min(1).max(256).optional(),
  stream: z.boolean().optional(),
});

const ContinueParams = z.strictObject({
  stream: z.boolean().optional(),
});

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  after: z.string().max(64).optional(),
  search: z.string().max(200).optional(),
});

interface ChatRoute {
  Params: { chat_id: string };
}

interface MessageRoute {
  Params: { chat_id: string; message_id: string };
}

export function registerApiChats(app: FastifyInstance, { chats }: Pick<AccountServices, 'chats'>): void {
  const withFiles = async (chat: Parameters<typeof toWireChat>[0]) =>
    toWireChat(chat, await chats.files(chat));

  /** A started answer: its events as they come, or (without `stream`) what was added. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    turn: ChatTurn,
    { stream, created }: { stream: boolean; created: boolean },
  ) => {
    const added = {
      chat: toWireListedChat(turn.chat),
      question: turn.question ? toWireChatMessage(turn.question) : null,
      answer: toWireChatMessage(turn.answer),
      run_id: turn.runId,
    };
    if (stream && turn.events) {
      await streamRunEvents({
        reply,
        version: 'v2',
        events: turn.events,
        prelude: [{ event: 'chat.turn', data: added }],
      });
      return reply;
    }
    turn.events?.close();
    request.log.debug({ chat: turn.chat.id, run: turn.runId }, 'chat answer started');
    return reply.code(created ? 201 : 200).send(added);
  };

  app.get('/api/chats', async (request) => {
    const { session } = requireSession(request);
    const query = parseBody(ListQuery, request.query);
    const page = await chats.list({ accountId: session.accountId, ...query });
    const data = page.data.map(toWireListedChat);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: page.hasMore,
    };
  });

  app.post('/api/chats', async (request, reply) => {
    const { session } = requireSession(request);
    const params = parseBody(CreateParams, request.body);
    const origin = tabOrigin(request);
    const chat = await chats.create({
      accountId: session.accountId,
      workspaceId: session.workspaceId,
      gptId: params.gpt_id ?? null,
      title: params.title,
      temporary: params.temporary,
      model: params.model ?? params.message?.model,
      messages: params.messages?.map(fromWireChatMessage),
      currentNodeId: params.current_node_id,
      origin,
    });
    const first = params.message;
    if (!first) return reply.code(201).send(await withFiles(chat));
    let turn: ChatTurn;
    try {
      turn = await chats.ask({
        accountId: session.accountId,
        workspaceId: session.workspaceId,
        chatId: chat.id,
        question: toQuestion(first),
        answerId: first.answer_id,
        model: first.model,
        stream: first.stream === true,
        origin,
      });
    } catch (error) {
      // Nothing to answer (an unknown model, a file that is not the person's): no empty chat stays.
      await chats.delete(session.accountId, chat.id, { origin }).catch(() => {});
      throw error;
    }
    return answer(request, reply, turn, { stream: first.stream === true, created: true });
  });

  app.get<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    return withFiles(await chats.get(session.accountId, request.params.chat_id));
  });

  app.patch<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    const params = parseBody(UpdateParams, request.body);
    const chat = await chats.update(
      session.accountId,
      request.params.chat_id,
      {
        ...(params.title !== undefined ? { title: params.title } : {}),
        ...(params.model !== undefined ? { model: params.model } : {}),
        ...(params.current_node_id !== undefined ? { currentNodeId: params.current_node_id } : {}),
      },
      { origin: tabOrigin(request) },
    );
    return withFiles(chat);
  });

  app.delete<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    await chats.delete(session.accountId, request.params.chat_id, { origin: tabOrigin(request) });
    return { id: request.params.chat_id, object: 'chat.deleted', deleted: true };
  });

  app.post<ChatRoute>('/api/chats/:chat_id/messages', async (request, reply) => {
    const { session } = requireSession(request);
    const params = parseBody(QuestionParams, request.body);
    const turn = await chats.ask({
      accountId: session.accountId,
      workspaceId: session.workspaceId,
      chatId: request.params.chat_id,
      question: toQuestion(params),
      answerId: params.answer_id,
      model: params.model,
      stream: params.stream === true,
      origin: tabOrigin(request),
    });
    return answer(request, reply, turn, { stream: params.stream === true, created: false });
  });

  app.post<MessageRoute>('/api/chats/:chat_id/messages/:message_id/answers', async (request, reply) => {
    const { session } = requireSession(request);
    const params = parseBody(AnswerAgainParams, request.body);
    const turn = await chats.answerAgain({
      accountId: session.accountId,
      workspaceId: session.workspaceId,
      chatId: request.params.chat_id,
      questionId: request.params.message_id,
      answerId: params.answer_id,
      model: params.model,
      stream: params.stream === true,
      origin: tabOrigin(request),
    });
    return answer(request, reply, turn, { stream: params.stream === true, created: false });
  });

  app.post<MessageRoute>('/api/chats/:chat_id/messages/:message_id/continue', async (request, reply) => {
    const { session } = requireSession(request);
    const params = parseBody(ContinueParams, request.body);
    const turn = await chats.continueAnswer({
      accountId: session.accountId,
      chatId: request.params.chat_id,
      answerId: request.params.message_id,
      stream: params.stream === true,
      origin: tabOrigin(request),
    });
    return answer(request, reply, turn, { stream: params.stream === true, created: false });
  });

  app.post<MessageRoute>('/api/chats/:chat_id/messages/:message_id/stop', async (request) => {
    const { session } = requireSession(request);
    const stopped = await chats.stop({
      accountId: session.accountId,
      chatId: request.params.chat_id,
      answerId: request.params.message_id,
    });
    return toWireChatMessage(stopped);
  });
}

function toQuestion(params: z.infer<typeof QuestionParams>) {
  const message = fromWireMessageV2({
    role: 'user',
    content: params.content,
    attachments: params.attachments,
  });
  return {
    id: params.id,
    parentId: params.parent_id,
    content: message.content,
    attachments: message.attachments,
  };
}
