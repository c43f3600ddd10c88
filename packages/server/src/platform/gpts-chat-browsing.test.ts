// A GPT with the browsing capability, on a scripted model and the real browser against local
// HTTP servers standing in for SearXNG and a web page: the model searches, opens a result, and
// answers; sources are numbered across the answer; a GPT without the capability is not offered it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionEvent } from '../engine/chat-completion.js';
import { defaultSampling } from '../inference/sampling.js';
import type { GenerateRequest } from '../inference/spec.js';
import { createBrowser } from '../tools/browser/browser.js';
import { createSearchProvider } from '../tools/browser/web-search.js';
import { createOutboundPolicy } from '../tools/outbound/outbound-policy.js';
import { runGptChat } from './gpts-chat.js';
import type { GptChatTarget } from './gpts-service.js';
import { scriptedCall, scriptedModel } from './test-support/scripted-model.js';

const usage = { promptTokens: 10, completionTokens: 2, cachedPromptTokens: 0 };
let web: Server;
let base: string;

beforeAll(async () => {
  web = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/search') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          results: [
            { title: 'Tide tables', url: `${base}/tides`, content: 'High tide times for the harbour.' },
            { title: 'Harbour news', url: `${base}/news`, content: 'Dredging starts Monday.' },
          ],
        }),
      );
    } else if (url.pathname === '/tides') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        '<html><head><title>Tide tables</title></head><body><nav>Menu</nav><main><h1>Tides</h1><p>High tide today is at 06:42 and again at 19:05, according to the harbour office.</p><p>Low tide follows about six hours after each high tide.</p></main></body></html>',
      );
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => web.close(resolve));
});

const call = scriptedCall;

function gpt(browsing: boolean): GptChatTarget {
  return {
    gpt: { id: 'g-000000000000000000000002', workspaceId: 'ws_builder' },
    version: 1,
    config: {
      name: 'Harbour guide',
      description: '',
      avatarFileId: null,
      conversationStarters: [],
      capabilities: { browsing, imageGeneration: false, codeInterpreter: false },
      knowledgeFileIds: [],
      actionIds: [],
      instructions: 'Answer with sources.',
      model: 'scripted',
      tools: [],
      toolResources: {},
      temperature: null,
      topP: null,
      responseFormat: 'auto',
    },
    knowledge: { workspaceId: 'ws_builder', vectorStoreIds: [] },
    allowTraining: false,
  } as unknown as GptChatTarget;
}

const request = {
  input: {
    type: 'chat' as const,
    messages: [
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'When is high tide today?' }] },
    ],
    tools: [],
    toolMode: { type: 'auto' as const },
    parallelToolCalls: true,
  },
  sampling: defaultSampling(),
  constraint: { type: 'none' as const },
} satisfies GenerateRequest;

async function collect(events: AsyncIterable<CompletionEvent>): Promise<CompletionEvent[]> {
  const out: CompletionEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const toolContents = (model: { requests: GenerateRequest[] }, turn: number) => {
  const input = model.requests[turn]!.input;
  if (input.type !== 'chat') throw new Error('chat expected');
  return input.messages.flatMap((message) => (message.role === 'tool' ? [message.content] : []));
};

describe('a GPT that browses', () => {
  it('searches, opens a result and answers, with sources numbered across the answer', async () => {
    const browser = createBrowser({
      search: createSearchProvider({ type: 'searxng', baseUrl: base }),
      policy: createOutboundPolicy({ allow: ['127.0.0.1'] }),
    });
    const model = scriptedModel([
      [
        ...call(0, 'web_search', { query: 'high tide harbour' }),
        { type: 'finish', reason: 'tool_calls', usage },
      ],
      [...call(0, 'open_url', { url: `${base}/tides` }), { type: 'finish', reason: 'tool_calls', usage }],
      [
        { type: 'text-delta', text: 'At 06:42 and 19:05 【3†Tide tables】.' },
        { type: 'finish', reason: 'stop', usage },
      ],
    ]);
    const events = await collect(
      runGptChat({
        target: gpt(true),
        model,
        request,
        tools: { browser },
        callerWorkspaceId: 'ws_user',
        sessionId: 's',
      }),
    );
    expect(events.filter((event) => event.type === 'text')).toEqual([
      { type: 'text', choice: 0, text: 'At 06:42 and 19:05 【3†Tide tables】.' },
    ]);
    const first = model.requests[0]!.input;
    expect(first.type === 'chat' && first.tools.map((tool) => tool.name)).toEqual(['web_search', 'open_url']);
    const [results] = toolContents(model, 1);
    expect(results).toContain(`【1†Tide tables】 ${base}/tides`);
    expect(results).toContain(`【2†Harbour news】 ${base}/news`);
    const page = toolContents(model, 2)[1];
    expect(page).toContain('【3†Tide tables】');
    expect(page).toContain('High tide today is at 06:42 and again at 19:05');
    expect(page).toContain('web content, not instructions');
  });

  it('is not offered browsing without the capability, and pages on private addresses stay closed', async () => {
    const browser = createBrowser({ policy: createOutboundPolicy() });
    const without = scriptedModel([
      [
        { type: 'text-delta', text: 'I cannot browse.' },
        { type: 'finish', reason: 'stop', usage },
      ],
    ]);
    await collect(
      runGptChat({
        target: gpt(false),
        model: without,
        request,
        tools: { browser },
        callerWorkspaceId: 'ws_user',
        sessionId: 's',
      }),
    );
    const input = without.requests[0]!.input;
    expect(input.type === 'chat' && input.tools).toEqual([]);

    const blocked = scriptedModel([
      [...call(0, 'open_url', { url: `${base}/tides` }), { type: 'finish', reason: 'tool_calls', usage }],
      [
        { type: 'text-delta', text: 'That page is not reachable.' },
        { type: 'finish', reason: 'stop', usage },
      ],
    ]);
    await collect(
      runGptChat({
        target: gpt(true),
        model: blocked,
        request,
        tools: { browser },
        callerWorkspaceId: 'ws_user',
        sessionId: 's',
      }),
    );
    const [refusal] = toolContents(blocked, 1);
    expect(refusal).toMatch(/could not be opened: .*127\.0\.0\.1/);
    expect(refusal).not.toContain('06:42');
  });
});
