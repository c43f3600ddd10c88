// Thread messages in both generations: v1 takes text and `file_ids`; v2 takes text or content
// parts (text, image_file, image_url) and `attachments` for file_search / code_interpreter.
// Includes the v1-only message files and the streamed `thread.message.delta`.
import { z } from 'zod';
import { Metadata } from './metadata.js';

export const MessageCreateParamsV1 = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.string().min(1).max(256_000),
  file_ids: z.array(z.string().min(1)).max(10).optional(),
  metadata: Metadata.nullish(),
});
export type MessageCreateParamsV1 = z.infer<typeof MessageCreateParamsV1>;

const ImageDetail = z.enum(['auto', 'low', 'high']);
const MessageContentPartParam = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({
    type: z.literal('image_file'),
    image_file: z.strictObject({ file_id: z.string().min(1), detail: ImageDetail.optional() }),
  }),
  z.strictObject({
    type: z.literal('image_url'),
    image_url: z.strictObject({ url: z.string().min(1), detail: ImageDetail.optional() }),
  }),
]);
export type MessageContentPartParam = z.infer<typeof MessageContentPartParam>;

export const AttachmentParam = z.strictObject({
  file_id: z.string().min(1),
  tools: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('code_interpreter') }),
        z.strictObject({ type: z.literal('file_search') }),
      ]),
    )
    .optional(),
});

export const MessageCreateParamsV2 = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string().max(256_000), z.array(MessageContentPartParam).min(1)]),
  attachments: z.array(AttachmentParam).max(10).nullish(),
  metadata: Metadata.nullish(),
});
export type MessageCreateParamsV2 = z.infer<typeof MessageCreateParamsV2>;

export const MessageUpdateParams = z.strictObject({ metadata: Metadata.nullish() });
export type MessageUpdateParams = z.infer<typeof MessageUpdateParams>;

export const MessageListParams = z.object({ run_id: z.string().min(1).optional() });

export interface FileCitationAnnotation {
  type: 'file_citation';
  text: string;
  file_citation: { file_id: string; quote: string };
  start_index: number;
  end_index: number;
}
export interface FilePathAnnotation {
  type: 'file_path';
  text: string;
  file_path: { file_id: string };
  start_index: number;
  end_index: number;
}
export type Annotation = FileCitationAnnotation | FilePathAnnotation;

export interface TextContent {
  type: 'text';
  text: { value: string; annotations: Annotation[] };
}
export interface ImageFileContent {
  type: 'image_file';
  image_file: { file_id: string; detail?: 'auto' | 'low' | 'high' };
}
export interface ImageUrlContent {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export interface Attachment {
  file_id: string;
  tools: ({ type: 'code_interpreter' } | { type: 'file_search' })[];
}

interface MessageBase {
  id: string;
  object: 'thread.message';
  created_at: number;
  thread_id: string;
  status: 'in_progress' | 'incomplete' | 'completed';
  incomplete_details: {
    reason: 'content_filter' | 'max_tokens' | 'run_cancelled' | 'run_expired' | 'run_failed';
  } | null;
  completed_at: number | null;
  incomplete_at: number | null;
  role: 'user' | 'assistant';
  assistant_id: string | null;
  run_id: string | null;
  metadata: Record<string, string>;
}

export interface MessageV1 extends MessageBase {
  content: (TextContent | ImageFileContent)[];
  file_ids: string[];
}

export interface MessageV2 extends MessageBase {
  content: (TextContent | ImageFileContent | ImageUrlContent)[];
  attachments: Attachment[];
}

export interface MessageDeleted {
  id: string;
  object: 'thread.message.deleted';
  deleted: true;
}

/** v1 only: `/v1/threads/{thread_id}/messages/{message_id}/files`. */
export interface MessageFile {
  id: string;
  object: 'thread.message.file';
  created_at: number;
  message_id: string;
}

export type AnnotationDelta = Partial<Annotation> & { index: number; type: Annotation['type'] };

export interface MessageDelta {
  id: string;
  object: 'thread.message.delta';
  delta: {
    role?: 'user' | 'assistant';
    content?: (
      | { index: number; type: 'text'; text?: { value?: string; annotations?: AnnotationDelta[] } }
      | { index: number; type: 'image_file'; image_file?: { file_id?: string } }
    )[];
  };
}
