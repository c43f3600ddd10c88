// Domain → wire for assistants and their v1 files.
import type { AssistantV1, AssistantV2, AssistantFile as WireAssistantFile } from '@atelier/protocol';
import type { Assistant, AssistantFile } from '../storage/repositories/assistants-repository.js';
import type { AssistantsVersion } from './assistants-version.js';
import {
  toWireResponseFormat,
  toWireToolResources,
  toWireToolsV1,
  toWireToolsV2,
} from './to-wire-assistant-options.js';

export function toWireAssistant(assistant: Assistant, version: AssistantsVersion): AssistantV1 | AssistantV2 {
  const base = {
    id: assistant.id,
    object: 'assistant' as const,
    created_at: assistant.createdAt,
    name: assistant.name,
    description: assistant.description,
    model: assistant.model,
    instructions: assistant.instructions,
    metadata: { ...assistant.metadata },
  };
  if (version === 'v1')
    return { ...base, tools: toWireToolsV1(assistant.tools), file_ids: [...assistant.fileIds] };
  // v1 files of an assistant reach its code interpreter in v2, as OpenAI migrated them.
  const codeFiles = [
    ...new Set([...(assistant.toolResources.codeInterpreter?.fileIds ?? []), ...assistant.fileIds]),
  ];
  return {
    ...base,
    tools: toWireToolsV2(assistant.tools),
    tool_resources: toWireToolResources({
      ...assistant.toolResources,
      ...(codeFiles.length > 0 || assistant.toolResources.codeInterpreter
        ? { codeInterpreter: { fileIds: codeFiles } }
        : {}),
    }),
    temperature: assistant.temperature,
    top_p: assistant.topP,
    response_format: toWireResponseFormat(assistant.responseFormat),
  };
}

export function toWireAssistantFile(file: AssistantFile): WireAssistantFile {
  return {
    id: file.fileId,
    object: 'assistant.file',
    created_at: file.createdAt,
    assistant_id: file.assistantId,
  };
}
