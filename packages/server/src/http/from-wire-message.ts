// Wire → domain for messages posted to threads: v1 text with `file_ids` (files both built-in
// tools may use), v2 text or content parts with `attachments`.
import type {
  MessageContentPartParam,
  MessageCreateParamsV1,
  MessageCreateParamsV2,
} from '@atelier/protocol';
import type { NewMessage } from '../engine/run-engine.js';
import type { MessageContent } from '../storage/assistants-domain.js';

export function fromWireMessageV1(params: MessageCreateParamsV1): NewMessage {
  return {
    role: params.role,
    content: [{ type: 'text', text: params.content, annotations: [] }],
    attachments: [...new Set(params.file_ids ?? [])].map((fileId) => ({
      fileId,
      tools: ['file_search', 'code_interpreter'],
    })),
    metadata: params.metadata ?? {},
  };
}

export function fromWireMessageV2(params: MessageCreateParamsV2): NewMessage {
  const content: MessageContent[] =
    typeof params.content === 'string'
      ? [{ type: 'text', text: params.content, annotations: [] }]
      : params.content.map(fromWirePart);
  return {
    role: params.role,
    content,
    attachments: (params.attachments ?? []).map((attachment) => ({
      fileId: attachment.file_id,
      tools: [...new Set((attachment.tools ?? []).map((tool) => tool.type))],
    })),
    metadata: params.metadata ?? {},
  };
}

function fromWirePart(part: MessageContentPartParam): MessageContent {
  if (part.type === 'text') return { type: 'text', text: part.text, annotations: [] };
  if (part.type === 'image_file') {
    return {
      type: 'image_file',
      fileId: part.image_file.file_id,
      ...(part.image_file.detail ? { detail: part.image_file.detail } : {}),
    };
  }
  return {
    type: 'image_url',
    url: part.image_url.url,
    ...(part.image_url.detail ? { detail: part.image_url.detail } : {}),
  };
}
