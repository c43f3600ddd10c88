// GPTs as the web app's /api sends them: the builder's view (`object: "gpt"`: draft, published
// version, sharing, link, usage counts) or a user's (`object: "gpt.view"`: the published face
// only, never instructions, model, knowledge or actions).
import {
  type Gpt,
  type GptConfig,
  type GptPermissions,
  type GptVersionSummary,
  type GptView,
  gptModelName,
} from '@atelier/protocol';
import type { GptAccess } from '../platform/gpts-permissions.js';
import type { GptSeen } from '../platform/gpts-service.js';
import type {
  GptConfig as DomainGptConfig,
  GptCapabilitySet,
  GptVersion,
} from '../storage/repositories/gpts-repository.js';

/** The builder's shape to those who may edit, the user's shape to everyone else. */
export function toWireGpt(seen: GptSeen): Gpt | GptView {
  return seen.editor ? toWireGptForEditor(seen) : toWireGptView(seen);
}

export function toWireGptForEditor(seen: GptSeen): Gpt {
  const { gpt } = seen;
  const draft = toWireConfig(gpt.draft);
  const published = gpt.published
    ? {
        ...toWireConfig(gpt.published.config),
        version: gpt.published.version,
        published_at: gpt.published.publishedAt,
      }
    : null;
  return {
    id: gpt.id,
    object: 'gpt',
    workspace_id: gpt.workspaceId,
    builder: { id: gpt.builderAccountId, name: gpt.builderName },
    created_at: gpt.createdAt,
    updated_at: gpt.updatedAt,
    visibility: gpt.visibility,
    category: gpt.category,
    allow_training: gpt.allowTraining,
    link_token: seen.editor?.linkToken ?? '',
    model: gptModelName(gpt.id),
    draft: { ...draft, updated_at: gpt.updatedAt },
    published,
    has_unpublished_changes: published === null || !sameConfig(draft, toWireConfig(gpt.published!.config)),
    usage: { ...(seen.editor?.usage ?? { conversations: 0, users: 0 }) },
    permissions: toWirePermissions(seen.access),
  };
}

export function toWireGptView(seen: GptSeen): GptView {
  const { gpt } = seen;
  // Users see the latest published version; a builder looking at the public view sees it too,
  // or the draft's face while nothing is published.
  const face = gpt.published?.config ?? gpt.draft;
  return {
    id: gpt.id,
    object: 'gpt.view',
    name: face.name,
    description: face.description,
    avatar_file_id: face.avatarFileId,
    conversation_starters: [...face.conversationStarters],
    capabilities: toWireCapabilities(face.capabilities),
    category: gpt.category,
    visibility: gpt.visibility,
    builder: { name: gpt.builderName },
    version: gpt.published?.version ?? null,
    published_at: gpt.published?.publishedAt ?? null,
    model: gptModelName(gpt.id),
    permissions: toWirePermissions(seen.access),
  };
}

export function toWireGptVersion(version: GptVersion): GptVersionSummary {
  return {
    object: 'gpt.version',
    version: version.version,
    name: version.config.name,
    published_at: version.publishedAt,
    published_by: version.publishedBy,
  };
}

function toWireConfig(config: DomainGptConfig): GptConfig {
  return {
    name: config.name,
    description: config.description,
    instructions: config.instructions,
    model: config.model,
    avatar_file_id: config.avatarFileId,
    conversation_starters: [...config.conversationStarters],
    capabilities: toWireCapabilities(config.capabilities),
    knowledge_file_ids: [...config.knowledgeFileIds],
    action_ids: [...config.actionIds],
  };
}

function toWireCapabilities(capabilities: GptCapabilitySet) {
  return {
    browsing: capabilities.browsing,
    image_generation: capabilities.imageGeneration,
    code_interpreter: capabilities.codeInterpreter,
  };
}

function toWirePermissions(access: GptAccess): GptPermissions {
  return {
    view: access.view,
    chat: access.chat,
    edit: access.edit,
    see_instructions: access.seeInstructions,
  };
}

/** Knowledge and actions compare as sets: reordering them is not a change worth publishing. */
function sameConfig(left: GptConfig, right: GptConfig): boolean {
  const normalized = (config: GptConfig) =>
    JSON.stringify({
      ...config,
      knowledge_file_ids: [...config.knowledge_file_ids].sort(),
      action_ids: [...config.action_ids].sort(),
    });
  return normalized(left) === normalized(right);
}
