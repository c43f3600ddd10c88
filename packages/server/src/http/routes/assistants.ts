// /v1/assistants: create, list, retrieve, modify, delete, in the generation the OpenAI-Beta
// header asks for (v1: `file_ids`, `retrieval`; v2: `tool_resources`, `file_search`, sampling).
import {
  AssistantCreateParamsV1,
  AssistantCreateParamsV2,
  type AssistantDeleted,
  AssistantUpdateParamsV1,
  AssistantUpdateParamsV2,
  CursorPageParams,
} from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import {
  checkFiles,
  checkModel,
  checkResponseFormat,
  checkToolResources,
  checkTools,
} from '../../engine/assistant-checks.js';
import { NotFoundError } from '../../errors.js';
import type { ResponseFormatOption } from '../../storage/assistants-domain.js';
import type { AssistantUpdateParams } from '../../storage/repositories/assistants-repository.js';
import { assistantsVersion } from '../assistants-version.js';
import {
  fromWireResponseFormat,
  fromWireToolResources,
  fromWireTools,
} from '../from-wire-assistant-options.js';
import { parseParams } from '../parse-params.js';
import { toWireAssistant } from '../to-wire-assistant.js';
import { toWirePage } from '../to-wire-files.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type AssistantParams = { Params: { assistant_id: string } };

export function registerAssistants(app: FastifyInstance, services: AssistantsRouteServices): void {
  const { repositories, models, tools } = services;

  const findAssistant = async (workspaceId: string, id: string) => {
    const assistant = await repositories.assistants.find(workspaceId, id);
    if (!assistant) throw new NotFoundError(`No assistant found with id '${id}'.`, { param: 'assistant_id' });
    return assistant;
  };

  app.post('/v1/assistants', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const params =
      version === 'v1'
        ? parseParams(AssistantCreateParamsV1, request.body)
        : parseParams(AssistantCreateParamsV2, request.body);
    const model = checkModel(models, params.model);
    const assistantTools = fromWireTools(params.tools ?? []);
    checkTools(assistantTools, { model });
    const responseFormat: ResponseFormatOption =
      'response_format' in params && params.response_format
        ? fromWireResponseFormat(params.response_format)
        : 'auto';
    checkResponseFormat(responseFormat, { model });
    const fileIds = 'file_ids' in params ? (params.file_ids ?? []) : [];
    await checkFiles(repositories, { workspaceId, fileIds, param: 'file_ids' });
    const toolResources = await fromWireToolResources(
      'tool_resources' in params ? params.tool_resources : undefined,
      {
        workspaceId,
        fileSearch: tools.fileSearch,
      },
    );
    await checkToolResources(repositories, { workspaceId, resources: toolResources });
    const assistant = await repositories.assistants.create({
      workspaceId,
      name: params.name ?? null,
      description: params.description ?? null,
      model: model.id,
      instructions: params.instructions ?? null,
      tools: assistantTools,
      toolResources,
      fileIds,
      metadata: params.metadata ?? {},
      temperature: 'temperature' in params ? (params.temperature ?? null) : null,
      topP: 'top_p' in params ? (params.top_p ?? null) : null,
      responseFormat,
    });
    return toWireAssistant(assistant, version);
  });

  app.get('/v1/assistants', async (request) => {
    const version = assistantsVersion(request);
    const query = CursorPageParams.parse(request.query ?? {});
    const page = await repositories.assistants.list({
      workspaceId: request.principal!.workspaceId,
      ...query,
    });
    return toWirePage(page, (assistant) => toWireAssistant(assistant, version));
  });

  app.get<AssistantParams>('/v1/assistants/:assistant_id', async (request) => {
    const assistant = await findAssistant(request.principal!.workspaceId, request.params.assistant_id);
    return toWireAssistant(assistant, assistantsVersion(request));
  });

  app.post<AssistantParams>('/v1/assistants/:assistant_id', async (request) => {
    const version = assistantsVersion(request);
    const workspaceId = request.principal!.workspaceId;
    const current = await findAssistant(workspaceId, request.params.assistant_id);
    const params =
      version === 'v1'
        ? parseParams(AssistantUpdateParamsV1, request.body)
        : parseParams(AssistantUpdateParamsV2, request.body);
    const changes: { -readonly [Key in keyof AssistantUpdateParams]: AssistantUpdateParams[Key] } = {};
    // The model is checked when it changes; the current one may have left the registry since.
    const model = params.model !== undefined ? checkModel(models, params.model) : models.find(current.model);
    if (params.model !== undefined) changes.model = params.model;
    if (params.name !== undefined) changes.name = params.name;
    if (params.description !== undefined) changes.description = params.description;
    if (params.instructions !== undefined) changes.instructions = params.instructions;
    if (params.metadata !== undefined) changes.metadata = params.metadata ?? {};
    if (params.tools !== undefined) changes.tools = fromWireTools(params.tools);
    checkTools(changes.tools ?? current.tools, { model });
    if ('file_ids' in params && params.file_ids !== undefined) {
      await checkFiles(repositories, { workspaceId, fileIds: params.file_ids, param: 'file_ids' });
      changes.fileIds = params.file_ids;
    }
    if ('tool_resources' in params && params.tool_resources !== undefined) {
      changes.toolResources = await fromWireToolResources(params.tool_resources, {
        workspaceId,
        fileSearch: tools.fileSearch,
      });
      await checkToolResources(repositories, { workspaceId, resources: changes.toolResources });
    }
    if ('temperature' in params && params.temperature !== undefined) changes.temperature = params.temperature;
    if ('top_p' in params && params.top_p !== undefined) changes.topP = params.top_p;
    if ('response_format' in params && params.response_format !== undefined) {
      changes.responseFormat = params.response_format
        ? fromWireResponseFormat(params.response_format)
        : 'auto';
    }
    if (model) checkResponseFormat(changes.responseFormat ?? current.responseFormat, { model });
    const updated = await repositories.assistants.update(workspaceId, current.id, changes);
    if (!updated)
      throw new NotFoundError(`No assistant found with id '${current.id}'.`, { param: 'assistant_id' });
    return toWireAssistant(updated, version);
  });

  app.delete<AssistantParams>('/v1/assistants/:assistant_id', async (request): Promise<AssistantDeleted> => {
    assistantsVersion(request);
    const id = request.params.assistant_id;
    if (!(await repositories.assistants.delete(request.principal!.workspaceId, id))) {
      throw new NotFoundError(`No assistant found with id '${id}'.`, { param: 'assistant_id' });
    }
    return { id, object: 'assistant.deleted', deleted: true };
  });
}
