// Accounts and sessions of the web app, over real HTTP on both databases: sign-up (the first
// person owns the team workspace), sign-in, the session cookie's flags, CSRF defences, sessions
// on /v1 (the official SDK included), and that one person can never reach another's chats, keys
// or workspace.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { webOrigin } from '../support/people.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const chatMessages = [
  { id: 'q1', parent_id: null, role: 'user', content: 'How do tides work?', created_at: 1_700_000_000 },
  {
    id: 'a1',
    parent_id: 'q1',
    role: 'assistant',
    content: 'The moon pulls.',
    model: MODEL,
    created_at: 1_700_000_001,
  },
];

for (const dialect of DIALECTS) {
  describe(`accounts and sessions [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let origin: string;
    let ada: Visitor;
    let bob: Visitor;

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      origin = webOrigin(server);
      ada = new Visitor(origin);
      bob = new Visitor(origin);
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    it('makes the first person an owner of the team workspace, and gives everyone a personal one', async () => {
      const visitor = new Visitor(origin);
      expect((await visitor.call('GET', '/api/session')).body).toEqual({
        authenticated: false,
        sign_up_open: true,
        first_person: true,
      });

      const first = await ada.signUp('Ada Lovelace', 'Ada@Example.com');
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        authenticated: true,
        account: { object: 'account', name: 'Ada Lovelace', email: 'ada@example.com' },
        csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(first.body.account).not.toHaveProperty('password_hash');
      const kinds = first.body.workspaces.map((workspace: Json) => [workspace.kind, workspace.role]);
      expect(kinds).toEqual(
        expect.arrayContaining([
          ['personal', 'owner'],
          ['team', 'owner'],
        ]),
      );
      const personal = first.body.workspaces.find((workspace: Json) => workspace.kind === 'personal');
      expect(first.body.workspace_id).toBe(personal.id);
      // The team workspace is the one the bootstrap key (and `atelier keys create`) lives in.
      const team = first.body.workspaces.find((workspace: Json) => workspace.kind === 'team');
      const bootstrap = await server.server.storage.repositories.apiKeys.findActiveBySecret(server.apiKey);
      expect(bootstrap?.workspaceId).toBe(team.id);

      const second = await bob.signUp('Bob', 'bob@example.com');
      expect(second.status).toBe(201);
      expect(second.body.workspaces.map((workspace: Json) => [workspace.kind, workspace.role])).toEqual([
        ['personal', 'owner'],
      ]);
      expect((await visitor.call('GET', '/api/session')).body).toMatchObject({ first_person: false });
      // The password is stored as a salted scrypt hash, never as itself.
      const account = await server.server.storage.repositories.accounts.findByEmail('ada@example.com');
      expect(account?.passwordHash).toMatch(
        /^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/,
      );
    });

    it('sets an httpOnly, SameSite=Lax session cookie for the whole site, not Secure over plain http', async () => {
      const visitor = new Visitor(origin);
      // Without a trusted proxy, a client cannot claim https to get different cookie handling.
      const reply = await visitor.call('POST', '/api/auth/sign-in', {
        body: { email: 'ada@example.com', password: 'correct horse battery' },
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(reply.status).toBe(200);
      expect(reply.setCookies).toHaveLength(1);
      const cookie = reply.setCookies[0]!;
      expect(cookie).toMatch(/^atelier_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).toMatch(/; Max-Age=2592000/);
      expect(cookie).not.toMatch(/Secure/);
      // The secret in the cookie is not what the database holds.
      const secret = cookie.split(';')[0]!.split('=')[1]!;
      const rows = await server.server.storage.database.db
        .selectFrom('sessions')
        .select('token_hash')
        .execute();
      expect(rows.some((row) => row.token_hash === secret)).toBe(false);
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_hash))).toBe(true);
    });

    it('answers a wrong password and an unknown email with the same 401 envelope', async () => {
      const visitor = new Visitor(origin);
      const wrong = await visitor.signIn('ada@example.com', 'not the password');
      expectEnvelope(wrong, 401, 'invalid_credentials');
      const unknown = await visitor.signIn('nobody@example.com', 'not the password');
      expectEnvelope(unknown, 401, 'invalid_credentials');
      expect(unknown.body.error.message).toBe(wrong.body.error.message);
      expect(wrong.setCookies).toEqual([]);
      expect((await visitor.call('GET', '/api/session')).body.authenticated).toBe(false);
    });

    it('refuses a taken email (409) and a short password (400), creating nothing', async () => {
      const visitor = new Visitor(origin);
      expectEnvelope(await visitor.signUp('Imposter', 'ADA@example.com'), 409, 'email_taken');
      const short = await visitor.signUp('Short', 'short@example.com', 'seven77');
      expectEnvelope(short, 400, 'password_too_short');
      expect(short.body.error.param).toBe('password');
      expect(await server.server.storage.repositories.accounts.findByEmail('short@example.com')).toBeNull();
      expectEnvelope(await visitor.signUp('Bad', 'not-an-email'), 400, null);
    });

    it('refuses changes without the CSRF token, with a wrong one, from another origin or cross-site', async () => {
      const create = { body: { title: 'Forged' } };
      expectEnvelope(await ada.call('POST', '/api/chats', { ...create, csrf: false }), 403, 'csrf_failed');
      expectEnvelope(await ada.call('POST', '/api/chats', { ...create, csrf: 'wrong' }), 403, 'csrf_failed');
      // Another session's token does not fit this session.
      expectEnvelope(
        await ada.call('POST', '/api/chats', { ...create, csrf: bob.csrf! }),
        403,
        'csrf_failed',
      );
      expectEnvelope(
        await ada.call('POST', '/api/chats', { ...create, headers: { origin: 'https://evil.example' } }),
        403,
        'csrf_failed',
      );
      expectEnvelope(
        await ada.call('POST', '/api/chats', { ...create, headers: { 'sec-fetch-site': 'cross-site' } }),
        403,
        'csrf_failed',
      );
      expect((await ada.call('GET', '/api/chats')).body.data).toEqual([]);
      // The page's own requests pass: same origin, the right token.
      const ok = await ada.call('POST', '/api/chats', {
        ...create,
        headers: { origin, 'sec-fetch-site': 'same-origin' },
      });
      expect(ok.status).toBe(201);
      expect((await ada.call('DELETE', `/api/chats/${ok.body.id}`)).status).toBe(200);
    });

    it('needs the custom header to sign in or up too, so another site cannot sign a browser in', async () => {
      const visitor = new Visitor(origin);
      const reply = await visitor.call('POST', '/api/auth/sign-in', {
        body: { email: 'ada@example.com', password: 'correct horse battery' },
        csrf: false,
      });
      expectEnvelope(reply, 403, 'csrf_failed');
      expect(reply.setCookies).toEqual([]);
      const signUp = await visitor.call('POST', '/api/auth/sign-up', {
        body: { name: 'X', email: 'x@example.com', password: 'long enough pass' },
        csrf: false,
      });
      expectEnvelope(signUp, 403, 'csrf_failed');
    });

    it('lets a session call /v1 with its CSRF header, the official SDK included, in its personal workspace', async () => {
      const models = await ada.call('GET', '/v1/models');
      expect(models.status).toBe(200);
      expect(models.body.data.map((model: Json) => model.id)).toContain(MODEL);
      expectEnvelope(await ada.call('GET', '/v1/models', { csrf: false }), 403, 'csrf_failed');
      expectEnvelope(await ada.call('GET', '/v1/models', { csrf: bob.csrf! }), 403, 'csrf_failed');
      const stranger = new Visitor(origin);
      expectEnvelope(await stranger.call('GET', '/v1/models'), 401, null);

      const client = ada.sdk(server);
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 4,
      });
      expect(completion.choices[0]?.message.role).toBe('assistant');
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 4,
        stream: true,
      });
      let chunks = 0;
      for await (const _chunk of stream) chunks++;
      expect(chunks).toBeGreaterThan(0);
    });

    it('keeps each person to their own workspace on /v1: a file Ada uploads is not Bob’s to see', async () => {
      const file = await ada.sdk(server).files.create({
        file: await toFile(Buffer.from('Ada’s private notes'), 'notes.txt'),
        purpose: 'assistants',
      });
      const bobs = bob.sdk(server);
      expect((await bobs.files.list()).data.map((entry) => entry.id)).not.toContain(file.id);
      await expect(bobs.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
      await expect(bobs.files.delete(file.id)).rejects.toMatchObject({ status: 404 });
      expect((await ada.sdk(server).files.retrieve(file.id)).id).toBe(file.id);
    });

    it('never lets one person read, list, change or delete another’s chats', async () => {
      const created = await ada.call('POST', '/api/chats', {
        body: { title: 'Tides', messages: chatMessages },
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect(id).toMatch(/^chat_[0-9A-Za-z]{24}$/);

      expectEnvelope(await bob.call('GET', `/api/chats/${id}`), 404, null);
      expectEnvelope(await bob.call('PATCH', `/api/chats/${id}`, { body: { title: 'Mine now' } }), 404, null);
      expectEnvelope(await bob.call('DELETE', `/api/chats/${id}`), 404, null);
      expect((await bob.call('GET', '/api/chats')).body.data).toEqual([]);
      expect((await bob.call('GET', '/api/chats?search=tides')).body.data).toEqual([]);
      const stranger = new Visitor(origin);
      expectEnvelope(await stranger.call('GET', `/api/chats/${id}`), 401, 'not_signed_in');

      const still = await ada.call('GET', `/api/chats/${id}`);
      expect(still.body).toMatchObject({ title: 'Tides', current_node_id: 'a1' });
      expect(still.body.messages).toHaveLength(2);
      expect((await ada.call('DELETE', `/api/chats/${id}`)).status).toBe(200);
    });

    it('never lets one person list or revoke another’s API keys', async () => {
      const adaPersonal = (await ada.call('GET', '/api/session')).body.workspace_id;
      const created = await ada.call('POST', `/api/workspaces/${adaPersonal}/api-keys`, {
        body: { name: 'laptop' },
      });
      expect(created.status).toBe(201);
      expectEnvelope(await bob.call('GET', `/api/workspaces/${adaPersonal}/api-keys`), 404, null);
      expectEnvelope(
        await bob.call('DELETE', `/api/workspaces/${adaPersonal}/api-keys/${created.body.id}`),
        404,
        null,
      );
      expectEnvelope(
        await bob.call('POST', `/api/workspaces/${adaPersonal}/api-keys`, { body: { name: 'sneaky' } }),
        404,
        null,
      );
      // Nor through Bob's own workspace's path.
      const bobPersonal = (await bob.call('GET', '/api/session')).body.workspace_id;
      expectEnvelope(
        await bob.call('DELETE', `/api/workspaces/${bobPersonal}/api-keys/${created.body.id}`),
        404,
        null,
      );
      const listed = await ada.call('GET', `/api/workspaces/${adaPersonal}/api-keys`);
      expect(listed.body.data.find((key: Json) => key.id === created.body.id)?.revoked_at).toBeNull();
    });

    it('shows a new API key once; it works as a Bearer key until revoked', async () => {
      const workspace = (await ada.call('GET', '/api/session')).body.workspace_id;
      const created = await ada.call('POST', `/api/workspaces/${workspace}/api-keys`, {
        body: { name: 'script' },
      });
      expect(created.body).toMatchObject({ object: 'api_key', name: 'script', role: 'admin' });
      const secret: string = created.body.secret;
      expect(secret).toMatch(/^sk-atelier-/);

      const listed = await ada.call('GET', `/api/workspaces/${workspace}/api-keys`);
      expect(JSON.stringify(listed.body)).not.toContain(secret);
      expect(listed.body.data.find((key: Json) => key.id === created.body.id)).toMatchObject({
        redacted_value: `${secret.slice(0, 5)}…${secret.slice(-4)}`,
      });

      const keyed = new OpenAI({ baseURL: server.baseURL, apiKey: secret, maxRetries: 0 });
      expect((await keyed.models.list()).data.length).toBeGreaterThan(0);
      // The key acts in the workspace it was made in: Ada's personal one.
      const file = await keyed.files.create({
        file: await toFile(Buffer.from('x'), 'x.txt'),
        purpose: 'assistants',
      });
      expect((await ada.sdk(server).files.retrieve(file.id)).id).toBe(file.id);

      const revoked = await ada.call('DELETE', `/api/workspaces/${workspace}/api-keys/${created.body.id}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.revoked_at).toEqual(expect.any(Number));
      await expect(keyed.models.list()).rejects.toMatchObject({ status: 401 });
    });

    it('keeps chat history: newest first, searchable, renamable; temporary chats are not listed', async () => {
      const first = await ada.call('POST', '/api/chats', { body: { title: 'Gardening', messages: [] } });
      const second = await ada.call('POST', '/api/chats', {
        body: {
          title: '  Quantum   physics ',
          messages: [
            {
              id: 'q',
              parent_id: null,
              role: 'user',
              content: 'What is 50% of an electron_spin?',
              created_at: 1,
            },
          ],
        },
      });
      expect(second.body.title).toBe('Quantum physics');
      const temporary = await ada.call('POST', '/api/chats', {
        body: { title: 'Secret', temporary: true, messages: [] },
      });
      expect(temporary.body.temporary).toBe(true);

      const listed = (await ada.call('GET', '/api/chats')).body;
      expect(listed.data.map((chat: Json) => chat.title)).toEqual(['Quantum physics', 'Gardening']);
      expect(listed.data[0]).not.toHaveProperty('messages');
      // The temporary chat is still its owner's to open (a reload keeps it), just not listed.
      expect((await ada.call('GET', `/api/chats/${temporary.body.id}`)).status).toBe(200);

      // Search looks in titles and messages, case-insensitively, with % and _ taken literally.
      const search = async (text: string) =>
        (await ada.call('GET', `/api/chats?search=${encodeURIComponent(text)}`)).body.data.map(
          (chat: Json) => chat.title,
        );
      expect(await search('GARDEN')).toEqual(['Gardening']);
      expect(await search('electron_spin')).toEqual(['Quantum physics']);
      expect(await search('50%')).toEqual(['Quantum physics']);
      expect(await search('%')).toEqual(['Quantum physics']);
      expect(await search('role')).toEqual([]);

      const renamed = await ada.call('PATCH', `/api/chats/${first.body.id}`, { body: { title: 'Roses' } });
      expect(renamed.body.title).toBe('Roses');
      // A change moves the chat to the top.
      expect((await ada.call('GET', '/api/chats')).body.data[0].title).toBe('Roses');

      const page = (await ada.call('GET', '/api/chats?limit=1')).body;
      expect(page).toMatchObject({ object: 'list', has_more: true });
      const next = (await ada.call('GET', `/api/chats?limit=1&after=${page.last_id}`)).body;
      expect(next.data.map((chat: Json) => chat.title)).toEqual(['Quantum physics']);
      expect(next.has_more).toBe(false);

      for (const chat of [first, second, temporary]) {
        expect((await ada.call('DELETE', `/api/chats/${chat.body.id}`)).status).toBe(200);
      }
      expect((await ada.call('GET', '/api/chats')).body.data).toEqual([]);
    });

    it('keeps message trees whole: parents come first and the current message must exist', async () => {
      const orphan = await ada.call('POST', '/api/chats', {
        body: { messages: [{ id: 'a', parent_id: 'missing', role: 'user', content: 'x', created_at: 1 }] },
      });
      expectEnvelope(orphan, 400, null);
      expect(orphan.body.error.param).toBe('messages[0].parent_id');
      const branch = [
        ...chatMessages,
        {
          id: 'a2',
          parent_id: 'q1',
          role: 'assistant',
          content: 'Gravity.',
          status: 'stopped',
          created_at: 5,
        },
      ];
      const created = await ada.call('POST', '/api/chats', { body: { messages: branch } });
      expect(created.body.title).toBe('New chat');
      expect(created.body.current_node_id).toBe('a2');
      const updated = await ada.call('PATCH', `/api/chats/${created.body.id}`, {
        body: { current_node_id: 'a1' },
      });
      expect(updated.body.current_node_id).toBe('a1');
      expect(updated.body.messages.map((message: Json) => message.status)).toEqual([
        'complete',
        'complete',
        'stopped',
      ]);
      // The tree is the server's: a page changes it by asking, never by sending it whole.
      expectEnvelope(
        await ada.call('PATCH', `/api/chats/${created.body.id}`, { body: { messages: branch } }),
        400,
        null,
      );
      expectEnvelope(
        await ada.call('PATCH', `/api/chats/${created.body.id}`, { body: { current_node_id: 'nope' } }),
        400,
        null,
      );
      await ada.call('DELETE', `/api/chats/${created.body.id}`);
    });

    it('saves preferences to the account and returns them with the session', async () => {
      const saved = await ada.call('PATCH', '/api/account/preferences', {
        body: { about_me: 'I teach maths.', response_style: 'Short answers.', theme: 'dark', language: 'ko' },
      });
      expect(saved.body).toEqual({
        about_me: 'I teach maths.',
        response_style: 'Short answers.',
        custom_instructions_enabled: true,
        theme: 'dark',
        language: 'ko',
        chat_history_enabled: true,
      });
      await ada.call('PATCH', '/api/account/preferences', { body: { custom_instructions_enabled: false } });
      const session = await ada.call('GET', '/api/session');
      expect(session.body.preferences).toMatchObject({
        about_me: 'I teach maths.',
        custom_instructions_enabled: false,
      });
      expectEnvelope(
        await ada.call('PATCH', '/api/account/preferences', { body: { theme: 'neon' } }),
        400,
        null,
      );
      expectEnvelope(
        await ada.call('PATCH', '/api/account/preferences', { body: { about_me: 'x'.repeat(1501) } }),
        400,
        null,
      );
      // Bob's are his own.
      expect((await bob.call('GET', '/api/session')).body.preferences.about_me).toBe('');
    });

    it('ends the session on the server at sign-out: the old cookie no longer works', async () => {
      const visitor = new Visitor(origin);
      await visitor.signIn('bob@example.com');
      const stolen = visitor.cookie;
      const out = await visitor.call('POST', '/api/auth/sign-out');
      expect(out.status).toBe(204);
      expect(out.setCookies[0]).toMatch(/^atelier_session=;/);
      const replay = new Visitor(origin);
      replay.cookie = stolen;
      expect((await replay.call('GET', '/api/session')).body.authenticated).toBe(false);
      expectEnvelope(await replay.call('GET', '/api/chats'), 401, 'not_signed_in');
      // Bob's other session is untouched.
      expect((await bob.call('GET', '/api/session')).body.authenticated).toBe(true);
    });

    it('locks an email out after repeated wrong passwords, with retry-after', async () => {
      const visitor = new Visitor(origin);
      await visitor.signUp('Carol', 'carol@example.com');
      const guesser = new Visitor(origin);
      for (let attempt = 0; attempt < 10; attempt++) {
        expectEnvelope(
          await guesser.signIn('carol@example.com', `guess ${attempt}`),
          401,
          'invalid_credentials',
        );
      }
      const locked = await guesser.signIn('carol@example.com');
      expectEnvelope(locked, 429, 'rate_limit_exceeded');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Others still sign in from the same address.
      expect((await new Visitor(origin).signIn('bob@example.com')).status).toBe(200);
    });

    it('deletes an account only with its password, and everything personal goes with it', async () => {
      const dora = new Visitor(origin);
      const signedUp = await dora.signUp('Dora', 'dora@example.com');
      const workspace = signedUp.body.workspace_id;
      const chat = await dora.call('POST', '/api/chats', { body: { title: 'Mine', messages: chatMessages } });
      const key = await dora.call('POST', `/api/workspaces/${workspace}/api-keys`, { body: { name: 'k' } });
      const file = await dora.sdk(server).files.create({
        file: await toFile(Buffer.from('Dora’s notes'), 'dora.txt'),
        purpose: 'assistants',
      });

      expectEnvelope(
        await dora.call('DELETE', '/api/account', { body: { password: 'wrong password' } }),
        401,
        'invalid_credentials',
      );
      expectEnvelope(
        await dora.call('DELETE', '/api/account', {
          body: { password: 'correct horse battery' },
          csrf: false,
        }),
        403,
        'csrf_failed',
      );
      const deleted = await dora.call('DELETE', '/api/account', {
        body: { password: 'correct horse battery' },
      });
      expect(deleted.status).toBe(204);

      const { repositories } = server.server.storage;
      expect(await repositories.accounts.findByEmail('dora@example.com')).toBeNull();
      expect(await repositories.workspaces.findById(workspace)).toBeNull();
      expect(await repositories.apiKeys.findActiveBySecret(key.body.secret)).toBeNull();
      expect(await repositories.chats.find(signedUp.body.account.id, chat.body.id)).toBeNull();
      // Her personal workspace's files went with it.
      expect(await repositories.files.find(workspace, file.id)).toBeNull();
      expectEnvelope(await new Visitor(origin).signIn('dora@example.com'), 401, 'invalid_credentials');
    });
  });
}
