// `/v1/files`: upload (multipart), list, retrieve, content, delete. The OpenAI `File` object.
import { z } from 'zod';
import { CursorPageParams } from './cursor-page.js';

/** Purposes a client may upload with (OpenAI's, minus those that need services Atelier lacks). */
export const FILE_PURPOSES = ['assistants', 'vision', 'user_data', 'fine-tune', 'batch'] as const;
export const FilePurpose = z.enum(FILE_PURPOSES);
export type FilePurpose = z.infer<typeof FilePurpose>;

/** `expires_after` of an upload: deleted `seconds` after creation (1 hour to 30 days). */
export const FileExpiresAfter = z.object({
  anchor: z.literal('created_at'),
  seconds: z.coerce.number().int().min(3600).max(2_592_000),
});
export type FileExpiresAfter = z.infer<typeof FileExpiresAfter>;

/** The multipart fields besides `file` (strings on the wire; `expires_after[...]` in bracket form). */
export const FileUploadFields = z.object({
  purpose: FilePurpose,
  expires_after: FileExpiresAfter.optional(),
});
export type FileUploadFields = z.infer<typeof FileUploadFields>;

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  /** Present when the file expires. */
  expires_at?: number;
  filename: string;
  purpose: string;
  /** Deprecated by OpenAI and always `processed`: files are usable as soon as they are stored. */
  status: 'processed';
  status_details?: string | null;
}

/** `GET /v1/files`: OpenAI's limit goes up to 10,000 here (default 10,000). */
export const FileListParams = CursorPageParams.extend({
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  purpose: z.string().min(1).optional(),
});
export type FileListParams = z.infer<typeof FileListParams>;

export interface FileDeleted {
  id: string;
  object: 'file';
  deleted: true;
}
