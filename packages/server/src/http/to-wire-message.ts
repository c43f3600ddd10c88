// Domain → wire for messages, their v1 files, and streamed message deltas.
import type {
  AnnotationDelta,
  MessageDelta,
  MessageFile,
  MessageV1,
  MessageV2,
  Annotation as WireAnnotation,
} from '@atelier/protocol';
import type { MessageContentDelta } from '../engine/run-events.js';
import type { Annotation, MessageContent } from '../storage/assistants-domain.js';
import type { Message } from '../storage/repositories/messages-repository.js';
import type { AssistantsVersion } from './assistants-version.js';

export function toWireMessage(message: Message, version: AssistantsVersion): MessageV1 | MessageV2 {
  const base = {
    id: message.id,
    object: 'thread.message' as const,
    created_at: message.createdAt,
    thread_id: message.threadId,
    status: message.status,
    incomplete_details: message.incompleteReason ? { reason: message.incompleteReason } : null,
    completed_at: message.completedAt,
    incomplete_at: message.incompleteAt,
    role: message.role,
    assistant_id: message.assistantId,
    run_id: message.runId,
    metadata: { ...message.metadata },
  };
  if (version === 'v1') {
    return {
      ...base,
      // v1 has no image_url parts: they read as text there.
      content: message.content.map((part) =>
        part.type === 'image_url'
          ? toWireContent({ type: 'text', text: part.url, annotations: [] })
          : toWireContent(part),
      ) as MessageV1['content'],
      file_ids: message.attachments.map((attachment) => attachment.fileId),
    };
  }
  return {
    ...base,
    content: message.content.map(toWireContent),
    attachments: message.attachments.map((attachment) => ({
      file_id: attachment.fileId,
      tools: attachment.tools.map((type) => ({ type })),
    })),
  };
}

export function toWireContent(part: MessageContent): MessageV2['content'][number] {
  switch (part.type) {
    case 'text':
      return {
        type: 'text',
        text: { value: part.text, annotations: part.annotations.map(toWireAnnotation) },
      };
    case 'image_file':
      return {
        type: 'image_file',
        image_file: { file_id: part.fileId, ...(part.detail ? { detail: part.detail } : {}) },
      };
    case 'image_url':
      return {
        type: 'image_url',
        image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) },
      };
  }
}

export function toWireAnnotation(annotation: Annotation): WireAnnotation {
  if (annotation.type === 'file_citation') {
    return {
      type: 'file_citation',
      text: annotation.text,
      file_citation: { file_id: annotation.fileId, quote: annotation.quote },
      start_index: annotation.startIndex,
      end_index: annotation.endIndex,
    };
  }
  return {
    type: 'file_path',
    text: annotation.text,
    file_path: { file_id: annotation.fileId },
    start_index: annotation.startIndex,
    end_index: annotation.endIndex,
  };
}

export function toWireMessageDelta(messageId: string, content: MessageContentDelta): MessageDelta {
  if (content.type === 'image_file') {
    return {
      id: messageId,
      object: 'thread.message.delta',
      delta: {
        content: [{ index: content.index, type: 'image_file', image_file: { file_id: content.fileId } }],
      },
    };
  }
  const text: { value?: string; annotations?: AnnotationDelta[] } = {};
  if (content.value !== undefined) text.value = content.value;
  if (content.annotations !== undefined) {
    text.annotations = content.annotations.map(({ index, annotation }) => ({
      index,
      ...toWireAnnotation(annotation),
    }));
  }
  return {
    id: messageId,
    object: 'thread.message.delta',
    delta: { content: [{ index: content.index, type: 'text', text }] },
  };
}

/** v1 only: a message's files, as `thread.message.file` objects. */
export function toWireMessageFiles(message: Message): MessageFile[] {
  return message.attachments.map((attachment) => ({
    id: attachment.fileId,
    object: 'thread.message.file',
    created_at: message.createdAt,
    message_id: message.id,
  }));
}
