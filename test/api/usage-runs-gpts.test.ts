// What the server's own model turns used reach the usage ledger too, on both databases: each
// turn of an Assistants run counts against the run's workspace, API key and person, and a chat
// completion with a GPT (`model: "gpt-<id>"`) counts in the caller's workspace under the GPT's
// model name (never the model it runs on), never in the GPT builder's. Read back through OpenAI's Usage API, the
// counts match the usage the run and the completion reported.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { type Json, Visitor } from '../support/web-visitor.js';
import {
  assertMatchesLatestSpec,
  DIALECTS,
  type DialectServer,
  startDialectServer,
} from './vector-stores-support.js';

interface Result {
  input_tokens: number;
  input_cached_tokens: number;
  output_tokens: number;
  num_model_requests: number;
  model: string | null;
  api_key_id: string | null;
  user_id: string | null;
  atelier: { estimated_requests: number };
}

const forecast = {
  type: 'function' as const,
  function: {
    name: 'get_forecast',
    description: 'Weather forecast',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 24 } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

for (const dialect of DIALECTS) {
  describe(`usage of runs and GPT chats [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let ada: Visitor;
    let carol: Visitor;

    /** A personal API key of `visitor` in their own workspace (they own it: an admin key). */
    const personalKey = async (visitor: Visitor) => {
      const workspaceId = (await visitor.call('GET', '/api/session')).body.workspace_id as string;
      const created = await visitor.call('POST', `/api/workspaces/${workspaceId}/api-keys`, {
        body: { name: 'script' },
      });
      expect(created.status).toBe(201);
      const secret = created.body.secret as string;
      const key = await server.server.storage.repositories.apiKeys.findActiveBySecret(secret);
      return {
        client: new OpenAI({ baseURL: server.baseURL, apiKey: secret, maxRetries: 0, timeout: 60_000 }),
        admin: new OpenAI({ baseURL: server.baseURL, adminAPIKey: secret, apiKey: null, maxRetries: 0 }),
        keyId: key!.id,
        accountId: key!.accountId!,
      };
    };

    // One window for every reading: before and after never straddle two windows.
    const since = Math.floor(Date.now() / 60_000) * 60 - 60;

    /** The completions usage since this suite began, grouped by person, key and model. */
    const usage = async (admin: OpenAI) => {
      const page = await admin.admin.organization.usage.completions({
        start_time: since,
        bucket_width: '1m',
        group_by: ['user_id', 'api_key_id', 'model'],
      });
      assertMatchesLatestSpec('UsageResponse', page);
      const results = page.data.flatMap((bucket) => bucket.results) as unknown as Result[];
      const sum = (field: 'input_tokens' | 'output_tokens' | 'num_model_requests') =>
        results.reduce((total, result) => total + result[field], 0);
      return {
        results,
        requests: sum('num_model_requests'),
        input: sum('input_tokens'),
        output: sum('output_tokens'),
        estimated: results.reduce((total, result) => total + result.atelier.estimated_requests, 0),
      };
    };

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      const origin = server.baseURL.replace(/\/v1$/, '');
      ada = new Visitor(origin);
      carol = new Visitor(origin);
      await ada.signUp('Ada', 'ada@example.com');
      await carol.signUp('Carol', 'carol@example.com');
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    it("counts each model turn of a run against the run's workspace, key and person", async () => {
      const owner = await personalKey(ada);
      const before = await usage(owner.admin);
      const assistant = await owner.client.beta.assistants.create({ model: MODEL, tools: [forecast] });
      const thread = await owner.client.beta.threads.create({
        messages: [{ role: 'user', content: 'What will the weather be in Oslo?' }],
      });
      // A forced call, then its output: at least two model turns, each counted.
      let run = await owner.client.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id, tool_choice: { type: 'function', function: { name: 'get_forecast' } } },
        { pollIntervalMs: 50 },
      );
      let turns = 1;
      for (let round = 0; run.status === 'requires_action' && round < 5; round++, turns++) {
        run = await owner.client.beta.threads.runs.submitToolOutputsAndPoll(
          run.id,
          {
            thread_id: thread.id,
            tool_outputs: run.required_action!.submit_tool_outputs.tool_calls.map((call) => ({
              tool_call_id: call.id,
              output: '{"temperature": 21}',
            })),
          },
          { pollIntervalMs: 50 },
        );
      }
      expect(run.status).toBe('completed');
      expect(turns).toBeGreaterThanOrEqual(2);

      const after = await usage(owner.admin);
      expect(after.requests - before.requests).toBe(turns);
      expect(after.input - before.input).toBe(run.usage!.prompt_tokens);
      expect(after.output - before.output).toBe(run.usage!.completion_tokens);
      expect(after.estimated - before.estimated).toBe(0);
      expect(after.results.length).toBeGreaterThan(0);
      for (const result of after.results)
        expect(result).toMatchObject({ model: MODEL, api_key_id: owner.keyId, user_id: owner.accountId });
    });

    it("counts a GPT's chat completion in the caller's workspace, under the GPT's name", async () => {
      const created = await ada.call('POST', '/api/gpts', {
        body: {
          name: 'Harbour master',
          description: 'Knows the tides.',
          instructions: 'Speak only of tides.',
          model: MODEL,
          visibility: 'public',
        },
      });
      expect(created.status).toBe(201);
      const gpt = created.body as Json;
      expect((await ada.call('POST', `/api/gpts/${gpt.id}/publish`)).status).toBe(200);

      const builder = await personalKey(ada);
      const caller = await personalKey(carol);
      const builderBefore = await usage(builder.admin);
      const callerBefore = await usage(caller.admin);

      const completion = await caller.client.chat.completions.create({
        model: `gpt-${gpt.id}`,
        messages: [{ role: 'user', content: 'When is high tide?' }],
        max_tokens: 4,
      });
      // The answer names the GPT, never the model under it.
      expect(completion.model).toBe(`gpt-${gpt.id}`);
      expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);

      const callerAfter = await usage(caller.admin);
      expect(callerAfter.requests - callerBefore.requests).toBe(1);
      expect(callerAfter.input - callerBefore.input).toBe(completion.usage!.prompt_tokens);
      expect(callerAfter.output - callerBefore.output).toBe(completion.usage!.completion_tokens);
      expect(callerAfter.results.length).toBeGreaterThan(0);
      for (const result of callerAfter.results)
        expect(result).toMatchObject({
          model: `gpt-${gpt.id}`,
          api_key_id: caller.keyId,
          user_id: caller.accountId,
        });
      // The builder's workspace pays nothing for someone else's conversation with its GPT.
      expect(await usage(builder.admin)).toEqual(builderBefore);

      // Streamed, with the usage chunk asked for: counted the same way.
      const stream = await caller.client.chat.completions.create({
        model: `gpt-${gpt.id}`,
        messages: [{ role: 'user', content: 'And low tide?' }],
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      });
      let streamed: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
      expect(streamed?.completion_tokens).toBeGreaterThan(0);
      const streamedAfter = await usage(caller.admin);
      expect(streamedAfter.requests - callerAfter.requests).toBe(1);
      expect(streamedAfter.input - callerAfter.input).toBe(streamed!.prompt_tokens);
      expect(streamedAfter.output - callerAfter.output).toBe(streamed!.completion_tokens);
    });
  });
}
