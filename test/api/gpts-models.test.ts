// GPTs in `/v1/models` on both databases, through the official SDK with workspace API keys: each
// key lists exactly the GPTs its person (or workspace) may chat with, as `gpt-<id>` models
// (never `:draft`, never instructions), beside the served models; retrieving one works for them
// and is the 404 of an unknown model for everyone else; the list still matches the OpenAI spec.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { assertMatchesSpec } from '../support/openapi-schemas.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import {
  DIALECTS,
  type DialectServer,
  otherWorkspaceClient,
  startDialectServer,
} from './vector-stores-support.js';

const SECRET = 'SECRET-model-list: speak only of lighthouses.';

type Listed = OpenAI.Model & {
  atelier?: {
    provider?: string;
    context_length?: number | null;
    capabilities?: Record<string, boolean>;
    gpt?: { id: string; name: string; description: string; version: number | null; draft: boolean };
  };
};

for (const dialect of DIALECTS) {
  describe(`GPTs as models [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let ada: Visitor;
    let carol: Visitor;
    let adaKey: OpenAI;
    let adaTeamKey: OpenAI;
    let carolKey: OpenAI;
    const gpts = {} as Record<'private' | 'unpublished' | 'team' | 'public' | 'publicDraft' | 'link', Json>;

    const keyFor = async (visitor: Visitor, workspaceId: string): Promise<OpenAI> => {
      const created = await visitor.call('POST', `/api/workspaces/${workspaceId}/api-keys`, {
        body: { name: 'script' },
      });
      expect(created.status).toBe(201);
      return new OpenAI({ baseURL: server.baseURL, apiKey: created.body.secret, maxRetries: 0 });
    };

    const create = async (body: Json, { publish = true } = {}) => {
      const created = await ada.call('POST', '/api/gpts', {
        body: { description: 'Knows the tides.', instructions: SECRET, ...body },
      });
      expect(created.status).toBe(201);
      if (!publish) return created.body;
      const published = await ada.call('POST', `/api/gpts/${created.body.id}/publish`);
      expect(published.status).toBe(200);
      return published.body;
    };

    const listedIds = async (client: OpenAI) =>
      (await client.models.list()).data.map((model) => model.id).filter((id) => id.startsWith('gpt-g-'));

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      const origin = server.baseURL.replace(/\/v1$/, '');
      ada = new Visitor(origin);
      carol = new Visitor(origin);
      const adaSignedUp = await ada.signUp('Ada', 'ada@example.com');
      const team = adaSignedUp.body.workspaces.find((workspace: Json) => workspace.kind === 'team');
      await carol.signUp('Carol', 'carol@example.com');
      adaKey = await keyFor(ada, (await ada.call('GET', '/api/session')).body.workspace_id);
      adaTeamKey = await keyFor(ada, team.id);
      carolKey = await keyFor(carol, (await carol.call('GET', '/api/session')).body.workspace_id);

      gpts.private = await create({ name: 'Private harbour' });
      gpts.unpublished = await create({ name: 'Unpublished harbour' }, { publish: false });
      gpts.team = await create({ name: 'Team harbour', workspace_id: team.id, visibility: 'workspace' });
      gpts.public = await create({ name: 'Public harbour', visibility: 'public' });
      gpts.publicDraft = await create(
        { name: 'Public but never published', visibility: 'public' },
        { publish: false },
      );
      gpts.link = await create({ name: 'Link harbour', visibility: 'link' });
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    it("lists the builder's GPTs to her keys, as models beside the served ones, matching the spec", async () => {
      const page = await adaKey.models.list();
      const ids = page.data.map((model) => model.id);
      expect(ids).toContain(MODEL);
      // Every GPT she builds, whatever its visibility and in whichever workspace: she may chat with
      // each (the unpublished ones answer with their draft). No `:draft` names.
      expect(new Set(ids.filter((id) => id.startsWith('gpt-')))).toEqual(
        new Set(Object.values(gpts).map((gpt) => `gpt-${gpt.id}`)),
      );
      expect(ids.some((id) => id.endsWith(':draft'))).toBe(false);
      expect(new Set(await listedIds(adaTeamKey))).toEqual(
        new Set(ids.filter((id) => id.startsWith('gpt-'))),
      );

      const listed = page.data.find((model) => model.id === `gpt-${gpts.public.id}`) as Listed;
      expect(listed).toMatchObject({
        object: 'model',
        owned_by: 'Ada',
        created: gpts.public.created_at,
        atelier: {
          provider: 'gpt',
          context_length: null,
          capabilities: { chat: true, completions: false, embeddings: false },
          gpt: {
            id: gpts.public.id,
            name: 'Public harbour',
            description: 'Knows the tides.',
            version: 1,
            draft: false,
          },
        },
      });
      const unpublished = page.data.find((model) => model.id === `gpt-${gpts.unpublished.id}`) as Listed;
      expect(unpublished.atelier?.gpt).toMatchObject({ name: 'Unpublished harbour', version: null });

      const raw = await fetch(`${server.baseURL}/models`, {
        headers: { authorization: `Bearer ${adaKey.apiKey}` },
      });
      const body = await raw.json();
      assertMatchesSpec('ListModelsResponse', body);
      // Neither the instructions nor the model a GPT runs on are anyone's business here.
      expect(JSON.stringify(body)).not.toContain(SECRET);
      expect(
        (body.data as Listed[])
          .filter((model) => model.atelier?.provider === 'gpt')
          .map((model) => JSON.stringify(model))
          .join(''),
      ).not.toContain(MODEL);

      // Retrieving: her private GPT, and its draft (listed or not, the draft is hers to use).
      const retrieved = await adaKey.models.retrieve(`gpt-${gpts.private.id}`);
      assertMatchesSpec('Model', retrieved);
      expect(retrieved).toMatchObject({ id: `gpt-${gpts.private.id}`, owned_by: 'Ada' });
      const draft = (await adaKey.models.retrieve(`gpt-${gpts.private.id}:draft`)) as Listed;
      expect(draft.id).toBe(`gpt-${gpts.private.id}:draft`);
      expect(draft.atelier?.gpt).toMatchObject({ draft: true, version: null });
    });

    it("lists only public GPTs to another workspace's key, and a link GPT once its person opened the link", async () => {
      expect(await listedIds(carolKey)).toEqual([`gpt-${gpts.public.id}`]);
      // A key of another workspace with no person behind it sees the public ones too; one of the
      // team's workspace (the server's bootstrap key) also sees the team's workspace GPT.
      const elsewhere = await otherWorkspaceClient(server);
      expect(await listedIds(elsewhere)).toEqual([`gpt-${gpts.public.id}`]);
      expect(new Set(await listedIds(server.client))).toEqual(
        new Set([`gpt-${gpts.team.id}`, `gpt-${gpts.public.id}`]),
      );

      const unknownGpt = await carolKey.models
        .retrieve('gpt-g-000000000000000000000000')
        .catch((caught: unknown) => caught);
      expect(unknownGpt).toBeInstanceOf(OpenAI.NotFoundError);
      for (const hidden of [gpts.private, gpts.unpublished, gpts.team, gpts.publicDraft, gpts.link]) {
        const model = `gpt-${hidden.id}`;
        for (const name of [model, `${model}:draft`]) {
          const error = await carolKey.models.retrieve(name).catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(OpenAI.NotFoundError);
          const notFound = error as InstanceType<typeof OpenAI.NotFoundError>;
          // Exactly what an unknown model gets: nothing says the GPT exists.
          expect(notFound.code).toBe('model_not_found');
          expect(notFound.param).toBe('model');
          expect(notFound.message).toBe(
            (unknownGpt as Error).message.replace('gpt-g-000000000000000000000000', name),
          );
        }
      }
      expect((await carolKey.models.retrieve(`gpt-${gpts.public.id}`)).owned_by).toBe('Ada');

      // Carol opens the link GPT's share link in the web app: her keys may now chat with it, so
      // they list it (the permission rule's `link` row: whoever came through the link).
      expect((await carol.call('GET', `/api/gpts/shared/${gpts.link.link_token}`)).status).toBe(200);
      expect(new Set(await listedIds(carolKey))).toEqual(
        new Set([`gpt-${gpts.public.id}`, `gpt-${gpts.link.id}`]),
      );
      const answer = await carolKey.chat.completions.create({
        model: `gpt-${gpts.link.id}`,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 2,
      });
      expect(answer.model).toBe(`gpt-${gpts.link.id}`);
      // A workspace key without a person never came through the link.
      expect(await listedIds(elsewhere)).toEqual([`gpt-${gpts.public.id}`]);

      // A new link: the old one's access, and the listing with it, is gone.
      expect((await ada.call('POST', `/api/gpts/${gpts.link.id}/link`)).status).toBe(200);
      expect(await listedIds(carolKey)).toEqual([`gpt-${gpts.public.id}`]);
    });

    it('follows the GPT: publishing, sharing and deleting change who lists it', async () => {
      const published = await ada.call('POST', `/api/gpts/${gpts.publicDraft.id}/publish`);
      expect(published.status).toBe(200);
      expect(new Set(await listedIds(carolKey))).toEqual(
        new Set([`gpt-${gpts.public.id}`, `gpt-${gpts.publicDraft.id}`]),
      );
      const hidden = await ada.call('PATCH', `/api/gpts/${gpts.publicDraft.id}/sharing`, {
        body: { visibility: 'private' },
      });
      expect(hidden.status).toBe(200);
      expect(await listedIds(carolKey)).toEqual([`gpt-${gpts.public.id}`]);

      expect((await ada.call('DELETE', `/api/gpts/${gpts.publicDraft.id}`)).status).toBe(200);
      expect(await listedIds(adaKey)).not.toContain(`gpt-${gpts.publicDraft.id}`);
      const gone = await adaKey.models
        .retrieve(`gpt-${gpts.publicDraft.id}`)
        .catch((caught: unknown) => caught);
      expect((gone as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    });

    it('lists nothing to anonymous callers, and keeps the web session to the same rule', async () => {
      const anonymous = await fetch(`${server.baseURL}/models`);
      expect(anonymous.status).toBe(401);
      const stranger = new Visitor(server.baseURL.replace(/\/v1$/, ''));
      expectEnvelope(await stranger.call('GET', `/v1/models/gpt-${gpts.public.id}`), 401, null);

      // The web app's session lists what the person's keys list.
      const session = await carol.sdk(server).models.list();
      expect(session.data.map((model) => model.id).filter((id) => id.startsWith('gpt-g-'))).toEqual(
        await listedIds(carolKey),
      );
    });
  });
}
