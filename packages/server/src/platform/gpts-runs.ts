// Every GPT as an assistant: its id (`g-…`, or `g-…:draft` for its builder's preview) is a valid
// `assistant_id` in runs for whoever may chat with it, in their own threads. The run takes the
// latest published version's configuration, as a run takes an assistant's, and the thread is
// recorded as a conversation with the GPT under the builder's training choice. When the run
// executes, the GPT brings what chat completions give it too (gpt-server-tools.ts): its knowledge
// searched in its own workspace whoever runs it, browsing, and its actions, called for the person
// who created the run after their consent.

import { parseGptAssistantId } from '@atelier/protocol';
import type { ExternalAssistants } from '../engine/run-engine.js';
import type { Assistant } from '../storage/repositories/assistants-repository.js';
import type { BuiltInTools } from '../tools/spec.js';
import type { ActionsService } from './actions-service.js';
import { gptServerTools } from './gpt-server-tools.js';
import type { GptChatTarget, GptsService } from './gpts-service.js';

export interface GptAssistantsOptions {
  readonly gpts: GptsService;
  readonly tools: BuiltInTools;
  /** GPT actions (absent: runs offer none). */
  readonly actions?: ActionsService | undefined;
}

export function gptAssistants({
  gpts,
  tools,
  actions = undefined,
}: GptAssistantsOptions): ExternalAssistants {
  /** The GPT behind an assistant id, as this caller may chat with it (null: not a GPT, or not theirs). */
  async function targetOf({
    workspaceId,
    accountId,
    assistantId,
  }: {
    workspaceId: string;
    accountId: string | null;
    assistantId: string;
  }): Promise<GptChatTarget | null> {
    const reference = parseGptAssistantId(assistantId);
    if (!reference) return null;
    const viewer = await gpts.viewer({ accountId, workspaceId });
    return gpts.chatTarget({ viewer, gptId: reference.gptId, draft: reference.draft });
  }

  const serverTools = (target: GptChatTarget, accountId: string | null) =>
    gptServerTools({
      target,
      tools,
      actions: actions ? { service: actions, accountId } : undefined,
      // The run executor offers them only to a model that calls tools.
      callsTools: true,
      taken: ['file_search', 'code_interpreter'],
    });

  return {
    async find({ workspaceId, accountId, assistantId }) {
      const target = await targetOf({ workspaceId, accountId, assistantId });
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
        // The GPT's own stores, in its workspace: the run searches them there (toolset below).
        toolResources: config.toolResources,
        fileIds: [],
        metadata: {},
        temperature: config.temperature,
        topP: config.topP,
        responseFormat: config.responseFormat,
      };
      const server = await serverTools(target, accountId);
      return {
        assistant,
        serverFunctionNames: server.definitions.map((definition) => definition.name),
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

    async toolset({ run }) {
      // Asked again as the run executes: a GPT no longer shared with its caller brings nothing.
      const target = await targetOf({
        workspaceId: run.workspaceId,
        accountId: run.accountId,
        assistantId: run.assistantId,
      });
      if (!target) return null;
      const server = await serverTools(target, run.accountId);
      return {
        resourcesWorkspaceId: target.gpt.workspaceId,
        instructions: server.instructions,
        functions: server,
      };
    },
  };
}
