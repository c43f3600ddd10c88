// /v1/assistants/{assistant_id}/files: the v1-only way to attach files to an assistant (v2 uses
// tool_resources instead and refuses these with `invalid_beta`).
import { AssistantFileCreateParams, type AssistantFileDeleted, CursorPageParams } from '@atelier/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkFiles } from '../../engine/assistant-checks.js';
import { NotFoundError } from '../../errors.js';
import { requireV1 } from '../assistants-version.js';
import { parseParams } from '../parse-params.js';
import { toWireAssistantFile } from '../to-wire-assistant.js';
import { toWirePage } from '../to-wire-files.js';
import type { AssistantsRouteServices } from './assistants-route-services.js';

type AssistantParams = { Params: { assistant_id: string } };
type AssistantFileParams = { Params: { assistant_id: string; file_id: string } };

const WHAT = 'Assistant files';

export function registerAssistantsFiles(
  app: FastifyInstance,
  { repositories }: AssistantsRouteServices,
): void {
  const findAssistant = async (request: FastifyRequest<AssistantParams>) => {
    requireV1(request, WHAT);
    const id = request.params.assistant_id;
    const assistant = await repositories.assistants.find(request.principal!.workspaceId, id);
    if (!assistant) throw new NotFoundError(`No assistant found with id '${id}'.`, { param: 'assistant_id' });
    return assistant;
  };
  const fileNotFound = (request: FastifyRequest<AssistantFileParams>) =>
    new NotFoundError(
      `No file found with id '${request.params.file_id}' on assistant '${request.params.assistant_id}'.`,
      { param: 'file_id' },
    );

  app.post<AssistantParams>('/v1/assistants/:assistant_id/files', async (request) => {
    const assistant = await findAssistant(request);
    const params = parseParams(AssistantFileCreateParams, request.body);
    await checkFiles(repositories, {
      workspaceId: request.principal!.workspaceId,
      fileIds: [params.file_id],
      param: 'file_id',
    });
    return toWireAssistantFile(
      await repositories.assistants.addFile({ assistantId: assistant.id, fileId: params.file_id }),
    );
  });

  app.get<AssistantParams>('/v1/assistants/:assistant_id/files', async (request) => {
    const assistant = await findAssistant(request);
    const query = CursorPageParams.parse(request.query ?? {});
    return toWirePage(
      await repositories.assistants.listFiles({ assistantId: assistant.id, ...query }),
      toWireAssistantFile,
    );
  });

  app.get<AssistantFileParams>('/v1/assistants/:assistant_id/files/:file_id', async (request) => {
    const assistant = await findAssistant(request);
    const file = await repositories.assistants.findFile({
      assistantId: assistant.id,
      fileId: request.params.file_id,
    });
    if (!file) throw fileNotFound(request);
    return toWireAssistantFile(file);
  });

  app.delete<AssistantFileParams>(
    '/v1/assistants/:assistant_id/files/:file_id',
    async (request): Promise<AssistantFileDeleted> => {
      const assistant = await findAssistant(request);
      if (
        !(await repositories.assistants.removeFile({
          assistantId: assistant.id,
          fileId: request.params.file_id,
        }))
      ) {
        throw fileNotFound(request);
      }
      return { id: request.params.file_id, object: 'assistant.file.deleted', deleted: true };
    },
  );
}
