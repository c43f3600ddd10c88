// /v1/threads/{thread_id}/messages/{message_id}/files: v1 only, the files a message carries.
import { CursorPageParams, type MessageFile } from '@atelier/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { cursorSequence, sequenceOfId } from '../../storage/sortable-id.js';
import { requireV1 } from '../assistants-version.js';
import { toWireMessageFiles } from '../to-wire-message.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type MessageParams = { Params: { thread_id: string; message_id: string } };
type MessageFileParams = { Params: { thread_id: string; message_id: string; file_id: string } };

export function registerThreadsMessagesFiles(
  app: FastifyInstance,
  { repositories }: AssistantsRouteServices,
): void {
  const findMessage = async (request: FastifyRequest<MessageParams>) => {
    requireV1(request, 'Message files');
    const workspaceId = request.principal!.workspaceId;
    const { thread_id: threadId, message_id: messageId } = request.params;
    if (!(await repositories.threads.find(workspaceId, threadId))) {
      throw new NotFoundError(`No thread found with id '${threadId}'.`, { param: 'thread_id' });
    }
    const message = await repositories.messages.find(workspaceId, threadId, messageId);
    if (!message)
      throw new NotFoundError(`No message found with id '${messageId}'.`, { param: 'message_id' });
    return message;
  };

  app.get<MessageParams>('/v1/threads/:thread_id/messages/:message_id/files', async (request) => {
    const message = await findMessage(request);
    const { limit, order, after, before } = CursorPageParams.parse(request.query ?? {});
    // A message has at most 10 files: page them in memory, in the order they were given.
    let files = toWireMessageFiles(message);
    if (order === 'desc') files = files.reverse();
    // Where a cursor falls: `start` is the first index past it, `end` the first index not before it.
    // A file id that is not on the message falls where the sequence in its id puts it, as on the
    // stored lists; anything else is refused with their 400.
    const place = (id: string, param: 'after' | 'before') => {
      const index = files.findIndex((file) => file.id === id);
      if (index >= 0) return { start: index + 1, end: index };
      const seq = cursorSequence('file', id, param) ?? 0;
      const past = files.findIndex((file) => {
        const fileSeq = sequenceOfId('file', file.id) ?? 0;
        return order === 'desc' ? fileSeq < seq : fileSeq > seq;
      });
      const at = past < 0 ? files.length : past;
      return { start: at, end: at };
    };
    const start = after !== undefined ? place(after, 'after').start : 0;
    const end = before !== undefined ? place(before, 'before').end : files.length;
    const window = files.slice(start, end);
    const data: MessageFile[] =
      before !== undefined && after === undefined ? window.slice(-limit) : window.slice(0, limit);
    const hasMore = window.length > limit;
    return {
      object: 'list' as const,
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: hasMore,
    };
  });

  app.get<MessageFileParams>(
    '/v1/threads/:thread_id/messages/:message_id/files/:file_id',
    async (request) => {
      const message = await findMessage(request);
      const file = toWireMessageFiles(message).find((candidate) => candidate.id === request.params.file_id);
      if (!file) {
        throw new NotFoundError(
          `No file found with id '${request.params.file_id}' on message '${message.id}'.`,
          {
            param: 'file_id',
          },
        );
      }
      return file;
    },
  );
}
