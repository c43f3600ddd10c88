// Text extracted from a file, kept once per file: every vector store it joins chunks the same
// text, and `/vector_stores/{id}/files/{file_id}/content` returns it.

import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { DatabaseSchema } from '../schema.js';

export interface FileText {
  readonly text: string;
  /** Which extractor produced it: pdf, docx, html, text, … */
  readonly format: string;
}

export interface FileTextsRepository {
  find(fileId: string): Promise<FileText | null>;
  /** Stores the text unless some text is already stored (two stores ingesting the same file). */
  save(fileId: string, text: FileText): Promise<void>;
}

export function createFileTextsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): FileTextsRepository {
  return {
    async find(fileId) {
      const row = await db
        .selectFrom('file_texts')
        .select(['text', 'format'])
        .where('file_id', '=', fileId)
        .executeTakeFirst();
      return row ?? null;
    },

    async save(fileId, { text, format }) {
      await db
        .insertInto('file_texts')
        .values({ file_id: fileId, text, format, created_at: now() })
        .onConflict((conflict) => conflict.column('file_id').doNothing())
        .execute();
    },
  };
}
