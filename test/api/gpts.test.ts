// GPTs end to end on both databases: drafts autosave and publishing makes numbered versions that
// users get; every GPT answers as `model: "gpt-<id>"` through the official SDK (streaming or not)
// and as an `assistant_id` in runs; knowledge is indexed for the draft and the published version
// without showing up anywhere users could read it; the training choice is kept with each
// conversation; bad input gets the OpenAI error envelope.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { signUpPeople } from '../support/people.js';
import { expectEnvelope, type Json, type Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const LONG_INSTRUCTIONS = Array.from(
  { length: 40 },
  (_, index) => `Rule ${index + 1}: speak of tides, harbours and lighthouses, never of anything else.`,
).join('\n');

for (const dialect of DIALECTS) {
  describe(`GPTs [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let ada: Visitor;
    let carol: Visitor;
    let team: Json;

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      [ada, carol] = await signUpPeople(server, 'Ada', 'Carol');
      const session = await ada.call('GET', '/api/session');
      team = session.body.workspaces.find((workspace: Json) => workspace.kind === 'team');
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    const create = async (body: Json = {}) => {
      const reply = await ada.call('POST', '/api/gpts', { body: { name: 'Harbour master', ...body } });
      expect(reply.status).toBe(201);
      return reply.body;
    };

    it('autosaves the draft, publishes numbered versions, and users get the latest one', async () => {
      const gpt = await create({
        description: 'Tides and boats.',
        instructions: 'Version one instructions.',
        conversation_starters: ['When is high tide?', 'Is the harbour open?'],
        capabilities: { code_interpreter: true },
        visibility: 'public',
        category: 'travel',
        allow_training: true,
      });
      expect(gpt).toMatchObject({
        id: expect.stringMatching(/^g-[0-9A-Za-z]{24}$/),
        object: 'gpt',
        builder: { name: 'Ada' },
        visibility: 'public',
        category: 'travel',
        allow_training: true,
        link_token: expect.stringMatching(/^[0-9A-Za-z]{32}$/),
        draft: {
          name: 'Harbour master',
          instructions: 'Version one instructions.',
          model: MODEL,
          capabilities: { browsing: false, image_generation: false, code_interpreter: true },
          knowledge_file_ids: [],
          action_ids: [],
        },
        published: null,
        has_unpublished_changes: true,
        usage: { conversations: 0, users: 0 },
        permissions: { view: true, chat: true, edit: true, see_instructions: true },
      });
      expect(gpt.model).toBe(`gpt-${gpt.id}`);
      // Public, but nothing published yet: nobody else sees it.
      expectEnvelope(await carol.call('GET', `/api/gpts/${gpt.id}`), 404, null);

      const first = await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        published: { version: 1, name: 'Harbour master', instructions: 'Version one instructions.' },
        has_unpublished_changes: false,
      });

      const autosaved = await ada.call('PATCH', `/api/gpts/${gpt.id}`, {
        body: { name: 'Harbour master II', instructions: 'Version two instructions.' },
      });
      expect(autosaved.status).toBe(200);
      expect(autosaved.body).toMatchObject({
        draft: {
          name: 'Harbour master II',
          instructions: 'Version two instructions.',
          description: 'Tides and boats.',
        },
        published: { version: 1, name: 'Harbour master' },
        has_unpublished_changes: true,
      });
      const userView = await carol.call('GET', `/api/gpts/${gpt.id}`);
      expect(userView.body).toEqual({
        id: gpt.id,
        object: 'gpt.view',
        name: 'Harbour master',
        description: 'Tides and boats.',
        avatar_file_id: null,
        conversation_starters: ['When is high tide?', 'Is the harbour open?'],
        capabilities: { browsing: false, image_generation: false, code_interpreter: true },
        category: 'travel',
        visibility: 'public',
        builder: { name: 'Ada' },
        version: 1,
        published_at: expect.any(Number),
        model: `gpt-${gpt.id}`,
        permissions: { view: true, chat: true, edit: false, see_instructions: false },
      });

      const second = await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      expect(second.body.published).toMatchObject({ version: 2, name: 'Harbour master II' });
      expect((await carol.call('GET', `/api/gpts/${gpt.id}`)).body).toMatchObject({
        name: 'Harbour master II',
        version: 2,
      });
      const versions = await ada.call('GET', `/api/gpts/${gpt.id}/versions`);
      expect(versions.body.data.map((version: Json) => [version.version, version.name])).toEqual([
        [2, 'Harbour master II'],
        [1, 'Harbour master'],
      ]);

      // The builder previews the draft as `gpt-<id>:draft`; nobody else can.
      await ada.call('PATCH', `/api/gpts/${gpt.id}`, { body: { instructions: 'Draft three.' } });
      const preview = await ada.sdk(server).chat.completions.create({
        model: `gpt-${gpt.id}:draft`,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 2,
      });
      expect(preview.model).toBe(`gpt-${gpt.id}:draft`);
      await expect(
        carol.sdk(server).chat.completions.create({
          model: `gpt-${gpt.id}:draft`,
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 2,
        }),
      ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    });

    it('answers as a model with the official SDK, applying its instructions server-side', async () => {
      const gpt = await create({ instructions: LONG_INSTRUCTIONS, visibility: 'public' });
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      const client = carol.sdk(server);
      const messages = [{ role: 'user' as const, content: 'When is high tide?' }];

      const completion = await client.chat.completions.create({
        model: gpt.model,
        messages,
        max_tokens: 3,
        seed: 7,
      });
      expect(completion).toMatchObject({
        object: 'chat.completion',
        model: gpt.model,
        choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: expect.any(String) }],
      });
      // The instructions were sent to the model: the same question costs their tokens more.
      const plain = await server.client.chat.completions.create({ model: MODEL, messages, max_tokens: 3 });
      expect(completion.usage!.prompt_tokens - plain.usage!.prompt_tokens).toBeGreaterThan(300);
      expect(JSON.stringify(completion)).not.toContain('Rule 1');

      const stream = await client.chat.completions.create({
        model: gpt.model,
        messages,
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.every((chunk) => chunk.model === gpt.model)).toBe(true);
      expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
      expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason)).toBe(true);
      expect(chunks.at(-1)!.usage!.prompt_tokens).toBe(completion.usage!.prompt_tokens);

      // A workspace API key of another workspace is "someone else": public GPTs answer it too.
      const withKey = await server.client.chat.completions.create({
        model: gpt.model,
        messages,
        max_tokens: 1,
      });
      expect(withKey.model).toBe(gpt.model);
    });

    it('is a 404 model_not_found to whoever may not chat with it, and to unknown GPTs', async () => {
      const gpt = await create({ visibility: 'private' });
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      const client = carol.sdk(server);
      for (const model of [gpt.model, `gpt-g-${'x'.repeat(24)}`]) {
        for (const stream of [false, true]) {
          const error = await client.chat.completions
            .create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1, stream })
            .then(
              () => null,
              (caught: unknown) => caught,
            );
          expect(error).toBeInstanceOf(OpenAI.NotFoundError);
          expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
        }
      }
      // Its builder chats with it, privately.
      const own = await ada.sdk(server).chat.completions.create({
        model: gpt.model,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 1,
      });
      expect(own.model).toBe(gpt.model);
    });

    it('runs as an assistant_id for those who may chat with it, keeping its instructions to itself', async () => {
      const gpt = await create({ instructions: 'Hidden harbour rules.', visibility: 'public' });
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      const client = carol.sdk(server);
      const run = await client.beta.threads.createAndRunPoll(
        { assistant_id: gpt.id, thread: { messages: [{ role: 'user', content: 'Is the harbour open?' }] } },
        { pollIntervalMs: 50 },
      );
      expect(run).toMatchObject({
        status: 'completed',
        assistant_id: gpt.id,
        model: gpt.model,
        instructions: '',
      });
      const again = await client.beta.threads.runs.createAndPoll(
        run.thread_id,
        { assistant_id: gpt.id },
        { pollIntervalMs: 50 },
      );
      expect(again.status).toBe('completed');
      expect(
        JSON.stringify(await client.beta.threads.runs.retrieve(again.id, { thread_id: run.thread_id })),
      ).not.toContain('Hidden harbour rules');
      const messages = await client.beta.threads.messages.list(run.thread_id);
      expect(messages.data.filter((message) => message.role === 'assistant')).toHaveLength(2);

      // The builder sees that it was used, never the conversation.
      const seen = await ada.call('GET', `/api/gpts/${gpt.id}`);
      expect(seen.body.usage).toEqual({ conversations: 1, users: 1 });
      expect(JSON.stringify(seen.body)).not.toContain(run.thread_id);
      // The conversation keeps the training choice in effect when it started.
      const [conversation] = await server.server.storage.repositories.gpts.conversationsOf(run.thread_id);
      expect(conversation).toMatchObject({ gptId: gpt.id, kind: 'thread', allowTraining: false, version: 1 });
      await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, { body: { allow_training: true } });
      await client.beta.threads.runs.createAndPoll(
        run.thread_id,
        { assistant_id: gpt.id },
        { pollIntervalMs: 50 },
      );
      expect(
        (await server.server.storage.repositories.gpts.conversationsOf(run.thread_id))[0]?.allowTraining,
      ).toBe(false);

      // Private: as unknown as any assistant of another workspace.
      await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, { body: { visibility: 'private' } });
      const refused = await client.beta.threads
        .createAndRun({ assistant_id: gpt.id, thread: { messages: [{ role: 'user', content: 'Hi' }] } })
        .then(
          () => null,
          (caught: unknown) => caught,
        );
      expect(refused).toMatchObject({ status: 404, param: 'assistant_id' });
    });

    it('indexes knowledge for the draft and the published version, out of users’ sight', async () => {
      // The bootstrap key acts in the team workspace, where this GPT lives.
      const upload = async (text: string, name: string) =>
        server.client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
      const bell = await upload('The harbour bell rings three times at dawn when the fog lifts.', 'bell.txt');
      const lamp = await upload('The lighthouse lamp is trimmed every evening at six.', 'lamp.txt');
      const gpt = await create({
        workspace_id: team.id,
        knowledge_file_ids: [bell.id],
        visibility: 'public',
      });
      expect(gpt.draft.knowledge_file_ids).toEqual([bell.id]);
      const published = await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      expect(published.body.published.knowledge_file_ids).toEqual([bell.id]);

      const repositories = server.server.storage.repositories;
      const stored = (await repositories.gpts.find(gpt.id))!;
      expect(stored.draftVectorStoreId).toMatch(/^vs_/);
      expect(stored.publishedVectorStoreId).toMatch(/^vs_/);
      expect(stored.publishedVectorStoreId).not.toBe(stored.draftVectorStoreId);
      const search = async (storeId: string, query: string) => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const entry = await repositories.vectorStoreFiles.find(team.id, storeId, bell.id);
          if (entry?.status === 'completed') break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const outcome = await server.server.knowledge.retrieval.search({
          workspaceId: team.id,
          vectorStoreIds: [storeId],
          query,
        });
        return outcome.results.map((result) => result.text);
      };
      expect((await search(stored.publishedVectorStoreId!, 'harbour bell dawn'))[0]).toContain(
        'rings three times',
      );

      // The builder swaps the draft's knowledge: users keep the published version's until the next publish.
      const swapped = await ada.call('PATCH', `/api/gpts/${gpt.id}`, {
        body: { knowledge_file_ids: [lamp.id] },
      });
      expect(swapped.body.draft.knowledge_file_ids).toEqual([lamp.id]);
      expect(swapped.body.published.knowledge_file_ids).toEqual([bell.id]);
      expect((await search(stored.publishedVectorStoreId!, 'harbour bell dawn'))[0]).toContain(
        'rings three times',
      );

      // Kept by the server for the GPT: not among the workspace's vector stores.
      const listed = await server.client.vectorStores.list();
      const ids = listed.data.map((store) => store.id);
      expect(ids).not.toContain(stored.draftVectorStoreId);
      expect(ids).not.toContain(stored.publishedVectorStoreId);
      // Users see neither the knowledge nor where it is.
      const view = await carol.call('GET', `/api/gpts/${gpt.id}`);
      expect(JSON.stringify(view.body)).not.toContain(bell.id);
      expect(JSON.stringify(view.body)).not.toContain(stored.publishedVectorStoreId);

      // Deleting the GPT deletes its stores and its backing assistant.
      const deleted = await ada.call('DELETE', `/api/gpts/${gpt.id}`);
      expect(deleted.body).toEqual({ id: gpt.id, object: 'gpt.deleted', deleted: true });
      expect(await repositories.vectorStores.find(team.id, stored.publishedVectorStoreId!)).toBeNull();
      expect(await repositories.assistants.find(team.id, stored.assistantId)).toBeNull();
      expectEnvelope(await ada.call('GET', `/api/gpts/${gpt.id}`), 404, null);
    });

    it('shows the avatar to whoever may view the GPT, and to nobody else', async () => {
      // A 1×1 PNG, uploaded into the team workspace where the GPT lives.
      const png = Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
        'base64',
      );
      const file = await server.client.files.create({
        file: await toFile(png, 'avatar.png', { type: 'image/png' }),
        purpose: 'vision',
      });
      const gpt = await create({ workspace_id: team.id, avatar_file_id: file.id, visibility: 'public' });
      const avatar = (visitor: Visitor | null) =>
        fetch(`${server.baseURL.replace(/\/v1$/, '')}/api/gpts/${gpt.id}/avatar`, {
          headers: visitor?.cookie ? { cookie: visitor.cookie } : {},
        });
      // Not published yet: only the builder.
      expect((await avatar(ada)).status).toBe(200);
      expect((await avatar(carol)).status).toBe(404);
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      // Published and public: anyone, signed in or not.
      expect((await avatar(carol)).status).toBe(200);
      const response = await avatar(null);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(png);
      expect((await carol.call('GET', `/api/gpts/${gpt.id}`)).body.avatar_file_id).toBe(file.id);
    });

    it('refuses bad input with the OpenAI error envelope, changing nothing', async () => {
      const gpt = await create({ instructions: 'Keep me.' });
      const cases: [string, string, Json, number, string | null, string | null][] = [
        ['POST', '/api/gpts', { visibility: 'everyone' }, 400, null, 'visibility'],
        ['POST', '/api/gpts', { name: 'x'.repeat(129) }, 400, null, 'name'],
        ['POST', '/api/gpts', { unknown_field: 1 }, 400, 'unknown_parameter', 'unknown_field'],
        ['POST', '/api/gpts', { model: 'no-such-model' }, 400, 'model_not_found', 'model'],
        ['POST', '/api/gpts', { workspace_id: 'ws_nope' }, 404, null, 'workspace_id'],
        ['POST', '/api/gpts', { knowledge_file_ids: ['file-nope'] }, 404, null, 'knowledge_file_ids[0]'],
        [
          'POST',
          '/api/gpts',
          { conversation_starters: Array(11).fill('Hi') },
          400,
          null,
          'conversation_starters',
        ],
        [
          'PATCH',
          `/api/gpts/${gpt.id}`,
          { capabilities: { browsing: 'yes' } },
          400,
          null,
          'capabilities.browsing',
        ],
        ['PATCH', `/api/gpts/${gpt.id}`, { avatar_file_id: 'file-nope' }, 404, null, 'avatar_file_id'],
        [
          'PATCH',
          `/api/gpts/${gpt.id}/sharing`,
          { visibility: 'link', extra: true },
          400,
          'unknown_parameter',
          'extra',
        ],
        ['POST', `/api/gpts/${gpt.id}/publish`, { now: true }, 400, 'unknown_parameter', 'now'],
        ['PATCH', '/api/gpts/g-000000000000000000000000', { name: 'x' }, 404, null, 'gpt_id'],
        ['GET', '/api/gpts?scope=everything', undefined, 400, null, 'scope'],
        ['GET', '/api/gpts/shared/short', undefined, 404, null, 'token'],
      ];
      for (const [method, path, body, status, code, param] of cases) {
        const reply = await ada.call(method, path, { body });
        expectEnvelope(reply, status, code);
        expect(`${method} ${path}: ${reply.body.error.param}`).toBe(`${method} ${path}: ${param}`);
      }
      // A malformed JSON body is a 400, never a 500.
      const raw = await fetch(`${server.baseURL.replace(/\/v1$/, '')}/api/gpts/${gpt.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', cookie: ada.cookie!, 'x-atelier-csrf': ada.csrf! },
        body: '{"name": ',
      });
      expect(raw.status).toBe(400);
      // Without the CSRF header a change is refused.
      expectEnvelope(
        await ada.call('PATCH', `/api/gpts/${gpt.id}`, { body: { name: 'x' }, csrf: false }),
        403,
        'csrf_failed',
      );

      const unnamed = await create({ name: '' });
      expectEnvelope(await ada.call('POST', `/api/gpts/${unnamed.id}/publish`), 400, 'gpt_name_required');
      expect((await ada.call('GET', `/api/gpts/${unnamed.id}`)).body.published).toBeNull();
      expect((await ada.call('GET', `/api/gpts/${gpt.id}`)).body.draft).toMatchObject({
        name: 'Harbour master',
        instructions: 'Keep me.',
      });

      // Chat completions: the request is checked like any other, and GPTs answer with one choice.
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      const client = ada.sdk(server);
      await expect(
        client.chat.completions.create({
          model: gpt.model,
          messages: [{ role: 'user', content: 'Hi' }],
          n: 2,
        }),
      ).rejects.toMatchObject({ status: 400, param: 'n' });
      await expect(
        client.chat.completions.create({ model: gpt.model, messages: [] as never, max_tokens: 1 }),
      ).rejects.toMatchObject({ status: 400 });
      await expect(
        client.chat.completions.create({
          model: gpt.model,
          messages: [{ role: 'wizard' as never, content: 'Hi' }],
        }),
      ).rejects.toMatchObject({ status: 400 });
    });
  });
}
