// The GPT permission matrix over real HTTP on both databases: for each visibility (private, link,
// workspace, public) × each caller (the builder, a member of the GPT's workspace, another
// signed-in person, an anonymous visitor) × each action (view, chat, edit, see the instructions),
// exactly the allowed cells succeed, and the others fail with the status a client should see.
// Chatting includes finding the GPT in `/v1/models`: listed and retrieved exactly where chat works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { expectEnvelope, type Json, type Reply, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const VISIBILITIES = ['private', 'link', 'workspace', 'public'] as const;
type Visibility = (typeof VISIBILITIES)[number];
const ROLES = ['builder', 'member', 'other', 'anonymous'] as const;
type Role = (typeof ROLES)[number];

/** V: view, C: chat, E: edit, I: see the instructions; '-' where it must fail. */
const EXPECTED: Record<Visibility, Record<Role, string>> = {
  private: { builder: 'VCEI', member: '----', other: '----', anonymous: '----' },
  // Everyone here came through the share link.
  link: { builder: 'VCEI', member: 'VC--', other: 'VC--', anonymous: 'V---' },
  workspace: { builder: 'VCEI', member: 'VC--', other: '----', anonymous: '----' },
  public: { builder: 'VCEI', member: 'VC--', other: 'VC--', anonymous: 'V---' },
};

const secretOf = (visibility: Visibility) => `SECRET-${visibility}-instructions: answer like a lighthouse.`;

for (const dialect of DIALECTS) {
  describe(`GPT permission matrix [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    const visitors = {} as Record<Role, Visitor>;
    const gpts = {} as Record<Visibility, Json>;

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      const origin = server.baseURL.replace(/\/v1$/, '');
      for (const role of ROLES) visitors[role] = new Visitor(origin);
      const builder = await visitors.builder.signUp('Ada', 'ada@example.com');
      const team = builder.body.workspaces.find((workspace: Json) => workspace.kind === 'team');
      const member = await visitors.member.signUp('Bob', 'bob@example.com');
      await server.server.storage.repositories.workspaces.addMember({
        workspaceId: team.id,
        accountId: member.body.account.id,
      });
      await visitors.other.signUp('Carol', 'carol@example.com');
      for (const visibility of VISIBILITIES) {
        const created = await visitors.builder.call('POST', '/api/gpts', {
          body: {
            workspace_id: team.id,
            name: `Harbour ${visibility}`,
            description: 'Knows the tides.',
            instructions: secretOf(visibility),
            conversation_starters: ['When is high tide?'],
            visibility,
          },
        });
        expect(created.status).toBe(201);
        const published = await visitors.builder.call('POST', `/api/gpts/${created.body.id}/publish`);
        expect(published.status).toBe(200);
        gpts[visibility] = published.body;
      }
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    /** How each visibility is opened: by the share link for `link`, by id otherwise. */
    const open = (role: Role, visibility: Visibility): Promise<Reply> => {
      const gpt = gpts[visibility];
      return visitors[role].call(
        'GET',
        visibility === 'link' ? `/api/gpts/shared/${gpt.link_token}` : `/api/gpts/${gpt.id}`,
      );
    };

    const actions: Record<string, (role: Role, visibility: Visibility) => Promise<boolean>> = {
      async view(role, visibility) {
        const reply = await open(role, visibility);
        if (reply.status !== 200) {
          expectEnvelope(reply, 404, null);
          return false;
        }
        expect(reply.body.object).toBe(role === 'builder' ? 'gpt' : 'gpt.view');
        expect(reply.body.id).toBe(gpts[visibility].id);
        expect(reply.body.conversation_starters ?? reply.body.draft.conversation_starters).toEqual([
          'When is high tide?',
        ]);
        return true;
      },

      async chat(role, visibility) {
        // Someone with the link opens it first, as a person following it would.
        if (visibility === 'link') await open(role, visibility);
        const reply = await visitors[role].call('POST', '/v1/chat/completions', {
          body: {
            model: gpts[visibility].model,
            messages: [{ role: 'user', content: 'When is high tide?' }],
            max_tokens: 2,
          },
        });
        // `/v1/models` lists and retrieves the GPT exactly when chatting with it works.
        const listed = await visitors[role].call('GET', '/v1/models');
        const retrieved = await visitors[role].call('GET', `/v1/models/${gpts[visibility].model}`);
        if (reply.status !== 200) {
          if (role === 'anonymous') {
            expectEnvelope(reply, 401, null);
            expectEnvelope(listed, 401, null);
            expectEnvelope(retrieved, 401, null);
          } else {
            expectEnvelope(reply, 404, 'model_not_found');
            expect(listed.body.data.map((model: Json) => model.id)).not.toContain(gpts[visibility].model);
            expectEnvelope(retrieved, 404, 'model_not_found');
          }
          return false;
        }
        expect(reply.body).toMatchObject({
          object: 'chat.completion',
          model: gpts[visibility].model,
          choices: [{ message: { role: 'assistant' } }],
        });
        expect(listed.body.data.map((model: Json) => model.id)).toContain(gpts[visibility].model);
        expect(retrieved.body).toMatchObject({
          id: gpts[visibility].model,
          object: 'model',
          owned_by: 'Ada',
        });
        return true;
      },

      async edit(role, visibility) {
        const gpt = gpts[visibility];
        const reply = await visitors[role].call('PATCH', `/api/gpts/${gpt.id}`, {
          body: { description: `Edited by ${role}.` },
        });
        if (reply.status !== 200) {
          const seen = (await open(role, visibility)).status === 200;
          if (role === 'anonymous') expectEnvelope(reply, 401, 'not_signed_in');
          else if (seen) expectEnvelope(reply, 403, 'not_gpt_builder');
          else expectEnvelope(reply, 404, null);
          return false;
        }
        expect(reply.body.draft.description).toBe(`Edited by ${role}.`);
        return true;
      },

      async instructions(role, visibility) {
        const replies = [
          await open(role, visibility),
          await visitors[role].call('GET', `/api/gpts/${gpts[visibility].id}`),
          await visitors[role].call('GET', '/api/gpts?scope=workspace'),
          await visitors[role].call('GET', '/api/gpts?scope=public'),
        ];
        const leaked = replies.some((reply) => JSON.stringify(reply.body).includes(secretOf(visibility)));
        if (!leaked) return false;
        expect(replies[0]!.body.draft.instructions).toBe(secretOf(visibility));
        expect(replies[0]!.body.published.instructions).toBe(secretOf(visibility));
        return true;
      },
    };

    for (const visibility of VISIBILITIES) {
      it(`${visibility}: exactly the allowed cells succeed`, async () => {
        const got = {} as Record<Role, string>;
        for (const role of ROLES) {
          let cells = '';
          for (const [letter, action] of [
            ['V', actions['view']!],
            ['C', actions['chat']!],
            ['E', actions['edit']!],
            ['I', actions['instructions']!],
          ] as const) {
            cells += (await action(role, visibility)) ? letter : '-';
          }
          got[role] = cells;
        }
        expect(got).toEqual(EXPECTED[visibility]);
      });
    }

    it('keeps a link GPT closed to whoever did not come through its current link', async () => {
      const visitor = new Visitor(server.baseURL.replace(/\/v1$/, ''));
      await visitor.signUp('Dan', 'dan@example.com');
      const gpt = gpts.link;
      expectEnvelope(await visitor.call('GET', `/api/gpts/${gpt.id}`), 404, null);
      const chat = () =>
        visitor.call('POST', '/v1/chat/completions', {
          body: { model: gpt.model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 },
        });
      expectEnvelope(await chat(), 404, 'model_not_found');

      expect((await visitor.call('GET', `/api/gpts/shared/${gpt.link_token}`)).status).toBe(200);
      // Opening the link once keeps the GPT open to this person, by id and as a model.
      expect((await visitor.call('GET', `/api/gpts/${gpt.id}`)).body.object).toBe('gpt.view');
      expect((await chat()).status).toBe(200);

      // A new link: the old one leads nowhere and the access it gave is gone.
      const rotated = await visitors.builder.call('POST', `/api/gpts/${gpt.id}/link`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.link_token).not.toBe(gpt.link_token);
      expectEnvelope(await visitor.call('GET', `/api/gpts/shared/${gpt.link_token}`), 404, null);
      expectEnvelope(await visitor.call('GET', `/api/gpts/${gpt.id}`), 404, null);
      expectEnvelope(await chat(), 404, 'model_not_found');
      expect((await visitor.call('GET', `/api/gpts/shared/${rotated.body.link_token}`)).status).toBe(200);
      gpts.link = rotated.body;
    });

    it('lists each GPT only where its visibility puts it, and never with its instructions', async () => {
      const ids = (reply: Reply) => reply.body.data.map((gpt: Json) => gpt.id);
      const mine = await visitors.builder.call('GET', '/api/gpts');
      expect(mine.status).toBe(200);
      expect(new Set(ids(mine))).toEqual(new Set(VISIBILITIES.map((visibility) => gpts[visibility].id)));
      expect(mine.body.data.every((gpt: Json) => gpt.object === 'gpt')).toBe(true);

      const memberWorkspace = await visitors.member.call('GET', '/api/gpts?scope=workspace');
      expect(ids(memberWorkspace)).toEqual([gpts.workspace.id]);
      expect(memberWorkspace.body.data[0].object).toBe('gpt.view');
      expect(ids(await visitors.other.call('GET', '/api/gpts?scope=workspace'))).toEqual([]);
      for (const role of ROLES) {
        const listed = await visitors[role].call('GET', '/api/gpts?scope=public');
        expect(ids(listed)).toEqual([gpts.public.id]);
      }
      expectEnvelope(await visitors.anonymous.call('GET', '/api/gpts'), 401, 'not_signed_in');
      expect((await visitors.member.call('GET', '/api/gpts')).body.data).toEqual([]);
    });

    it('lets only the builder publish, share, see versions or delete', async () => {
      const gpt = gpts.public;
      for (const role of ['member', 'other'] as const) {
        for (const [method, path, body] of [
          ['POST', `/api/gpts/${gpt.id}/publish`, undefined],
          ['PATCH', `/api/gpts/${gpt.id}/sharing`, { visibility: 'private' }],
          ['POST', `/api/gpts/${gpt.id}/link`, undefined],
          ['GET', `/api/gpts/${gpt.id}/versions`, undefined],
          ['DELETE', `/api/gpts/${gpt.id}`, undefined],
        ] as const) {
          expectEnvelope(await visitors[role].call(method, path, { body }), 403, 'not_gpt_builder');
        }
      }
      const still = await visitors.builder.call('GET', `/api/gpts/${gpt.id}`);
      expect(still.body).toMatchObject({ visibility: 'public', published: { version: 1 } });
    });
  });
}
