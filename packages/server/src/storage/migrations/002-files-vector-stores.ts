// Files (metadata; the bytes live in the blob store), their extracted text, vector stores, the
// files attached to them with their ingestion state, file batches, and the chunks that search
// reads: full text through SQLite FTS5 or a Postgres tsvector column. Vector tables depend on the
// embedding model's dimensions, so the search index creates them at start, not here.

import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration002: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('files')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('filename', 'text', (column) => column.notNull())
        .addColumn('purpose', 'text', (column) => column.notNull())
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        // Lower-case hex SHA-256 of the content: the blob's address in the blob store.
        .addColumn('sha256', 'text', (column) => column.notNull())
        .addColumn('content_type', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        // Orders lists (created_at has one-second ties); see storage/sequence.ts.
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .execute();
      await trx.schema
        .createIndex('files_workspace_seq_idx')
        .on('files')
        .columns(['workspace_id', 'seq'])
        .execute();
      await trx.schema.createIndex('files_sha256_idx').on('files').column('sha256').execute();
      await trx.schema.createIndex('files_expires_at_idx').on('files').column('expires_at').execute();

      // Text extracted once per file and shared by every vector store it is in; chunk offsets
      // point into it.
      await trx.schema
        .createTable('file_texts')
        .addColumn('file_id', 'text', (column) =>
          column.primaryKey().references('files.id').onDelete('cascade'),
        )
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('format', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();

      await trx.schema
        .createTable('vector_stores')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (column) => column.notNull())
        // JSON object of up to 16 string pairs.
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('last_active_at', 'bigint', (column) => column.notNull())
        // expires_after: {anchor: 'last_active_at', days}; null when it never expires.
        .addColumn('expires_after_days', 'integer')
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .execute();
      await trx.schema
        .createIndex('vector_stores_workspace_seq_idx')
        .on('vector_stores')
        .columns(['workspace_id', 'seq'])
        .execute();

      await trx.schema
        .createTable('vector_store_files')
        .addColumn('vector_store_id', 'text', (column) =>
          column.notNull().references('vector_stores.id').onDelete('cascade'),
        )
        .addColumn('file_id', 'text', (column) => column.notNull().references('files.id').onDelete('cascade'))
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('last_error_code', 'text')
        .addColumn('last_error_message', 'text')
        .addColumn('usage_bytes', 'bigint', (column) => column.notNull())
        .addColumn('chunk_max_tokens', 'integer', (column) => column.notNull())
        .addColumn('chunk_overlap_tokens', 'integer', (column) => column.notNull())
        // JSON object (VectorStoreFileAttributes).
        .addColumn('attributes', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        // Ingestion bookkeeping: who holds the file (a random token per claim), until when, and
        // how many times it was tried. A claim whose lease ran out is taken over by another worker.
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('lease_token', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('not_before', 'bigint')
        .addPrimaryKeyConstraint('vector_store_files_pkey', ['vector_store_id', 'file_id'])
        .addCheckConstraint(
          'vector_store_files_status_check',
          sql`status in ('in_progress', 'completed', 'cancelled', 'failed')`,
        )
        .execute();
      await trx.schema
        .createIndex('vector_store_files_store_seq_idx')
        .on('vector_store_files')
        .columns(['vector_store_id', 'seq'])
        .execute();
      await trx.schema
        .createIndex('vector_store_files_file_idx')
        .on('vector_store_files')
        .column('file_id')
        .execute();
      await trx.schema
        .createIndex('vector_store_files_status_idx')
        .on('vector_store_files')
        .columns(['status', 'not_before'])
        .execute();

      await trx.schema
        .createTable('vector_store_file_batches')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('vector_store_id', 'text', (column) =>
          column.notNull().references('vector_stores.id').onDelete('cascade'),
        )
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('cancelled_at', 'bigint')
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .execute();
      await trx.schema
        .createTable('vector_store_file_batch_files')
        .addColumn('batch_id', 'text', (column) =>
          column.notNull().references('vector_store_file_batches.id').onDelete('cascade'),
        )
        .addColumn('file_id', 'text', (column) => column.notNull().references('files.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('vector_store_file_batch_files_pkey', ['batch_id', 'file_id'])
        .execute();

      // One row per chunk of a file in a vector store. The integer id is the full-text and
      // vector index key (FTS5 and sqlite-vec address rows by integer rowid).
      await trx.schema
        .createTable('chunks')
        .addColumn('id', postgres ? 'bigint' : 'integer', (column) =>
          postgres ? column.primaryKey().generatedByDefaultAsIdentity() : column.primaryKey().autoIncrement(),
        )
        .addColumn('vector_store_id', 'text', (column) =>
          column.notNull().references('vector_stores.id').onDelete('cascade'),
        )
        .addColumn('file_id', 'text', (column) => column.notNull().references('files.id').onDelete('cascade'))
        .addColumn('chunk_index', 'integer', (column) => column.notNull())
        // Character offsets [start, end) into file_texts.text, and the chunk's length in tokens.
        .addColumn('start_offset', 'integer', (column) => column.notNull())
        .addColumn('end_offset', 'integer', (column) => column.notNull())
        .addColumn('token_count', 'integer', (column) => column.notNull())
        .addColumn('text', 'text', (column) => column.notNull())
        .execute();
      await trx.schema
        .createIndex('chunks_store_file_idx')
        .on('chunks')
        .columns(['vector_store_id', 'file_id', 'chunk_index'])
        .execute();
      await trx.schema.createIndex('chunks_file_idx').on('chunks').column('file_id').execute();

      if (postgres) {
        // 'simple' would keep stop words and skip stemming; 'english' matches FTS5's porter.
        await sql`alter table chunks add column tsv tsvector generated always as (to_tsvector('english', text)) stored`.execute(
          trx,
        );
        await sql`create index chunks_tsv_idx on chunks using gin (tsv)`.execute(trx);
      } else {
        // External-content FTS5: the text is stored once, in chunks; triggers keep the index in step.
        await sql`create virtual table chunks_fts using fts5(text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')`.execute(
          trx,
        );
        await sql`create trigger chunks_fts_insert after insert on chunks begin
          insert into chunks_fts(rowid, text) values (new.id, new.text);
        end`.execute(trx);
        await sql`create trigger chunks_fts_delete after delete on chunks begin
          insert into chunks_fts(chunks_fts, rowid, text) values ('delete', old.id, old.text);
        end`.execute(trx);
        await sql`create trigger chunks_fts_update after update of text on chunks begin
          insert into chunks_fts(chunks_fts, rowid, text) values ('delete', old.id, old.text);
          insert into chunks_fts(rowid, text) values (new.id, new.text);
        end`.execute(trx);
      }

      // Which embedding model each vector table belongs to (created by the search index at start).
      await trx.schema
        .createTable('embedding_spaces')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('dimensions', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await inTransaction(db, async (trx) => {
      if (!postgres) await sql`drop table if exists chunks_fts`.execute(trx);
      for (const table of [
        'embedding_spaces',
        'chunks',
        'vector_store_file_batch_files',
        'vector_store_file_batches',
        'vector_store_files',
        'vector_stores',
        'file_texts',
        'files',
      ]) {
        await trx.schema.dropTable(table).ifExists().execute();
      }
    });
  },
};
