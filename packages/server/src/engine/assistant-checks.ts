// Checks on what assistants, threads, messages and runs refer to, beyond their shape: the model
// exists and can do what is asked, function names are usable, and every file and vector store
// exists in the caller's workspace (an unknown id is a 404, whoever else may own it).

import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { LanguageModel, ModelInfo } from '../inference/spec.js';
import type {
  AssistantTool,
  Attachment,
  ResponseFormatOption,
  ToolResources,
} from '../storage/assistants-domain.js';
import type { Repositories } from '../storage/repositories.js';
import { RESERVED_FUNCTION_NAMES } from './run-tools.js';

/** The slice of the model registry the engine needs. */
export interface ModelLookup {
  find(id: string): ModelInfo | undefined;
  languageModel(id: string): LanguageModel;
}

export function checkModel(
  models: ModelLookup,
  id: string,
  { param = 'model' }: { param?: string } = {},
): ModelInfo {
  const info = models.find(id);
  if (!info?.capabilities.chat) {
    throw new InvalidRequestError(`The requested model '${id}' does not exist.`, {
      param,
      code: 'model_not_found',
    });
  }
  return info;
}

export function checkTools(
  tools: readonly AssistantTool[],
  { model = undefined, param = 'tools' }: { model?: ModelInfo | undefined; param?: string } = {},
): void {
  const names = new Set<string>();
  const kinds = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    if (tool.type !== 'function') {
      if (kinds.has(tool.type)) {
        throw new InvalidRequestError(`The ${tool.type} tool is listed twice.`, {
          param: `${param}[${index}]`,
        });
      }
      kinds.add(tool.type);
      continue;
    }
    const name = tool.function.name;
    if (RESERVED_FUNCTION_NAMES.has(name)) {
      throw new InvalidRequestError(
        `The function name '${name}' is reserved for the built-in ${name} tool: choose another name.`,
        { param: `${param}[${index}].function.name` },
      );
    }
    if (names.has(name)) {
      throw new InvalidRequestError(`Duplicate function name '${name}'.`, {
        param: `${param}[${index}].function.name`,
      });
    }
    names.add(name);
  }
  if (model && tools.length > 0 && !model.capabilities.tools) {
    throw new InvalidRequestError(`The model \`${model.id}\` does not support tools.`, { param });
  }
}

export function checkResponseFormat(
  format: ResponseFormatOption,
  { model, param = 'response_format' }: { model: ModelInfo; param?: string },
): void {
  if (typeof format === 'string' || format.type === 'text') return;
  if (!model.capabilities.json) {
    throw new InvalidRequestError(
      `The model \`${model.id}\` does not support '${format.type}' response formats.`,
      {
        param,
      },
    );
  }
}

/** Every id must name a file of the workspace. */
export async function checkFiles(
  repositories: Pick<Repositories, 'files'>,
  { workspaceId, fileIds, param }: { workspaceId: string; fileIds: readonly string[]; param: string },
): Promise<void> {
  if (fileIds.length === 0) return;
  const found = new Set(
    (await repositories.files.findMany(workspaceId, [...new Set(fileIds)])).map((file) => file.id),
  );
  const index = fileIds.findIndex((id) => !found.has(id));
  if (index >= 0) {
    throw new NotFoundError(`No file found with id '${fileIds[index]}'.`, { param: `${param}[${index}]` });
  }
}

export async function checkVectorStores(
  repositories: Pick<Repositories, 'vectorStores'>,
  { workspaceId, ids, param }: { workspaceId: string; ids: readonly string[]; param: string },
): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set(
    (await repositories.vectorStores.findMany(workspaceId, [...new Set(ids)])).map((store) => store.id),
  );
  const index = ids.findIndex((id) => !found.has(id));
  if (index >= 0) {
    throw new NotFoundError(`No vector store found with id '${ids[index]}'.`, {
      param: `${param}[${index}]`,
    });
  }
}

export async function checkToolResources(
  repositories: Pick<Repositories, 'files' | 'vectorStores'>,
  {
    workspaceId,
    resources,
    param = 'tool_resources',
  }: { workspaceId: string; resources: ToolResources; param?: string },
): Promise<void> {
  await checkFiles(repositories, {
    workspaceId,
    fileIds: resources.codeInterpreter?.fileIds ?? [],
    param: `${param}.code_interpreter.file_ids`,
  });
  await checkVectorStores(repositories, {
    workspaceId,
    ids: resources.fileSearch?.vectorStoreIds ?? [],
    param: `${param}.file_search.vector_store_ids`,
  });
}

export async function checkAttachments(
  repositories: Pick<Repositories, 'files'>,
  {
    workspaceId,
    attachments,
    param,
  }: { workspaceId: string; attachments: readonly Attachment[]; param: string },
): Promise<void> {
  await checkFiles(repositories, {
    workspaceId,
    fileIds: attachments.map((attachment) => attachment.fileId),
    param,
  });
}
