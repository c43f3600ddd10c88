// /v1/threads/{thread_id}/runs/{run_id}/steps: what a run did, step by step.
import { CursorPageParams } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, NotFoundError } from '../../errors.js';
import { assistantsVersion } from '../assistants-version.js';
import { toWirePage } from '../to-wire-files.js';
import { FILE_SEARCH_CONTENT_INCLUDE, type RunStepWireOptions, toWireRunStep } from '../to-wire-run-step.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type RunParams = { Params: { thread_id: string; run_id: string } };
type StepParams = { Params: { thread_id: string; run_id: string; step_id: string } };

export function registerThreadsRunsSteps(
  app: FastifyInstance,
  { repositories }: AssistantsRouteServices,
): void {
  const findRun = async (workspaceId: string, threadId: string, runId: string) => {
    if (!(await repositories.threads.find(workspaceId, threadId))) {
      throw new NotFoundError(`No thread found with id '${threadId}'.`, { param: 'thread_id' });
    }
    const run = await repositories.runs.find(workspaceId, threadId, runId);
    if (!run) throw new NotFoundError(`No run found with id '${runId}'.`, { param: 'run_id' });
    return run;
  };

  app.get<RunParams>('/v1/threads/:thread_id/runs/:run_id/steps', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const run = await findRun(workspaceId, request.params.thread_id, request.params.run_id);
    const query = CursorPageParams.parse(request.query ?? {});
    const page = await repositories.runSteps.list({
      workspaceId,
      threadId: run.threadId,
      runId: run.id,
      ...query,
    });
    const options = includeOptions(request.query);
    return toWirePage(page, (step) => toWireRunStep(step, version, options));
  });

  app.get<StepParams>('/v1/threads/:thread_id/runs/:run_id/steps/:step_id', async (request) => {
    const workspaceId = request.principal!.workspaceId;
    const run = await findRun(workspaceId, request.params.thread_id, request.params.run_id);
    const step = await repositories.runSteps.find(workspaceId, run.threadId, run.id, request.params.step_id);
    if (!step)
      throw new NotFoundError(`No run step found with id '${request.params.step_id}'.`, { param: 'step_id' });
    return toWireRunStep(step, assistantsVersion(request), includeOptions(request.query));
  });
}

/** `include[]` (or `include`): the one value OpenAI supports, or a 400 naming what is not. */
function includeOptions(query: unknown): RunStepWireOptions {
  const raw = (query ?? {}) as Record<string, unknown>;
  const given = [raw['include[]'], raw['include']].flat().filter((value) => value !== undefined);
  for (const value of given) {
    if (value !== FILE_SEARCH_CONTENT_INCLUDE) {
      throw new InvalidRequestError(
        `Invalid value for 'include': ${JSON.stringify(value)}. The only supported value is '${FILE_SEARCH_CONTENT_INCLUDE}'.`,
        { param: 'include' },
      );
    }
  }
  return { fileSearchContent: given.length > 0 };
}
