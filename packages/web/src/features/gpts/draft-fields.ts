// The builder's form state and what a save sends: the fields as the page holds them (starters
// may have empty rows being typed), and the PATCH body for the fields that changed.
import { type DraftChanges, GPT_LIMITS, type Gpt, type GptCapabilities } from './gpts-api';

export interface DraftFields {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  /** null: the server's default (a new GPT's, until one is chosen). */
  readonly model: string | null;
  readonly avatar_file_id: string | null;
  /** As typed, empty rows included; saves send the non-empty ones. */
  readonly conversation_starters: readonly string[];
  readonly capabilities: GptCapabilities;
  readonly knowledge_file_ids: readonly string[];
  readonly action_ids: readonly string[];
}

export type DraftKey = keyof DraftFields;

export const EMPTY_DRAFT: DraftFields = {
  name: '',
  description: '',
  instructions: '',
  model: null,
  avatar_file_id: null,
  conversation_starters: [],
  capabilities: { browsing: false, image_generation: false, code_interpreter: false },
  knowledge_file_ids: [],
  action_ids: [],
};

export function draftFromGpt(gpt: Gpt): DraftFields {
  const { draft } = gpt;
  return {
    name: draft.name,
    description: draft.description,
    instructions: draft.instructions,
    model: draft.model,
    avatar_file_id: draft.avatar_file_id,
    conversation_starters: draft.conversation_starters,
    capabilities: draft.capabilities,
    knowledge_file_ids: draft.knowledge_file_ids,
    action_ids: draft.action_ids,
  };
}

/** The starters a save sends: trimmed, non-empty, within the server's limits. */
export function startersToSave(starters: readonly string[]): string[] {
  return starters
    .map((starter) => starter.trim())
    .filter((starter) => starter !== '')
    .slice(0, GPT_LIMITS.conversationStarters);
}

/** The PATCH body for `keys` of `fields`. */
export function changesFor(fields: DraftFields, keys: Iterable<DraftKey>): DraftChanges {
  const changes: DraftChanges = {};
  for (const key of keys) {
    switch (key) {
      case 'conversation_starters':
        changes.conversation_starters = startersToSave(fields.conversation_starters);
        break;
      case 'model':
        if (fields.model !== null) changes.model = fields.model;
        break;
      case 'capabilities':
        changes.capabilities = { ...fields.capabilities };
        break;
      case 'avatar_file_id':
        changes.avatar_file_id = fields.avatar_file_id;
        break;
      case 'knowledge_file_ids':
        changes.knowledge_file_ids = [...fields.knowledge_file_ids];
        break;
      case 'action_ids':
        changes.action_ids = [...fields.action_ids];
        break;
      default:
        changes[key] = fields[key];
    }
  }
  return changes;
}
