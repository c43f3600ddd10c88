// /v1/threads: create (with messages), retrieve, modify, delete. Creating a thread and a run in
// one call (`POST /v1/threads/runs`) lives with the runs.
import {
  ThreadCreateParamsV1,
  ThreadCreateParamsV2,
  type ThreadDeleted,
  ThreadUpdateParamsV1,
  ThreadUpdateParamsV2,
} from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { checkToolResources } from '../../engine/assistant-checks.js';
import type { ThreadInput } from '../../engine/run-engine.js';
import { NotFoundError } from '../../errors.js';
import type { BuiltInTools } from '../../tools/spec.js';
import { type AssistantsVersion, assistantsVersion } from '../assistants-version.js';
import { fromWireToolResources } from '../from-wire-assistant-options.js';
import { fromWireMessageV1, fromWireMessageV2 } from '../from-wire-message.js';
import { parseParams } from '../parse-params.js';
import { toWireThread } from '../to-wire-thread.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type ThreadParams = { Params: { thread_id: string } };

/** A `thread` object of a request (create thread, create thread and run) → domain. */
export async function fromWireThread(
  params: ThreadCreateParamsV1 | ThreadCreateParamsV2 | undefined,
  { version, workspaceId, tools }: { version: AssistantsVersion; workspaceId: string; tools: BuiltInTools },
): Promise<ThreadInput> {
  if (!params) return { messages: [], toolResources: {}, metadata: {} };
  const messages =
    version === 'v1'
      ? ((params as ThreadCreateParamsV1).messages ?? []).map(fromWireMessageV1)
      : ((params as ThreadCreateParamsV2).messages ?? []).map(fromWireMessageV2);
  const toolResources =
    'tool_resources' in params
      ? await fromWireToolResources(params.tool_resources, { workspaceId, fileSearch: tools.fileSearch })
      : {};
  return { messages, toolResources, metadata: params.metadata ?? {} };
}

export function registerThreads(app: FastifyInstance, services: AssistantsRouteServices): void {
  const { repositories, engine, tools } = services;

  const findThread = async (workspaceId: string, id: string) => {
    const thread = await repositories.threads.find(workspaceId, id);
    if (!thread) throw new NotFoundError(`No thread found with id '${id}'.`, { param: 'thread_id' });
    return thread;
  };

  app.post('/v1/threads', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const params =
      version === 'v1'
        ? parseParams(ThreadCreateParamsV1, request.body)
        : parseParams(ThreadCreateParamsV2, request.body);
    const input = await fromWireThread(params, { version, workspaceId, tools });
    const thread = await engine.createThread({ workspaceId, thread: input });
    return toWireThread(thread, version);
  });

  app.get<ThreadParams>('/v1/threads/:thread_id', async (request) => {
    const thread = await findThread(request.principal!.workspaceId, request.params.thread_id);
    return toWireThread(thread, assistantsVersion(request));
  });

  app.post<ThreadParams>('/v1/threads/:thread_id', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const thread = await findThread(workspaceId, request.params.thread_id);
    const params =
      version === 'v1'
        ? parseParams(ThreadUpdateParamsV1, request.body)
        : parseParams(ThreadUpdateParamsV2, request.body);
    const toolResources =
      'tool_resources' in params && params.tool_resources !== undefined
        ? await fromWireToolResources(params.tool_resources, { workspaceId, fileSearch: tools.fileSearch })
        : undefined;
    if (toolResources) await checkToolResources(repositories, { workspaceId, resources: toolResources });
    const updated = await repositories.threads.update(workspaceId, thread.id, {
      ...(toolResources ? { toolResources } : {}),
      ...(params.metadata !== undefined ? { metadata: params.metadata ?? {} } : {}),
    });
    if (!updated) throw new NotFoundError(`No thread found with id '${thread.id}'.`, { param: 'thread_id' });
    return toWireThread(updated, version);
  });

  app.delete<ThreadParams>('/v1/threads/:thread_id', async (request): Promise<ThreadDeleted> => {
    assistantsVersion(request);
    const id = request.params.thread_id;
    if (!(await repositories.threads.delete(request.principal!.workspaceId, id))) {
      throw new NotFoundError(`No thread found with id '${id}'.`, { param: 'thread_id' });
    }
    return { id, object: 'thread.deleted', deleted: true };
  });
}
