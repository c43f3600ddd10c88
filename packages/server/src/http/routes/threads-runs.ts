// Runs: create on a thread or with a new thread (`POST /v1/threads/runs`), list, retrieve, modify
// metadata, submit tool outputs, cancel. `stream: true` answers with the run's Assistants events;
// otherwise the run is returned queued and executes in the background (poll it, with the
// `openai-poll-after-ms` hint the SDKs' *AndPoll helpers follow).
import {
  CursorPageParams,
  RunCreateParamsV1,
  RunCreateParamsV2,
  RunSubmitToolOutputsParams,
  RunUpdateParams,
  ThreadCreateAndRunParamsV1,
  ThreadCreateAndRunParamsV2,
} from '@atelier/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RunStart } from '../../engine/run-engine.js';
import { NotFoundError } from '../../errors.js';
import type { Run } from '../../storage/repositories/runs-repository.js';
import { type AssistantsVersion, assistantsVersion } from '../assistants-version.js';
import { fromWireToolResources } from '../from-wire-assistant-options.js';
import { fromWireMessageV1, fromWireMessageV2 } from '../from-wire-message.js';
import { fromWireRunOptions } from '../from-wire-run.js';
import { parseParams } from '../parse-params.js';
import { streamRunEvents } from '../stream-run-events.js';
import { toWirePage } from '../to-wire-files.js';
import { toWireRun } from '../to-wire-run.js';
import { toWireThread } from '../to-wire-thread.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';
import { fromWireThread } from './threads.js';

type ThreadParams = { Params: { thread_id: string } };
type RunParams = { Params: { thread_id: string; run_id: string } };

export function registerThreadsRuns(app: FastifyInstance, services: AssistantsRouteServices): void {
  const { repositories, engine, tools, pollAfterMs = 200 } = services;

  const pollHint = (reply: FastifyReply, run: Run) => {
    if (run.status === 'queued' || run.status === 'in_progress' || run.status === 'cancelling') {
      void reply.header('openai-poll-after-ms', String(pollAfterMs));
    }
  };

  const findRun = async (workspaceId: string, threadId: string, runId: string) => {
    if (!(await repositories.threads.find(workspaceId, threadId))) {
      throw new NotFoundError(`No thread found with id '${threadId}'.`, { param: 'thread_id' });
    }
    const run = await repositories.runs.find(workspaceId, threadId, runId);
    if (!run) throw new NotFoundError(`No run found with id '${runId}'.`, { param: 'run_id' });
    return run;
  };

  /** A started run: streamed, or answered as it is now. */
  const answer = async (
    reply: FastifyReply,
    version: AssistantsVersion,
    started: RunStart,
    prelude: Parameters<typeof streamRunEvents>[0]['prelude'] = [],
  ) => {
    if (started.events) {
      await streamRunEvents({ reply, version, events: started.events, prelude });
      return reply;
    }
    pollHint(reply, started.run);
    return toWireRun(started.run, version);
  };

  app.post('/v1/threads/runs', async (request, reply) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const params =
      version === 'v1'
        ? parseParams(ThreadCreateAndRunParamsV1, request.body)
        : parseParams(ThreadCreateAndRunParamsV2, request.body);
    let thread = await fromWireThread(params.thread, { version, workspaceId, tools });
    if ('tool_resources' in params && params.tool_resources) {
      // The request's own tool_resources are the new thread's (they win over `thread.tool_resources`).
      const resources = await fromWireToolResources(params.tool_resources, {
        workspaceId,
        fileSearch: tools.fileSearch,
      });
      thread = { ...thread, toolResources: { ...thread.toolResources, ...resources } };
    }
    const started = await engine.createThreadAndRun({
      workspaceId,
      assistantId: params.assistant_id,
      accountId: request.principal!.accountId,
      apiKeyId: request.principal!.apiKeyId,
      thread,
      options: fromWireRunOptions(params),
      stream: params.stream === true,
    });
    return answer(reply, version, started, [
      { event: 'thread.created', data: toWireThread(started.thread, version) },
    ]);
  });

  app.post<ThreadParams>('/v1/threads/:thread_id/runs', async (request, reply) => {
    const version = assistantsVersion(request);
    const params =
      version === 'v1'
        ? parseParams(RunCreateParamsV1, request.body)
        : parseParams(RunCreateParamsV2, request.body);
    const additionalMessages =
      version === 'v1'
        ? ((params as RunCreateParamsV1).additional_messages ?? []).map(fromWireMessageV1)
        : ((params as RunCreateParamsV2).additional_messages ?? []).map(fromWireMessageV2);
    const started = await engine.createRun({
      workspaceId: request.principal!.workspaceId,
      threadId: request.params.thread_id,
      assistantId: params.assistant_id,
      accountId: request.principal!.accountId,
      apiKeyId: request.principal!.apiKeyId,
      options: fromWireRunOptions(params),
      additionalMessages,
      stream: params.stream === true,
    });
    return answer(reply, version, started);
  });

  app.get<ThreadParams>('/v1/threads/:thread_id/runs', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const threadId = request.params.thread_id;
    if (!(await repositories.threads.find(workspaceId, threadId))) {
      throw new NotFoundError(`No thread found with id '${threadId}'.`, { param: 'thread_id' });
    }
    const query = CursorPageParams.parse(request.query ?? {});
    const page = await repositories.runs.list({ workspaceId, threadId, ...query });
    return toWirePage(page, (run) => toWireRun(run, version));
  });

  app.get<RunParams>('/v1/threads/:thread_id/runs/:run_id', async (request, reply) => {
    const run = await findRun(
      request.principal!.workspaceId,
      request.params.thread_id,
      request.params.run_id,
    );
    pollHint(reply, run);
    return toWireRun(run, assistantsVersion(request));
  });

  app.post<RunParams>('/v1/threads/:thread_id/runs/:run_id', async (request) => {
    const version = assistantsVersion(request);
    const run = await findRun(
      request.principal!.workspaceId,
      request.params.thread_id,
      request.params.run_id,
    );
    const params = parseParams(RunUpdateParams, request.body);
    if (params.metadata === undefined) return toWireRun(run, version);
    const updated = await repositories.runs.updateMetadata(
      run.workspaceId,
      run.threadId,
      run.id,
      params.metadata ?? {},
    );
    return toWireRun(updated ?? run, version);
  });

  app.post<RunParams>('/v1/threads/:thread_id/runs/:run_id/submit_tool_outputs', async (request, reply) => {
    const version = assistantsVersion(request);
    const params = parseParams(RunSubmitToolOutputsParams, request.body);
    const started = await engine.submitToolOutputs({
      workspaceId: request.principal!.workspaceId,
      threadId: request.params.thread_id,
      runId: request.params.run_id,
      outputs: params.tool_outputs.map((output) => ({
        toolCallId: output.tool_call_id,
        output: output.output ?? '',
      })),
      stream: params.stream === true,
    });
    return answer(reply, version, started);
  });

  app.post<RunParams>('/v1/threads/:thread_id/runs/:run_id/cancel', async (request, reply) => {
    const run = await engine.cancelRun({
      workspaceId: request.principal!.workspaceId,
      threadId: request.params.thread_id,
      runId: request.params.run_id,
    });
    pollHint(reply, run);
    return toWireRun(run, assistantsVersion(request));
  });
}
