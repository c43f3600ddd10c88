// A chat completion with a GPT (`model: "gpt-<id>"`): the GPT's instructions go first, its
// knowledge and capabilities become tools the server runs itself (file_search over the GPT's
// knowledge, in the GPT's workspace whoever asks; code_interpreter in the caller's sandbox), and
// the model loops over them until it answers. The client sees the answer and its own function
// calls only: never the instructions, the built-in calls or what they returned.

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
import type { ToolCall } from '../storage/assistants-domain.js';
import type { BuiltInTools } from '../tools/spec.js';
import type { Action, ActionsService, ActionTool } from './actions-service.js';
import type { GptChatTarget } from './gpts-service.js';

/** Model turns per request: built-in calls may take all but the last, which must answer. */
export const GPT_CHAT_MAX_TURNS = 6;

type BuiltInName = 'file_search' | 'code_interpreter' | 'web_search' | 'open_url';

export const WEB_SEARCH_FUNCTION: ToolDefinition = {
  name: 'web_search',
  description:
    'Search the web. Use it for recent events and facts you are unsure of. Results are numbered; open one with open_url, and cite what you use with its 【n†title】 mark.',
  parameters: {
    type: 'object',
    properties: { query: { type: 'string', description: 'What to search for.', maxLength: 300 } },
    required: ['query'],
    additionalProperties: false,
  },
};

export const OPEN_URL_FUNCTION: ToolDefinition = {
  name: 'open_url',
  description:
    'Open a web page (a search result or a URL the user gave) and read its main text. Cite it with its 【n†title】 mark.',
  parameters: {
    type: 'object',
    properties: { url: { type: 'string', description: 'The http(s) URL to open.' } },
    required: ['url'],
    additionalProperties: false,
  },
};

/** The argument each built-in function takes. */
const ARGUMENT_OF: Record<BuiltInName, string> = {
  file_search: 'query',
  code_interpreter: 'code',
  web_search: 'query',
  open_url: 'url',
};

/** The built-in tools a GPT's chat offers the model: what the GPT has and the server can run. */
export function gptBuiltInTools(
  target: GptChatTarget,
  { tools, model }: { tools: BuiltInTools; model: LanguageModel },
): ToolDefinition[] {
  if (!model.info.capabilities.tools) return [];
  const offered: ToolDefinition[] = [];
  if (target.knowledge.vectorStoreIds.length > 0 && tools.fileSearch) offered.push(FILE_SEARCH_FUNCTION);
  if (target.config.capabilities.codeInterpreter && tools.codeInterpreter)
    offered.push(CODE_INTERPRETER_FUNCTION);
  if (target.config.capabilities.browsing && tools.browser)
    offered.push(WEB_SEARCH_FUNCTION, OPEN_URL_FUNCTION);
  // Image generation joins here once the server has an image model as a built-in tool.
  return offered;
}

/** A call that was not sent because the person must answer first (consent, or signing in). */
export interface PendingAction {
  readonly type: 'consent' | 'oauth';
  readonly actionId: string;
  readonly operation: string;
  readonly domain: string;
  /** Consent only: whether "Always allow" may be offered (false for consequential operations). */
  readonly canAlwaysAllow: boolean;
  /** Consent only: what would be sent (method, URL, body as the model wrote it; never credentials). */
  readonly preview: unknown;
  readonly message: string;
}

export interface GptChatActions {
  readonly service: Pick<ActionsService, 'tools' | 'get' | 'instructions' | 'invoke'>;
  /** The person chatting: calls are made for them, with their consent and sign-ins (null: nobody to ask). */
  readonly accountId: string | null;
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
}: RunGptChatOptions): AsyncGenerator<CompletionEvent> {
  if (request.input.type !== 'chat') throw new InvalidRequestError('A GPT answers chat requests only.');
  const input = request.input;
  const ownTools = gptBuiltInTools(target, { tools, model });
  const { actionTools, actionInstructions } = await loadActions(target, { actions, model });
  const ownNames = new Set(ownTools.map((tool) => tool.name));
  // An operation named like a built-in tool (say `file_search`) would be ambiguous: left out.
  const actionByName = new Map(
    actionTools.filter((tool) => !ownNames.has(tool.name)).map((tool) => [tool.name, tool]),
  );
  const builtIns = [...ownTools, ...[...actionByName.values()].map((tool) => tool.definition)];
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
  const instructions = [target.config.instructions.trim(), actionInstructions ?? '']
    .filter((part) => part !== '')
    .join('\n\n');
  let messages: ChatMessage[] = [
    ...(instructions ? [{ role: 'system' as const, content: instructions }] : []),
    ...input.messages,
  ];
  const newestUserText = newestUserMessage(input.messages);
  const total = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  let clientCalls = 0;
  // Web sources are numbered across the whole answer, so every 【n†…】 mark names one page.
  const browsing = { nextSource: 1 };

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
      const actionTool = actionByName.get(call.name);
      if (actionTool) {
        const output = await runActionCall(call, { tool: actionTool, target, actions: actions!, signal });
        results.push({ role: 'tool', toolCallId: call.id, name: call.name, content: output });
        continue;
      }
      const output = await runCall(call as { id: string; name: BuiltInName; arguments: string }, {
        tools,
        threadId: sessionId,
        turn,
        vectorStoreIds: target.knowledge.vectorStoreIds,
        searchFileIds: [],
        codeFileIds: [],
        fileSearchOptions: {},
        ...(newestUserText ? { userMessage: newestUserText } : {}),
        signal,
        knowledgeWorkspaceId: target.knowledge.workspaceId,
        callerWorkspaceId,
        browsing,
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

/** The GPT's action tools and the plugins' instructions for the model, when it can call tools. */
async function loadActions(
  target: GptChatTarget,
  { actions, model }: { actions: GptChatActions | undefined; model: LanguageModel },
): Promise<{ actionTools: ActionTool[]; actionInstructions: string | null }> {
  const actionIds = target.config.actionIds;
  if (!actions || actionIds.length === 0 || !model.info.capabilities.tools) {
    return { actionTools: [], actionInstructions: null };
  }
  const workspaceId = target.gpt.workspaceId;
  const actionTools = await actions.service.tools({ workspaceId, actionIds });
  const found: Action[] = [];
  for (const actionId of new Set(actionTools.map((tool) => tool.actionId))) {
    found.push(await actions.service.get({ workspaceId, actionId }));
  }
  return { actionTools, actionInstructions: actions.service.instructions(found) };
}

/**
 * Calls an action for the person chatting. Nothing is sent until they allowed the domain (and,
 * for consequential operations, this very call): until then the model is told so, and the
 * caller hears of the pending answer through `onPending`.
 */
async function runActionCall(
  call: { id: string; name: string; arguments: string },
  {
    tool,
    target,
    actions,
    signal,
  }: { tool: ActionTool; target: GptChatTarget; actions: GptChatActions; signal: AbortSignal },
): Promise<string> {
  const held = (notice: string) =>
    JSON.stringify({ type: 'action_not_sent', domain: tool.domain, operation: tool.operation, notice });
  if (actions.accountId === null) {
    return held(
      `Nothing was sent to ${tool.domain}: this request has no signed-in person who could allow it. Tell the user that this action only works for a signed-in person.`,
    );
  }
  try {
    const result = await actions.service.invoke({
      accountId: actions.accountId,
      workspaceId: target.gpt.workspaceId,
      actionId: tool.actionId,
      operation: tool.operation,
      arguments: call.arguments,
      gptId: target.gpt.id,
      signal,
    });
    if (result.type === 'completed') return result.output;
    if (result.type === 'consent_required') {
      actions.onPending?.({
        type: 'consent',
        actionId: tool.actionId,
        operation: tool.operation,
        domain: tool.domain,
        canAlwaysAllow: result.consent.canAlwaysAllow,
        preview: result.consent.preview,
        message: `Allow this GPT to send data to ${tool.domain}?`,
      });
      return held(
        `The user has not allowed this GPT to send data to ${tool.domain} yet, so nothing was sent. Tell the user that ${tool.domain} needs their permission; once they allow it, the call can be made again.`,
      );
    }
    actions.onPending?.({
      type: 'oauth',
      actionId: tool.actionId,
      operation: tool.operation,
      domain: tool.domain,
      canAlwaysAllow: false,
      preview: null,
      message: result.message,
    });
    return held(`Nothing was sent: ${result.message} Tell the user to sign in, then ask again.`);
  } catch (error) {
    if (signal.aborted) throw error;
    return held(`The call failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Runs one built-in call; a failure is told to the model, not thrown at the client. */
async function runCall(
  call: { id: string; name: BuiltInName; arguments: string },
  context: Omit<BuiltInCallContext, 'workspaceId'> & {
    readonly knowledgeWorkspaceId: string;
    readonly callerWorkspaceId: string;
    readonly browsing: { nextSource: number };
  },
): Promise<string> {
  const argument = readArgument(call.arguments, ARGUMENT_OF[call.name]);
  if (argument === undefined) {
    return `The ${call.name} call's arguments were not valid JSON with a "${ARGUMENT_OF[call.name]}" string.`;
  }
  if (call.name === 'web_search' || call.name === 'open_url') {
    const browser = context.tools.browser;
    if (!browser) return 'Web browsing is not available on this server.';
    try {
      const found =
        call.name === 'web_search'
          ? await browser.search(argument, {
              signal: context.signal,
              firstIndex: context.browsing.nextSource,
            })
          : await browser.open(argument, { signal: context.signal, index: context.browsing.nextSource });
      context.browsing.nextSource += found.sources.length;
      return found.text;
    } catch (error) {
      if (context.signal.aborted) throw error;
      return `The ${call.name} tool failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const toolCall: Extract<ToolCall, { type: BuiltInName }> =
    call.name === 'file_search'
      ? { type: 'file_search', id: call.id, query: argument, results: [], output: null }
      : { type: 'code_interpreter', id: call.id, input: argument, outputs: [], output: null };
  const { knowledgeWorkspaceId, callerWorkspaceId, ...shared } = context;
  try {
    const result = await runBuiltInCall(toolCall, {
      ...shared,
      // Knowledge is searched where it lives; code runs where the caller's files are.
      workspaceId: call.name === 'file_search' ? knowledgeWorkspaceId : callerWorkspaceId,
    });
    return result.call.output ?? '';
  } catch (error) {
    if (context.signal.aborted) throw error;
    return `The ${call.name} tool failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function readArgument(text: string, key: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === 'string' && value.trim() !== '') return value;
    }
  } catch {
    // told to the model by the caller
  }
  return undefined;
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
