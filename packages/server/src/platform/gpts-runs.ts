// Every GPT as an assistant: its id (`g-…`, or `g-…:draft` for its builder's preview) is a valid
// `assistant_id` in runs for whoever may chat with it, in their own threads. The run takes the
// latest published version's configuration, as a run takes an assistant's, and the thread is
// recorded as a conversation with the GPT under the builder's training choice.

import { parseGptAssistantId } from '@atelier/protocol';
import type { ExternalAssistants } from '../engine/run-engine.js';
import type { Assistant } from '../storage/repositories/assistants-repository.js';
import type { GptsService } from './gpts-service.js';

export function gptAssistants(gpts: GptsService): ExternalAssistants {
  return {
    async find({ workspaceId, accountId, assistantId }) {
      const reference = parseGptAssistantId(assistantId);
      if (!reference) return null;
      const viewer = await gpts.viewer({ accountId, workspaceId });
      const target = await gpts.chatTarget({ viewer, gptId: reference.gptId, draft: reference.draft });
      if (!target) return null;
      const { config, gpt } = target;
      const assistant: Assistant = {
        id: assistantId,
        workspaceId: gpt.workspaceId,
        createdAt: gpt.createdAt,
        name: config.name,
        description: config.description,
        model: config.model,
        instructions: config.instructions,
        tools: config.tools,
        // Knowledge is searched in the GPT's workspace: a run in another workspace does not reach
        // it (the run engine searches the run's own workspace). See docs/architecture/gpts.md.
        toolResources: gpt.workspaceId === workspaceId ? config.toolResources : {},
        fileIds: [],
        metadata: {},
        temperature: config.temperature,
        topP: config.topP,
        responseFormat: config.responseFormat,
      };
      return {
        assistant,
        onRunCreated: async (run, trx) => {
          await trx.gpts.recordConversation({
            gptId: gpt.id,
            conversation: { kind: 'thread', id: run.threadId },
            accountId,
            workspaceId: run.workspaceId,
            version: target.version,
            allowTraining: target.allowTraining,
          });
        },
      };
    },
  };
}
