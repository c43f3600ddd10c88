// The web app's GPT builder and GPT pages under /api/gpts: create, edit the draft (autosave),
// keep the builder's Create conversation, publish, share (visibility, link, training choice,
// category), list, open by id or by share link, delete, and the avatar. Signed in with the session cookie (CSRF checked on changes) like
// every /api route; reading a GPT also works signed out, for what anonymous visitors may see.
// See docs/architecture/gpts.md.
import {
  type GptBuilderChat,
  GptBuilderChatParams,
  GptCreateParams,
  type GptDeleted,
  GptDraftParams,
  GptListParams,
  GptShareParams,
  type GptBuilderChatMessage as WireBuilderChatMessage,
} from '@atelier/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ANONYMOUS, type GptViewer } from '../../platform/gpts-permissions.js';
import type { GptDraftChanges, GptSharingChanges, GptsService } from '../../platform/gpts-service.js';
import type { SessionService } from '../../platform/sessions.js';
import type {
  GptBuilderChatMessage,
  GptBuilderChat as StoredBuilderChat,
} from '../../storage/repositories/gpts-repository.js';
import { createSessionHook, requireSession } from '../auth.js';
import { acceptEmptyJsonBodies } from '../empty-json-body.js';
import { parseParams } from '../parse-params.js';
import { toWireGpt, toWireGptForEditor, toWireGptVersion } from '../to-wire-gpt.js';

interface GptRoute {
  Params: { gpt_id: string };
}

const EmptyParams = z.strictObject({});

export async function registerApiGpts(
  app: FastifyInstance,
  { sessions, gpts }: { sessions: SessionService; gpts: GptsService },
): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', createSessionHook({ sessions }));
    api.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    acceptEmptyJsonBodies(api);

    /** The person behind the session, or an anonymous visitor. */
    const viewerOf = async (request: FastifyRequest): Promise<GptViewer> => {
      const active = request.webSession;
      if (!active) return ANONYMOUS;
      return gpts.viewer({
        accountId: active.session.accountId,
        workspaceId: active.workspaceRole ? active.session.workspaceId : null,
      });
    };

    api.get('/api/gpts', async (request) => {
      const query = parseParams(GptListParams, request.query);
      const viewer = await viewerOf(request);
      if (query.scope === 'mine') requireSession(request);
      const page = await gpts.list({ viewer, ...query });
      const data = page.data.map(toWireGpt);
      return {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: page.hasMore,
      };
    });

    api.post('/api/gpts', async (request, reply) => {
      const { session } = requireSession(request);
      const params = parseParams(GptCreateParams, request.body);
      const seen = await gpts.create({
        viewer: await viewerOf(request),
        workspaceId: params.workspace_id ?? session.workspaceId,
        draft: fromWireDraft(params),
        sharing: fromWireSharing(params),
      });
      return reply.code(201).send(toWireGptForEditor(seen));
    });

    api.get<{ Params: { token: string } }>('/api/gpts/shared/:token', async (request) => {
      const seen = await gpts.getByLinkToken({
        viewer: await viewerOf(request),
        token: request.params.token,
      });
      return toWireGpt(seen);
    });

    api.get<GptRoute>('/api/gpts/:gpt_id', async (request) => {
      return toWireGpt(await gpts.get({ viewer: await viewerOf(request), gptId: request.params.gpt_id }));
    });

    api.patch<GptRoute>('/api/gpts/:gpt_id', async (request) => {
      requireSession(request);
      const params = parseParams(GptDraftParams, request.body);
      const seen = await gpts.updateDraft({
        viewer: await viewerOf(request),
        gptId: request.params.gpt_id,
        changes: fromWireDraft(params),
      });
      return toWireGptForEditor(seen);
    });

    api.patch<GptRoute>('/api/gpts/:gpt_id/sharing', async (request) => {
      requireSession(request);
      const params = parseParams(GptShareParams, request.body);
      const seen = await gpts.updateSharing({
        viewer: await viewerOf(request),
        gptId: request.params.gpt_id,
        changes: fromWireSharing(params),
      });
      return toWireGptForEditor(seen);
    });

    api.post<GptRoute>('/api/gpts/:gpt_id/link', async (request) => {
      requireSession(request);
      parseParams(EmptyParams, request.body);
      const seen = await gpts.rotateLink({ viewer: await viewerOf(request), gptId: request.params.gpt_id });
      return toWireGptForEditor(seen);
    });

    api.post<GptRoute>('/api/gpts/:gpt_id/publish', async (request) => {
      requireSession(request);
      parseParams(EmptyParams, request.body);
      const seen = await gpts.publish({ viewer: await viewerOf(request), gptId: request.params.gpt_id });
      return toWireGptForEditor(seen);
    });

    api.get<GptRoute>('/api/gpts/:gpt_id/versions', async (request) => {
      requireSession(request);
      const versions = await gpts.versions({ viewer: await viewerOf(request), gptId: request.params.gpt_id });
      return { object: 'list', data: versions.map(toWireGptVersion), has_more: false };
    });

    // The builder's Create conversation, kept with the draft: only its builders read or write it.
    api.get<GptRoute>('/api/gpts/:gpt_id/builder-chat', async (request) => {
      requireSession(request);
      const chat = await gpts.builderChat({ viewer: await viewerOf(request), gptId: request.params.gpt_id });
      return toWireBuilderChat(chat);
    });

    api.put<GptRoute>('/api/gpts/:gpt_id/builder-chat', async (request) => {
      requireSession(request);
      const params = parseParams(GptBuilderChatParams, request.body);
      const chat = await gpts.saveBuilderChat({
        viewer: await viewerOf(request),
        gptId: request.params.gpt_id,
        messages: params.messages.map(fromWireBuilderMessage),
      });
      return toWireBuilderChat(chat);
    });

    api.get<GptRoute>('/api/gpts/:gpt_id/avatar', async (request, reply) => {
      const { file, stream } = await gpts.avatar({
        viewer: await viewerOf(request),
        gptId: request.params.gpt_id,
      });
      // Only images are shown inline; anything else is a download, never rendered as a page.
      const image = /^image\/(png|jpeg|gif|webp)$/.test(file.contentType ?? '');
      return reply
        .header('content-type', image ? file.contentType! : 'application/octet-stream')
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', image ? 'inline' : 'attachment')
        .send(stream);
    });

    api.delete<GptRoute>('/api/gpts/:gpt_id', async (request) => {
      requireSession(request);
      await gpts.delete({ viewer: await viewerOf(request), gptId: request.params.gpt_id });
      const deleted: GptDeleted = { id: request.params.gpt_id, object: 'gpt.deleted', deleted: true };
      return deleted;
    });
  });
}

function fromWireDraft(params: GptDraftParams): GptDraftChanges {
  return {
    name: params.name,
    description: params.description,
    instructions: params.instructions,
    model: params.model,
    avatarFileId: params.avatar_file_id,
    conversationStarters: params.conversation_starters,
    capabilities: params.capabilities
      ? {
          browsing: params.capabilities.browsing,
          imageGeneration: params.capabilities.image_generation,
          codeInterpreter: params.capabilities.code_interpreter,
        }
      : undefined,
    knowledgeFileIds: params.knowledge_file_ids,
    actionIds: params.action_ids,
  };
}

function fromWireSharing(params: GptShareParams): GptSharingChanges {
  return {
    visibility: params.visibility,
    category: params.category,
    allowTraining: params.allow_training,
  };
}

type WireBuilderChange = NonNullable<Extract<WireBuilderChatMessage, { role: 'tool' }>['changes']>[number];

function fromWireBuilderMessage(message: WireBuilderChatMessage): GptBuilderChatMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        toolCalls: (message.tool_calls ?? []).map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        })),
      };
    case 'tool':
      return {
        role: 'tool',
        toolCallId: message.tool_call_id,
        content: message.content,
        changes: message.changes ?? [],
      };
  }
}

function toWireBuilderMessage(message: GptBuilderChatMessage): WireBuilderChatMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return {
        role: 'tool',
        tool_call_id: message.toolCallId,
        content: message.content,
        ...(message.changes.length > 0
          ? {
              changes: message.changes.map((change) => ({
                // Stored only after the wire's check: one of GPT_BUILDER_FIELDS.
                field: change.field as WireBuilderChange['field'],
                value: change.value,
              })),
            }
          : {}),
      };
  }
}

function toWireBuilderChat(chat: StoredBuilderChat): GptBuilderChat {
  return {
    object: 'gpt.builder_chat',
    gpt_id: chat.gptId,
    messages: chat.messages.map(toWireBuilderMessage),
    updated_at: chat.updatedAt,
  };
}
