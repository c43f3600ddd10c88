// /v1/threads/{thread_id}/messages: post a message (refused while a run holds the thread), list
// (optionally one run's), retrieve, modify metadata, delete (v2).
import {
  CursorPageParams,
  MessageCreateParamsV1,
  MessageCreateParamsV2,
  type MessageDeleted,
  MessageListParams,
  MessageUpdateParams,
} from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { assistantsVersion, requireV2 } from '../assistants-version.js';
import { fromWireMessageV1, fromWireMessageV2 } from '../from-wire-message.js';
import { parseParams } from '../parse-params.js';
import { toWirePage } from '../to-wire-files.js';
import { toWireMessage } from '../to-wire-message.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type ThreadParams = { Params: { thread_id: string } };
type MessageParams = { Params: { thread_id: string; message_id: string } };

export function registerThreadsMessages(
  app: FastifyInstance,
  { repositories, engine }: AssistantsRouteServices,
): void {
  const findThread = async (workspaceId: string, id: string) => {
    const thread = await repositories.threads.find(workspaceId, id);
    if (!thread) throw new NotFoundError(`No thread found with id '${id}'.`, { param: 'thread_id' });
    return thread;
  };
  const findMessage = async (workspaceId: string, threadId: string, id: string) => {
    await findThread(workspaceId, threadId);
    const message = await repositories.messages.find(workspaceId, threadId, id);
    if (!message) throw new NotFoundError(`No message found with id '${id}'.`, { param: 'message_id' });
    return message;
  };

  app.post<ThreadParams>('/v1/threads/:thread_id/messages', async (request) => {
    const version = assistantsVersion(request);
    const message =
      version === 'v1'
        ? fromWireMessageV1(parseParams(MessageCreateParamsV1, request.body))
        : fromWireMessageV2(parseParams(MessageCreateParamsV2, request.body));
    const [created] = await engine.addMessages({
      workspaceId: request.principal!.workspaceId,
      threadId: request.params.thread_id,
      messages: [message],
    });
    return toWireMessage(created!, version);
  });

  app.get<ThreadParams>('/v1/threads/:thread_id/messages', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const thread = await findThread(workspaceId, request.params.thread_id);
    const query = CursorPageParams.parse(request.query ?? {});
    const { run_id: runId } = MessageListParams.parse(request.query ?? {});
    const page = await repositories.messages.list({
      workspaceId,
      threadId: thread.id,
      ...query,
      ...(runId !== undefined ? { runId } : {}),
    });
    return toWirePage(page, (message) => toWireMessage(message, version));
  });

  app.get<MessageParams>('/v1/threads/:thread_id/messages/:message_id', async (request) => {
    const message = await findMessage(
      request.principal!.workspaceId,
      request.params.thread_id,
      request.params.message_id,
    );
    return toWireMessage(message, assistantsVersion(request));
  });

  app.post<MessageParams>('/v1/threads/:thread_id/messages/:message_id', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const message = await findMessage(workspaceId, request.params.thread_id, request.params.message_id);
    const params = parseParams(MessageUpdateParams, request.body);
    if (params.metadata === undefined) return toWireMessage(message, version);
    const updated = await repositories.messages.updateMetadata(
      workspaceId,
      message.threadId,
      message.id,
      params.metadata ?? {},
    );
    return toWireMessage(updated ?? message, version);
  });

  app.delete<MessageParams>(
    '/v1/threads/:thread_id/messages/:message_id',
    async (request): Promise<MessageDeleted> => {
      requireV2(request, 'Deleting a message');
      const workspaceId = request.principal!.workspaceId;
      const message = await findMessage(workspaceId, request.params.thread_id, request.params.message_id);
      await repositories.messages.delete(workspaceId, message.threadId, message.id);
      return { id: message.id, object: 'thread.message.deleted', deleted: true };
    },
  );
}
