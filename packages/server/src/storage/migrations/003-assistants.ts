// Assistants (and their v1 files), threads, messages, runs and run steps, and the rolling summary
// of what long threads no longer send to the model. Runs are the durable queue the run workers
// claim from: `claimed_by`/`lease_expires_at` say who holds one and until when. JSON values
// (tools, content, metadata…) are TEXT on both dialects; `seq` orders lists (see sortable-id.ts).

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration003: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('assistants')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('name', 'text')
        .addColumn('description', 'text')
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('instructions', 'text')
        // JSON array of tools, in the v2 spelling (`file_search` for v1's `retrieval`).
        .addColumn('tools', 'text', (column) => column.notNull())
        // JSON {code_interpreter?: {file_ids}, file_search?: {vector_store_ids}}.
        .addColumn('tool_resources', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('temperature', 'double precision')
        .addColumn('top_p', 'double precision')
        // JSON: "auto" or {type: …}.
        .addColumn('response_format', 'text', (column) => column.notNull())
        .execute();
      await trx.schema
        .createIndex('assistants_workspace_seq_idx')
        .on('assistants')
        .columns(['workspace_id', 'seq'])
        .execute();

      // v1 `file_ids` of an assistant, each with the time it was attached (AssistantFile objects).
      await trx.schema
        .createTable('assistant_files')
        .addColumn('assistant_id', 'text', (column) =>
          column.notNull().references('assistants.id').onDelete('cascade'),
        )
        .addColumn('file_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('assistant_files_pkey', ['assistant_id', 'file_id'])
        .execute();

      await trx.schema
        .createTable('threads')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('tool_resources', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .execute();
      await trx.schema.createIndex('threads_workspace_idx').on('threads').column('workspace_id').execute();

      await trx.schema
        .createTable('messages')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('thread_id', 'text', (column) =>
          column.notNull().references('threads.id').onDelete('cascade'),
        )
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        // JSON array of content parts (text with annotations, image_file, image_url).
        .addColumn('content', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('incomplete_reason', 'text')
        .addColumn('completed_at', 'bigint')
        .addColumn('incomplete_at', 'bigint')
        .addColumn('assistant_id', 'text')
        .addColumn('run_id', 'text')
        // JSON array of {file_id, tools}; v1 `file_ids` are kept here too.
        .addColumn('attachments', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addCheckConstraint('messages_role_check', sql`role in ('user', 'assistant')`)
        .addCheckConstraint(
          'messages_status_check',
          sql`status in ('in_progress', 'incomplete', 'completed')`,
        )
        .execute();
      // Lists and context assembly read a thread's messages by seq, newest first.
      await trx.schema
        .createIndex('messages_thread_seq_idx')
        .on('messages')
        .columns(['thread_id', 'seq'])
        .execute();
      await trx.schema.createIndex('messages_run_idx').on('messages').column('run_id').execute();

      await trx.schema
        .createTable('runs')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('thread_id', 'text', (column) =>
          column.notNull().references('threads.id').onDelete('cascade'),
        )
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        // No foreign key: a run outlives its assistant, as on OpenAI.
        .addColumn('assistant_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('required_action', 'text')
        .addColumn('last_error', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('started_at', 'bigint')
        .addColumn('cancelled_at', 'bigint')
        .addColumn('failed_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .addColumn('incomplete_reason', 'text')
        // The configuration the run executes with, fixed when it was created.
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('instructions', 'text', (column) => column.notNull())
        .addColumn('tools', 'text', (column) => column.notNull())
        .addColumn('tool_resources', 'text', (column) => column.notNull())
        .addColumn('file_ids', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('temperature', 'double precision')
        .addColumn('top_p', 'double precision')
        .addColumn('max_prompt_tokens', 'integer')
        .addColumn('max_completion_tokens', 'integer')
        .addColumn('truncation_strategy', 'text', (column) => column.notNull())
        .addColumn('tool_choice', 'text', (column) => column.notNull())
        .addColumn('response_format', 'text', (column) => column.notNull())
        .addColumn('parallel_tool_calls', 'integer', (column) => column.notNull())
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('completion_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        // Engine bookkeeping: who holds the run and until when (ms), how often it was claimed,
        // how many model turns it took, and what the last turn sent to the model.
        .addColumn('claimed_by', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('turns', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('context', 'text')
        .addCheckConstraint(
          'runs_status_check',
          sql`status in ('queued', 'in_progress', 'requires_action', 'cancelling', 'cancelled', 'failed', 'completed', 'incomplete', 'expired')`,
        )
        .execute();
      await trx.schema.createIndex('runs_thread_seq_idx').on('runs').columns(['thread_id', 'seq']).execute();
      // What workers scan: claimable runs in creation order, and requires_action runs by expiry.
      await trx.schema.createIndex('runs_status_seq_idx').on('runs').columns(['status', 'seq']).execute();
      // "A thread has at most one active run", enforced by the database so that two concurrent
      // creates cannot both win (OpenAI answers the loser with a 400).
      await sql`create unique index runs_one_active_per_thread_idx on runs (thread_id) where status in ('queued', 'in_progress', 'requires_action', 'cancelling')`.execute(
        trx,
      );

      await trx.schema
        .createTable('run_steps')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('run_id', 'text', (column) => column.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('thread_id', 'text', (column) => column.notNull())
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        .addColumn('assistant_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('type', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('step_details', 'text', (column) => column.notNull())
        .addColumn('last_error', 'text')
        .addColumn('expired_at', 'bigint')
        .addColumn('cancelled_at', 'bigint')
        .addColumn('failed_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('prompt_tokens', 'integer')
        .addColumn('completion_tokens', 'integer')
        .addCheckConstraint('run_steps_type_check', sql`type in ('message_creation', 'tool_calls')`)
        .execute();
      await trx.schema
        .createIndex('run_steps_run_seq_idx')
        .on('run_steps')
        .columns(['run_id', 'seq'])
        .execute();

      // The rolling summary of a long thread's oldest messages: it covers every message up to
      // `through_seq`, so each run only summarizes what newly fell out of the context window.
      await trx.schema
        .createTable('thread_summaries')
        .addColumn('thread_id', 'text', (column) =>
          column.primaryKey().references('threads.id').onDelete('cascade'),
        )
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('through_seq', 'bigint', (column) => column.notNull())
        .addColumn('message_count', 'integer', (column) => column.notNull())
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of [
        'thread_summaries',
        'run_steps',
        'runs',
        'messages',
        'threads',
        'assistant_files',
        'assistants',
      ]) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
