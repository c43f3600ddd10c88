// file_search (v2) and retrieval (v1) end to end on the server's own retrieval engine, with the
// official clients of both generations: a forced search over an assistant's vector store, the
// `vector_stores` helper of tool_resources, files given outside any store (v1 `file_ids`, v2
// message attachments), each answer citing the file that holds the fact as a `file_citation`.
// The test model's words are noise: what makes the right file come first is the retrieval engine
// searching the user's question beside the model's query.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { toFile as toFileV1 } from 'openai-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL } from '../support/api-server.js';
import { assertMatchesSpec, v1Client } from './assistants-support.js';
import {
  assertMatchesLatestSpec,
  DIALECTS,
  type DialectServer,
  filler,
  startDialectServer,
} from './vector-stores-support.js';

/** Three documents, each with one fact among shared filler: only one answers each question. */
const DOCUMENTS = {
  'handbook.md': `# Handbook\n\n${filler(1, 4)}\n\nEvery employee gets 27 paid vacation days per year.\n\n${filler(2, 4)}`,
  'runbook.txt': `Runbook\n\n${filler(3, 4)}\n\nThe billing service listens on port 8443 behind the gateway.\n\n${filler(4, 4)}`,
  'survey.txt': `Survey results\n\n${filler(5, 4)}\n\nThe favourite colour in the survey was teal.\n\n${filler(6, 4)}`,
} as const;
type DocumentName = keyof typeof DOCUMENTS;

/** The quoted passage (in the v2 spec of 2024-05; the current SDK's types no longer name it). */
function quoteOf(citation: OpenAI.Beta.Threads.FileCitationAnnotation): string | undefined {
  return (citation.file_citation as { quote?: string }).quote;
}

const VACATION = 'How many paid vacation days does an employee get per year?';
const PORT = 'Which port does the billing service listen on?';

for (const dialect of DIALECTS) {
  describe(`file_search on the retrieval engine [${dialect}]`, () => {
    let started: DialectServer;
    let client: OpenAI;

    beforeAll(async () => {
      started = await startDialectServer(dialect, {}, { tools: 'server' });
      client = started.server.client;
    });
    afterAll(async () => {
      await started?.close();
    });

    async function upload(): Promise<Record<DocumentName, string>> {
      const ids: Partial<Record<DocumentName, string>> = {};
      for (const [name, text] of Object.entries(DOCUMENTS)) {
        const file = await client.files.create({
          file: await toFile(Buffer.from(text), name),
          purpose: 'assistants',
        });
        ids[name as DocumentName] = file.id;
      }
      return ids as Record<DocumentName, string>;
    }

    /** The answer of a run forced to search, checked against the v2 spec, with its citations. */
    async function forcedSearch(threadId: string, assistantId: string) {
      const run = await client.beta.threads.runs.createAndPoll(
        threadId,
        { assistant_id: assistantId, tool_choice: { type: 'file_search' } },
        { pollIntervalMs: 50 },
      );
      assertMatchesSpec('v2', 'RunObject', run);
      expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: threadId, order: 'asc' });
      for (const step of steps.data) assertMatchesSpec('v2', 'RunStepObject', step);
      expect(steps.data[0]!.step_details).toMatchObject({
        type: 'tool_calls',
        tool_calls: [{ type: 'file_search', file_search: {} }],
      });
      const [answer] = (await client.beta.threads.messages.list(threadId, { run_id: run.id })).data;
      assertMatchesSpec('v2', 'MessageObject', answer);
      const text = (answer!.content[0] as OpenAI.Beta.Threads.TextContentBlock).text;
      const citations = text.annotations.filter(
        (annotation): annotation is OpenAI.Beta.Threads.FileCitationAnnotation =>
          annotation.type === 'file_citation',
      );
      for (const citation of citations) {
        expect(text.value.slice(citation.start_index, citation.end_index)).toBe(citation.text);
      }
      return { run, citations };
    }

    it('cites the file of the assistant’s vector store that holds the answer', async () => {
      const files = await upload();
      const store = await client.vectorStores.create({ name: 'Company', file_ids: Object.values(files) });
      const assistant = await client.beta.assistants.create({
        model: MODEL,
        tools: [{ type: 'file_search' }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      });
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: VACATION }] });
      // Created while the files are still being indexed: the search waits for them.
      const { citations } = await forcedSearch(thread.id, assistant.id);
      expect(citations.length).toBeGreaterThan(0);
      expect(citations[0]!.file_citation.file_id).toBe(files['handbook.md']);
      expect(quoteOf(citations[0]!)).toContain('27 paid vacation days');

      const other = await client.beta.threads.create({ messages: [{ role: 'user', content: PORT }] });
      const second = await forcedSearch(other.id, assistant.id);
      expect(second.citations[0]!.file_citation.file_id).toBe(files['runbook.txt']);
      expect(quoteOf(second.citations[0]!)).toContain('port 8443');

      // include[] asks for what the search found, passages and all (the newest spec's shape).
      const include = ['step_details.tool_calls[*].file_search.results[*].content' as const];
      const [step] = (
        await client.beta.threads.runs.steps.list(second.run.id, {
          thread_id: other.id,
          order: 'asc',
          include,
        })
      ).data;
      assertMatchesLatestSpec('RunStepObject', step);
      const call = step!.step_details.type === 'tool_calls' ? step!.step_details.tool_calls[0] : undefined;
      const results = call?.type === 'file_search' ? (call.file_search.results ?? []) : [];
      expect(results[0]).toMatchObject({ file_id: files['runbook.txt'], file_name: 'runbook.txt' });
      expect(results[0]!.content?.[0]?.text).toContain('port 8443');
      const one = await client.beta.threads.runs.steps.retrieve(step!.id, {
        thread_id: other.id,
        run_id: second.run.id,
        include,
      });
      expect(one.step_details).toEqual(step!.step_details);
      await expect(
        client.beta.threads.runs.steps.list(second.run.id, {
          thread_id: other.id,
          include: ['step_details.everything' as never],
        }),
      ).rejects.toMatchObject({ status: 400, error: { param: 'include' } });
    });

    it('the vector_stores helper of tool_resources creates a store that runs search', async () => {
      const files = await upload();
      const assistant = await client.beta.assistants.create({
        model: MODEL,
        tools: [{ type: 'file_search' }],
        tool_resources: {
          file_search: {
            vector_stores: [
              {
                file_ids: Object.values(files),
                metadata: { made_by: 'helper' },
                chunking_strategy: {
                  type: 'static',
                  static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 },
                },
              },
            ],
          },
        },
      });
      assertMatchesSpec('v2', 'AssistantObject', assistant);
      const [storeId] = assistant.tool_resources?.file_search?.vector_store_ids ?? [];
      expect(storeId).toMatch(/^vs_/);
      const store = await client.vectorStores.retrieve(storeId!);
      expect(store).toMatchObject({ metadata: { made_by: 'helper' }, file_counts: { total: 3 } });
      const entry = await client.vectorStores.files.retrieve(files['survey.txt'], {
        vector_store_id: storeId!,
      });
      expect(entry.chunking_strategy).toEqual({
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 },
      });

      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'What was the favourite colour in the survey?' }],
      });
      const { citations } = await forcedSearch(thread.id, assistant.id);
      expect(citations[0]!.file_citation.file_id).toBe(files['survey.txt']);
      expect(quoteOf(citations[0]!)).toContain('teal');
    });

    it('files attached to a message are searchable, and only that thread’s', async () => {
      const files = await upload();
      const assistant = await client.beta.assistants.create({
        model: MODEL,
        tools: [{ type: 'file_search' }],
      });
      const thread = await client.beta.threads.create({
        messages: [
          {
            role: 'user',
            content: PORT,
            attachments: Object.values(files).map((file_id) => ({
              file_id,
              tools: [{ type: 'file_search' }],
            })),
          },
        ],
      });
      const { citations } = await forcedSearch(thread.id, assistant.id);
      expect(citations[0]!.file_citation.file_id).toBe(files['runbook.txt']);

      // Another thread of the same workspace, with only the survey attached, finds nothing else.
      const survey = await client.beta.threads.create({
        messages: [
          {
            role: 'user',
            content: PORT,
            attachments: [{ file_id: files['survey.txt'], tools: [{ type: 'file_search' }] }],
          },
        ],
      });
      const only = await forcedSearch(survey.id, assistant.id);
      expect(new Set(only.citations.map((citation) => citation.file_citation.file_id))).toEqual(
        new Set(only.citations.length > 0 ? [files['survey.txt']] : []),
      );

      // The store the server keeps for such files is its own: it is not listed.
      const stores = await client.vectorStores.list({ limit: 100 });
      expect(stores.data.map((store) => store.name)).not.toContain('Files given to runs');
    });

    it('v1: retrieval over the assistant’s file_ids, with the openai-v4 client', async () => {
      const v1 = v1Client(started.server);
      const ids: Partial<Record<DocumentName, string>> = {};
      for (const [name, text] of Object.entries(DOCUMENTS)) {
        const file = await v1.files.create({
          file: await toFileV1(Buffer.from(text), name),
          purpose: 'assistants',
        });
        ids[name as DocumentName] = file.id;
      }
      const assistant = await v1.beta.assistants.create({
        model: MODEL,
        tools: [{ type: 'retrieval' }],
        file_ids: Object.values(ids) as string[],
      });
      assertMatchesSpec('v1', 'AssistantObject', assistant);
      const thread = await v1.beta.threads.create({ messages: [{ role: 'user', content: VACATION }] });
      const run = await v1.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id, tool_choice: { type: 'retrieval' } } as never,
        { pollIntervalMs: 50 },
      );
      assertMatchesSpec('v1', 'RunObject', run);
      expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
      const steps = await v1.beta.threads.runs.steps.list(thread.id, run.id, { order: 'asc' });
      for (const step of steps.data) assertMatchesSpec('v1', 'RunStepObject', step);
      expect(steps.data[0]!.step_details).toMatchObject({
        type: 'tool_calls',
        tool_calls: [{ type: 'retrieval', retrieval: {} }],
      });
      const messages = await v1.beta.threads.messages.list(thread.id);
      const answer = messages.data.find((message) => message.run_id === run.id)!;
      assertMatchesSpec('v1', 'MessageObject', answer);
      const text = answer.content[0] as { type: 'text'; text: { value: string; annotations: unknown[] } };
      const citations = text.text.annotations as {
        type: string;
        text: string;
        start_index: number;
        end_index: number;
        file_citation?: { file_id: string; quote: string };
      }[];
      expect(citations[0]).toMatchObject({
        type: 'file_citation',
        file_citation: {
          file_id: ids['handbook.md'],
          quote: expect.stringContaining('27 paid vacation days'),
        },
      });
      expect(text.text.value.slice(citations[0]!.start_index, citations[0]!.end_index)).toBe(
        citations[0]!.text,
      );
    });
  });
}
