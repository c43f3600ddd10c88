// `atelier export training`, on both databases, over chats made through the web app's API: the
// JSONL holds one `{"messages":[…]}` line (OpenAI's fine-tuning chat format) per eligible chat,
// and never a chat started with history off, a chat of someone whose history is off, or a
// conversation with a GPT whose builder does not allow training (a thread of the chat that a GPT
// ran on, or a chat recorded as the GPT's); `--since` keeps the chats changed since a date.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../packages/server/src/cli/main.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const exchange = (question: string, answer: string) => [
  { id: 'q1', parent_id: null, role: 'user', content: question, created_at: 1_700_000_000 },
  { id: 'a1', parent_id: 'q1', role: 'assistant', content: answer, model: MODEL, created_at: 1_700_000_001 },
];

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

for (const dialect of DIALECTS) {
  describe(`atelier export training [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let outDir: string;
    let ada: Visitor;
    let carol: Visitor;

    /** Runs the CLI against the server's database. */
    async function atelier(...args: string[]) {
      const stdout = capture();
      const stderr = capture();
      const env = { ...dialectServer.env, ATELIER_DATA_DIR: server.dataDir, ATELIER_LOG_LEVEL: 'silent' };
      const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream, env, cwd: outDir });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    }

    /** The export's lines, each checked to be exactly `{"messages":[…]}`. */
    async function exported(...flags: string[]): Promise<Json[][]> {
      const file = path.join(outDir, `training-${Date.now()}.jsonl`);
      const { code, stderr } = await atelier('export', 'training', '--out', file, ...flags);
      expect(code).toBe(0);
      const lines = (await readFile(file, 'utf8')).split('\n');
      expect(lines.pop()).toBe('');
      expect(stderr).toMatch(
        new RegExp(`^Exported ${lines.length} conversations? .*for training to ${file}\\.\\n$`),
      );
      return lines.map((line) => {
        const example = JSON.parse(line);
        expect(Object.keys(example)).toEqual(['messages']);
        for (const message of example.messages) {
          expect(Object.keys(message).sort()).toEqual(['content', 'role']);
          expect(['user', 'assistant']).toContain(message.role);
        }
        return example.messages;
      });
    }
    const questions = (examples: Json[][]) => examples.map((messages) => messages[0].content).sort();

    /** A chat answered by the model; resolves once the answer is complete. */
    async function answered(visitor: Visitor, question: string): Promise<Json> {
      const started = await visitor.call('POST', '/api/chats', {
        body: { message: { id: 'q1', content: question, answer_id: 'a1', model: MODEL } },
      });
      expect(started.status).toBe(201);
      const id = started.body.chat.id;
      await expect
        .poll(async () => (await visitor.call('GET', `/api/chats/${id}`)).body.messages[1].status, {
          timeout: 30_000,
        })
        .toBe('complete');
      return (await visitor.call('GET', `/api/chats/${id}`)).body;
    }

    /** A GPT of Ada's, run on `threadId` through the API (as a developer may). */
    async function runGpt(threadId: string, allowTraining: boolean): Promise<void> {
      const gpt = await ada.call('POST', '/api/gpts', {
        body: { name: `Harbour ${allowTraining}`, allow_training: allowTraining },
      });
      expect(gpt.status).toBe(201);
      const run = await ada
        .sdk(server)
        .beta.threads.runs.createAndPoll(threadId, { assistant_id: gpt.body.id }, { pollIntervalMs: 50 });
      expect(run.status).toBe('completed');
    }

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      outDir = await mkdtemp(path.join(tmpdir(), 'atelier-export-'));
      const origin = server.baseURL.replace(/\/v1$/, '');
      ada = new Visitor(origin);
      carol = new Visitor(origin);
      await ada.signUp('Ada', 'ada@example.com');
      await carol.signUp('Carol', 'carol@example.com');
    });
    afterAll(async () => {
      await dialectServer?.close();
      if (outDir) await rm(outDir, { recursive: true, force: true });
    });

    it('exports eligible chats and never those that must not leave', async () => {
      await ada.call('POST', '/api/chats', { body: { title: 'Roses', messages: exchange('Roses?', 'Yes') } });
      await ada.call('POST', '/api/chats', {
        body: { title: 'Hidden', temporary: true, messages: exchange('Temporary?', 'Yes') },
      });
      // Carol starts a chat with history off, then turns it back on and starts another.
      await carol.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: false } });
      await carol.call('POST', '/api/chats', {
        body: { title: 'Off', messages: exchange('Off the record?', 'Yes') },
      });
      await carol.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: true } });
      await carol.call('POST', '/api/chats', {
        body: { title: 'On', messages: exchange('On the record?', 'Yes') },
      });

      // Chats answered by the model, whose threads a GPT then ran on: only the one whose builder
      // allows training may be exported.
      const barred = await answered(ada, 'Tides for the no-training GPT?');
      await runGpt(barred.messages[1].thread_id, false);
      const allowed = await answered(ada, 'Tides for the training GPT?');
      await runGpt(allowed.messages[1].thread_id, true);
      // A chat recorded as a conversation with a GPT that does not allow training.
      const recorded = await answered(ada, 'Harbour rules?');
      const noTraining = await ada.call('POST', '/api/gpts', { body: { name: 'Private harbour' } });
      expect(noTraining.body.allow_training).toBe(false);
      await server.server.storage.repositories.gpts.recordConversation({
        gptId: noTraining.body.id,
        conversation: { kind: 'chat', id: recorded.id },
        accountId: null,
        workspaceId: (await ada.call('GET', '/api/session')).body.workspace_id,
        version: null,
        allowTraining: false,
      });

      const examples = await exported();
      expect(questions(examples)).toEqual(['On the record?', 'Roses?', 'Tides for the training GPT?']);
      expect(examples.find((messages) => messages[0].content === 'Roses?')).toEqual([
        { role: 'user', content: 'Roses?' },
        { role: 'assistant', content: 'Yes' },
      ]);
      const trained = examples.find((messages) => messages[0].content === 'Tides for the training GPT?')!;
      expect(trained).toEqual([
        { role: 'user', content: 'Tides for the training GPT?' },
        { role: 'assistant', content: allowed.messages[1].content },
      ]);
      // No half-written file is left beside the export.
      expect((await readdir(outDir)).filter((name) => name.includes('.partial-'))).toEqual([]);

      // Carol turns history off: none of her chats leave any more.
      await carol.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: false } });
      expect(questions(await exported())).toEqual(['Roses?', 'Tides for the training GPT?']);
    });

    it('--since keeps the chats changed since a date; to stdout without --out', async () => {
      const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
      expect(await exported('--since', tomorrow)).toEqual([]);
      expect((await exported('--since', yesterday)).length).toBe(2);
      const { code, stdout, stderr } = await atelier('export', 'training', '--since', yesterday);
      expect(code).toBe(0);
      expect(stdout.trim().split('\n')).toHaveLength(2);
      expect(stderr).toBe(`Exported 2 conversations changed since ${yesterday} for training.\n`);
    });

    it('says what is wrong with a bad date or command', async () => {
      const bad = await atelier('export', 'training', '--since', 'last week');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('--since must be a date like 2026-12-11');
      const unknown = await atelier('export', 'everything');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('usage: atelier export training [--out FILE] [--since DATE]');
    });
  });
}
