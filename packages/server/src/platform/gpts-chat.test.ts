// The GPT chat loop with a scripted model (what it generates each turn is fixed, what it is sent
// is recorded) and recording built-in tools: the GPT's knowledge is searched in the GPT's
// workspace, code runs in the caller's, the results go back to the model, and the client sees
// only the answer and its own function calls.
import { describe, expect, it } from 'vitest';
import type { CompletionEvent } from '../engine/chat-completion.js';
import { AtelierError } from '../errors.js';
import { defaultSampling } from '../inference/sampling.js';
import type { GenerateEvent, GenerateRequest, ToolDefinition } from '../inference/spec.js';
import type { GptConfig } from '../storage/repositories/gpts-repository.js';
import type { CodeInterpreterRequest, FileSearchRequest } from '../tools/spec.js';
import { runGptChat } from './gpts-chat.js';
import type { GptChatTarget } from './gpts-service.js';
import { scriptedCall, scriptedModel } from './test-support/scripted-model.js';

const usage = { promptTokens: 10, completionTokens: 2, cachedPromptTokens: 1 };

const call = scriptedCall;
const finish = (reason: 'stop' | 'tool_calls'): GenerateEvent => ({ type: 'finish', reason, usage });

const config: GptConfig = {
  name: 'Harbour master',
  description: '',
  avatarFileId: null,
  conversationStarters: [],
  capabilities: { browsing: false, imageGeneration: false, codeInterpreter: true },
  knowledgeFileIds: ['file-bell'],
  actionIds: [],
  instructions: 'Answer from the harbour handbook.',
  model: 'scripted',
  tools: [{ type: 'file_search' }, { type: 'code_interpreter' }],
  toolResources: { fileSearch: { vectorStoreIds: ['vs_knowledge'] } },
  temperature: null,
  topP: null,
  responseFormat: 'auto',
};

const target = {
  gpt: { id: 'g-000000000000000000000001', workspaceId: 'ws_builder' },
  version: 3,
  config,
  knowledge: { workspaceId: 'ws_builder', vectorStoreIds: ['vs_knowledge'] },
  allowTraining: false,
} as unknown as GptChatTarget;

function request(tools: ToolDefinition[] = []) {
  return {
    input: {
      type: 'chat' as const,
      messages: [
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'When does the bell ring?' }] },
      ],
      tools,
      toolMode: { type: 'auto' as const },
      parallelToolCalls: true,
    },
    sampling: defaultSampling(),
    constraint: { type: 'none' as const },
  } satisfies GenerateRequest;
}

function recordingTools() {
  const searches: FileSearchRequest[] = [];
  const executions: CodeInterpreterRequest[] = [];
  return {
    searches,
    executions,
    tools: {
      fileSearch: {
        async search(params: FileSearchRequest) {
          searches.push(params);
          return [{ fileId: 'file-bell', fileName: 'bell.txt', score: 1, text: 'The bell rings at dawn.' }];
        },
      },
      codeInterpreter: {
        async execute(params: CodeInterpreterRequest) {
          executions.push(params);
          return { logs: '42\n', imageFileIds: [], files: [] };
        },
      },
    },
  };
}

async function collect(events: AsyncIterable<CompletionEvent>): Promise<CompletionEvent[]> {
  const out: CompletionEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('runGptChat', () => {
  it("searches the GPT's knowledge in its own workspace and answers from it, showing only the answer", async () => {
    const model = scriptedModel([
      [
        { type: 'text-delta', text: 'Let me look. ' },
        ...call(0, 'file_search', { query: 'bell' }),
        finish('tool_calls'),
      ],
      [{ type: 'text-delta', text: 'At dawn.' }, finish('stop')],
    ]);
    const { tools, searches } = recordingTools();
    const events = await collect(
      runGptChat({ target, model, request: request(), tools, callerWorkspaceId: 'ws_user', sessionId: 's1' }),
    );
    expect(events).toEqual([
      { type: 'text', choice: 0, text: 'Let me look. ' },
      { type: 'text', choice: 0, text: 'At dawn.' },
      { type: 'choice-finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: { promptTokens: 20, completionTokens: 4, cachedPromptTokens: 2 } },
    ]);
    expect(searches).toMatchObject([
      {
        workspaceId: 'ws_builder',
        vectorStoreIds: ['vs_knowledge'],
        query: 'bell',
        userMessage: 'When does the bell ring?',
      },
    ]);
    // Turn one: the instructions first, the GPT's tools offered.
    const first = model.requests[0]!.input;
    if (first.type !== 'chat') throw new Error('chat expected');
    expect(first.messages[0]).toEqual({ role: 'system', content: 'Answer from the harbour handbook.' });
    expect(first.tools.map((tool) => tool.name)).toEqual(['file_search', 'code_interpreter']);
    // Turn two: the call and what it found were given back to the model.
    const second = model.requests[1]!.input;
    if (second.type !== 'chat') throw new Error('chat expected');
    expect(second.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: 'Let me look. ',
        toolCalls: [{ id: 'call_file_search_0', name: 'file_search', arguments: '{"query":"bell"}' }],
      },
      {
        role: 'tool',
        toolCallId: 'call_file_search_0',
        name: 'file_search',
        content: expect.stringContaining('The bell rings at dawn.'),
      },
    ]);
  });

  it("runs code in the caller's workspace, and tells the model when a call's arguments are unusable", async () => {
    const model = scriptedModel([
      [
        ...call(0, 'code_interpreter', { code: 'print(6*7)' }),
        ...call(1, 'file_search', { q: 1 }),
        finish('tool_calls'),
      ],
      [{ type: 'text-delta', text: '42' }, finish('stop')],
    ]);
    const { tools, executions, searches } = recordingTools();
    await collect(
      runGptChat({ target, model, request: request(), tools, callerWorkspaceId: 'ws_user', sessionId: 's2' }),
    );
    expect(executions).toMatchObject([
      { workspaceId: 'ws_user', sessionId: 's2', code: 'print(6*7)', fileIds: [] },
    ]);
    expect(searches).toEqual([]);
    const second = model.requests[1]!.input;
    if (second.type !== 'chat') throw new Error('chat expected');
    expect(second.messages.slice(-2).map((message) => message.role === 'tool' && message.content)).toEqual([
      expect.stringContaining('42'),
      expect.stringContaining('not valid JSON with a "query" string'),
    ]);
  });

  it("hands the client's own function calls back to it, and keeps its tool names apart from the GPT's", async () => {
    const forecast = { name: 'forecast', parameters: { type: 'object', properties: {} } };
    const model = scriptedModel([
      [...call(0, 'file_search', { query: 'x' }), ...call(1, 'forecast', { day: 1 }), finish('tool_calls')],
    ]);
    const { tools, searches } = recordingTools();
    const events = await collect(
      runGptChat({
        target,
        model,
        request: request([forecast]),
        tools,
        callerWorkspaceId: 'ws_user',
        sessionId: 's3',
      }),
    );
    expect(events.slice(0, 3)).toEqual([
      { type: 'tool-call-start', choice: 0, callIndex: 0, id: 'call_forecast_1', name: 'forecast' },
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsDelta: '{"day":1}' },
      { type: 'choice-finish', choice: 0, reason: 'tool_calls' },
    ]);
    expect(searches).toEqual([]);

    const clash = runGptChat({
      target,
      model: scriptedModel([]),
      request: request([{ name: 'file_search', parameters: {} }]),
      tools,
      callerWorkspaceId: 'ws_user',
      sessionId: 's4',
    });
    const error = await collect(clash).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AtelierError);
    expect(error).toMatchObject({ status: 400, param: 'tools[0].function.name' });
  });

  it('stops offering its tools on the last turn, so the model has to answer', async () => {
    const searching = [...call(0, 'file_search', { query: 'again' }), finish('tool_calls')];
    const model = scriptedModel([
      searching,
      searching,
      [{ type: 'text-delta', text: 'Done.' }, finish('stop')],
    ]);
    const { tools, searches } = recordingTools();
    const events = await collect(
      runGptChat({
        target,
        model,
        request: request(),
        tools,
        callerWorkspaceId: 'ws_user',
        sessionId: 's5',
        maxTurns: 3,
      }),
    );
    expect(searches).toHaveLength(2);
    const last = model.requests[2]!.input;
    if (last.type !== 'chat') throw new Error('chat expected');
    expect(last.tools).toEqual([]);
    expect(last.toolMode).toEqual({ type: 'none' });
    expect(events.at(-2)).toEqual({ type: 'choice-finish', choice: 0, reason: 'stop' });
  });

  it('offers no built-in tool the server lacks or the GPT does not have', async () => {
    const model = scriptedModel([[{ type: 'text-delta', text: 'Hi' }, finish('stop')]]);
    const bare = { ...target, knowledge: { workspaceId: 'ws_builder', vectorStoreIds: [] } } as GptChatTarget;
    await collect(
      runGptChat({
        target: bare,
        model,
        request: request(),
        tools: { codeInterpreter: recordingTools().tools.codeInterpreter },
        callerWorkspaceId: 'ws_user',
        sessionId: 's6',
      }),
    );
    const first = model.requests[0]!.input;
    if (first.type !== 'chat') throw new Error('chat expected');
    expect(first.tools.map((tool) => tool.name)).toEqual(['code_interpreter']);
  });
});
