// The signed-in person's chat history: list (search, pages), create, read, update (title,
// messages, the branch on screen), delete. Someone else's chat is a 404, never a 403.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccountServices } from '../../platform/account-services.js';
import { CHAT_TITLE_MAX_LENGTH } from '../../platform/chats-service.js';
import { requireSession } from '../auth.js';
import { parseBody } from '../parse.js';
import { fromWireChatMessage, toWireChat, toWireChatSummary } from '../to-wire-chat-history.js';

const MessageId = z.string().min(1).max(64);

const ChatMessageParam = z.object({
  id: MessageId,
  parent_id: MessageId.nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  model: z.string().max(256).nullable().optional(),
  status: z.enum(['complete', 'stopped', 'failed']).optional(),
  created_at: z.number().int().nonnegative(),
});

const CreateParams = z.object({
  title: z
    .string()
    .max(CHAT_TITLE_MAX_LENGTH * 4)
    .optional(),
  temporary: z.boolean().optional(),
  model: z.string().max(256).nullable().optional(),
  messages: z.array(ChatMessageParam).optional(),
  current_node_id: MessageId.nullable().optional(),
});

const UpdateParams = CreateParams.omit({ temporary: true });

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  after: z.string().max(64).optional(),
  search: z.string().max(200).optional(),
});

interface ChatRoute {
  Params: { chat_id: string };
}

export function registerApiChats(app: FastifyInstance, { chats }: Pick<AccountServices, 'chats'>): void {
  app.get('/api/chats', async (request) => {
    const { session } = requireSession(request);
    const query = parseBody(ListQuery, request.query);
    const page = await chats.list({ accountId: session.accountId, ...query });
    const data = page.data.map(toWireChatSummary);
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
    const chat = await chats.create({
      accountId: session.accountId,
      title: params.title,
      temporary: params.temporary,
      model: params.model,
      messages: params.messages?.map(fromWireChatMessage),
      currentNodeId: params.current_node_id,
    });
    return reply.code(201).send(toWireChat(chat));
  });

  app.get<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    return toWireChat(await chats.get(session.accountId, request.params.chat_id));
  });

  app.patch<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    const params = parseBody(UpdateParams, request.body);
    const chat = await chats.update(session.accountId, request.params.chat_id, {
      ...(params.title !== undefined ? { title: params.title } : {}),
      ...(params.model !== undefined ? { model: params.model } : {}),
      ...(params.messages !== undefined ? { messages: params.messages.map(fromWireChatMessage) } : {}),
      ...(params.current_node_id !== undefined ? { currentNodeId: params.current_node_id } : {}),
    });
    return toWireChat(chat);
  });

  app.delete<ChatRoute>('/api/chats/:chat_id', async (request) => {
    const { session } = requireSession(request);
    await chats.delete(session.accountId, request.params.chat_id);
    return { id: request.params.chat_id, object: 'chat.deleted', deleted: true };
  });
}
