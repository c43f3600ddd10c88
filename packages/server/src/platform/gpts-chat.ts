// A chat completion with a GPT (`model: "gpt-<id>"`): the GPT's instructions go first, its
// knowledge and capabilities become tools the server runs itself (file_search over the GPT's
// knowledge, in the GPT's workspace whoever asks; code_interpreter in the caller's sandbox;
// browsing and actions as in gpt-server-tools.ts, shared with runs), and the model loops over
// them until it answers. The client sees the answer and its own function calls only: never the
// instructions, the built-in calls or what they returned.

import type { CompletionEvent } from '../engine/chat-completion.js';
import {
  type BuiltInCallContext,
  CODE_INTERPRETER_FUNCTION,
  FILE_SEARCH_FUNCTION,
  runBuiltInCall,
} from '../engine/run-tools.js';
import { InvalidRequestError } from '../errors.js';
import type {
  ChatMessage,
  GenerateRequest,
  LanguageModel,
  ToolCallRequest,
  ToolDefinition,
  ToolMode,
  Usage,
} from '../inference/spec.js';
import type { PendingAction, ToolCall } from '../storage/assistants-domain.js';
import type { BuiltInTools } from '../tools/spec.js';
import { type GptActionsAccess, gptServerTools, readArgument } from './gpt-server-tools.js';
import type { GptChatTarget } from './gpts-service.js';

export type { PendingAction };

/** Model turns per request: built-in calls may take all but the last, which must answer. */
export const GPT_CHAT_MAX_TURNS = 6;

type BuiltInName = 'file_search' | 'code_interpreter';

/** The argument each built-in function takes. */
const ARGUMENT_OF: Record<BuiltInName, string> = {
  file_search: 'query',
  code_interpreter: 'code',
};

/**
 * The knowledge and code tools a GPT's chat offers the model: what the GPT has and the server
 * can run (browsing and actions: gpt-server-tools.ts).
 */
export function gptBuiltInTools(
  target: GptChatTarget,
  { tools, model }: { tools: BuiltInTools; model: LanguageModel },
): ToolDefinition[] {
  if (!model.info.capabilities.tools) return [];
  const offered: ToolDefinition[] = [];
  if (target.knowledge.vectorStoreIds.length > 0 && tools.fileSearch) offered.push(FILE_SEARCH_FUNCTION);
  if (target.config.capabilities.codeInterpreter && tools.codeInterpreter)
    offered.push(CODE_INTERPRETER_FUNCTION);
  // Image generation joins here once the server has an image model as a built-in tool.
  return offered;
}

export interface GptChatActions extends GptActionsAccess {
  /** Told of each call held back for the person's answer; the model is told too. */
  readonly onPending?: (pending: PendingAction) => void;
}

export interface RunGptChatOptions {
  readonly target: GptChatTarget;
  readonly model: LanguageModel;
  /** The client's request (its messages, tools, sampling), already validated. */
  readonly request: GenerateRequest;
  readonly tools: BuiltInTools;
  /** The caller's workspace: where code runs and what it writes is stored. */
  readonly callerWorkspaceId: string;
  /** Names this conversation's sandbox session (chat completions keep no state between requests). */
  readonly sessionId: string;
  /** The GPT's actions as function tools, called server-side (absent: none offered). */
  readonly actions?: GptChatActions | undefined;
  readonly maxTurns?: number;
  /** Told what each model turn used, as it ends (the usage ledger counts every call). */
  readonly onTurnUsage?: ((usage: Usage) => void) | undefined;
}

/** Streams the answer as one choice's completion events; usage (summed over turns) comes last. */
export async function* runGptChat({
  target,
  model,
  request,
  tools,
  callerWorkspaceId,
  sessionId,
  actions = undefined,
  maxTurns = GPT_CHAT_MAX_TURNS,
  onTurnUsage = undefined,
}: RunGptChatOptions): AsyncGenerator<CompletionEvent> {
  if (request.input.type !== 'chat') throw new InvalidRequestError('A GPT answers chat requests only.');
  const input = request.input;
  const ownTools = gptBuiltInTools(target, { tools, model });
  const server = await gptServerTools({
    target,
    tools,
    actions,
    callsTools: model.info.capabilities.tools,
    taken: ownTools.map((tool) => tool.name),
  });
  const builtIns = [...ownTools, ...server.definitions];
  const builtInNames = new Set(builtIns.map((tool) => tool.name));
  for (const [index, tool] of input.tools.entries()) {
    if (builtInNames.has(tool.name)) {
      throw new InvalidRequestError(
        `The function name '${tool.name}' is taken by this GPT's own ${tool.name} tool: choose another name.`,
        { param: `tools[${index}].function.name` },
      );
    }
  }
  const signal = request.signal ?? new AbortController().signal;
  const instructions = [target.config.instructions.trim(), server.instructions ?? '']
    .filter((part) => part !== '')
    .join('\n\n');
  let messages: ChatMessage[] = [
    ...(instructions ? [{ role: 'system' as const, content: instructions }] : []),
    ...input.messages,
  ];
  const newestUserText = newestUserMessage(input.messages);
  const total = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  let clientCalls = 0;

  for (let turn = 0; ; turn++) {
    const last = turn >= maxTurns - 1;
    const clientMode = input.toolMode;
    // The client's "none" keeps its own functions away from the model; the GPT's tools stay.
    const clientTools = clientMode.type === 'none' ? [] : input.tools;
    const offered = last ? clientTools : [...builtIns, ...clientTools];
    const toolMode: ToolMode =
      offered.length === 0
        ? { type: 'none' }
        : turn === 0 && clientMode.type !== 'none'
          ? clientMode
          : { type: 'auto' };
    const builtInCalls = new Map<number, { id: string; name: string; arguments: string }>();
    const clientIndex = new Map<number, number>();
    let text = '';
    let finish: { reason: 'stop' | 'length' | 'tool_calls'; usage: Usage } | undefined;

    for await (const event of model.generate({
      ...request,
      input: { ...input, messages, tools: offered, toolMode },
    })) {
      switch (event.type) {
        case 'text-delta':
          text += event.text;
          yield {
            type: 'text',
            choice: 0,
            text: event.text,
            ...(event.logprobs ? { logprobs: event.logprobs } : {}),
          };
          break;
        case 'tool-call-start':
          if (builtInNames.has(event.name) && !last) {
            builtInCalls.set(event.index, { id: event.id, name: event.name, arguments: '' });
          } else {
            const index = clientCalls++;
            clientIndex.set(event.index, index);
            yield { type: 'tool-call-start', choice: 0, callIndex: index, id: event.id, name: event.name };
          }
          break;
        case 'tool-call-delta': {
          const builtIn = builtInCalls.get(event.index);
          if (builtIn) builtIn.arguments += event.argumentsDelta;
          else {
            const index = clientIndex.get(event.index);
            if (index !== undefined) {
              yield {
                type: 'tool-call-delta',
                choice: 0,
                callIndex: index,
                argumentsDelta: event.argumentsDelta,
              };
            }
          }
          break;
        }
        case 'finish':
          finish = { reason: event.reason, usage: event.usage };
          break;
      }
    }
    if (finish) {
      onTurnUsage?.(finish.usage);
      total.promptTokens += finish.usage.promptTokens;
      total.completionTokens += finish.usage.completionTokens;
      total.cachedPromptTokens += finish.usage.cachedPromptTokens;
    }
    // Done when the model answered, or handed calls to the client (its built-in calls of the same
    // turn are dropped: the client answers the turn).
    if (builtInCalls.size === 0 || clientIndex.size > 0) {
      const reason = clientIndex.size > 0 ? 'tool_calls' : finish?.reason === 'length' ? 'length' : 'stop';
      yield { type: 'choice-finish', choice: 0, reason };
      yield { type: 'usage', usage: total };
      return;
    }

    const calls = [...builtInCalls.values()];
    const results: ChatMessage[] = [];
    for (const call of calls) {
      if (server.has(call.name)) {
        // Browsing, or an action (held back until the person answers: the client hears of it).
        const outcome = await server.call(call, { signal });
        if (outcome.type === 'held') actions?.onPending?.(outcome.pending);
        results.push({ role: 'tool', toolCallId: call.id, name: call.name, content: outcome.output });
        continue;
      }
      const output = await runCall(call as { id: string; name: BuiltInName; arguments: string }, {
        tools,
        threadId: sessionId,
        turn,
        // The GPT's knowledge is searched where it lives; code runs where the caller's files are.
        vectorStoreIds: [],
        knowledge: target.knowledge,
        searchFileIds: [],
        codeFileIds: [],
        fileSearchOptions: {},
        ...(newestUserText ? { userMessage: newestUserText } : {}),
        signal,
        workspaceId: callerWorkspaceId,
      });
      results.push({ role: 'tool', toolCallId: call.id, name: call.name, content: output });
    }
    const requests: ToolCallRequest[] = calls.map((call) => ({
      id: call.id,
      name: call.name,
      arguments: call.arguments,
    }));
    messages = [...messages, { role: 'assistant', content: text, toolCalls: requests }, ...results];
  }
}

/**
 * Runs one built-in call: knowledge is searched where it lives (the GPT's workspace), code runs
 * where the caller's files are. A failure is told to the model, not thrown at the client.
 */
async function runCall(
  call: { id: string; name: BuiltInName; arguments: string },
  context: BuiltInCallContext,
): Promise<string> {
  const argument = readArgument(call.arguments, ARGUMENT_OF[call.name]);
  if (argument === undefined) {
    return `The ${call.name} call's arguments were not valid JSON with a "${ARGUMENT_OF[call.name]}" string.`;
  }
  const toolCall: Extract<ToolCall, { type: BuiltInName }> =
    call.name === 'file_search'
      ? { type: 'file_search', id: call.id, query: argument, results: [], output: null }
      : { type: 'code_interpreter', id: call.id, input: argument, outputs: [], output: null };
  try {
    const result = await runBuiltInCall(toolCall, context);
    return result.call.output ?? '';
  } catch (error) {
    if (context.signal.aborted) throw error;
    return `The ${call.name} tool failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function newestUserMessage(messages: readonly ChatMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === 'user') {
      const text = message.content
        .flatMap((part) => (part.type === 'text' ? [part.text] : []))
        .join('\n')
        .trim();
      return text || undefined;
    }
  }
  return undefined;
}
