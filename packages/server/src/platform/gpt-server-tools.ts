// The tools a GPT's conversation runs on the server beside file_search and code_interpreter: web
// browsing (the capability, when the server has a browser) and the GPT's actions, called for the
// person chatting once they allowed it. Chat completions (gpts-chat.ts) and runs (gpts-runs.ts)
// use the same ones; they differ only in what follows a call held back for the person's answer
// (chat: the model is told and the client hears of it; a run: it stops, and the next run makes
// the call once answered). What the tools return is data for the model, labelled as such.

import type { ServerCallOutcome, ServerFunctions } from '../engine/run-tools.js';
import type { ToolCallRequest, ToolDefinition } from '../inference/spec.js';
import type { PendingAction } from '../storage/assistants-domain.js';
import type { BuiltInTools } from '../tools/spec.js';
import type { Action, ActionsService, ActionTool } from './actions-service.js';
import type { GptChatTarget } from './gpts-service.js';

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

/** The GPT's actions, called for one person (or nobody who could be asked). */
export interface GptActionsAccess {
  readonly service: Pick<ActionsService, 'tools' | 'get' | 'instructions' | 'invoke'>;
  /** The person chatting: calls are made for them, with their consent and sign-ins (null: nobody to ask). */
  readonly accountId: string | null;
}

export interface GptServerTools extends ServerFunctions {
  /** The plugins' descriptions for the model, for the system prompt (null: none). */
  readonly instructions: string | null;
}

export interface GptServerToolsOptions {
  readonly target: GptChatTarget;
  readonly tools: BuiltInTools;
  /** Absent: the GPT's actions are not offered. */
  readonly actions?: GptActionsAccess | undefined;
  /** Whether the model can call tools at all (no: none are offered). */
  readonly callsTools: boolean;
  /** Names already taken (the built-in tools offered beside these): a same-named action is left out. */
  readonly taken?: readonly string[];
}

/** The GPT's browsing and action tools; web sources are numbered across the conversation's answer. */
export async function gptServerTools({
  target,
  tools,
  actions = undefined,
  callsTools,
  taken = [],
}: GptServerToolsOptions): Promise<GptServerTools> {
  const browser = callsTools && target.config.capabilities.browsing ? tools.browser : undefined;
  const browsing: ToolDefinition[] = browser
    ? [...(browser.searchProvider !== undefined ? [WEB_SEARCH_FUNCTION] : []), OPEN_URL_FUNCTION]
    : [];
  const { actionTools, instructions } = callsTools
    ? await loadActions(target, actions)
    : { actionTools: [], instructions: null };
  const names = new Set([...taken, ...browsing.map((tool) => tool.name)]);
  // An operation named like another tool (say `web_search`) would be ambiguous: left out.
  const actionByName = new Map(
    actionTools.filter((tool) => !names.has(tool.name)).map((tool) => [tool.name, tool]),
  );
  const definitions = [...browsing, ...[...actionByName.values()].map((tool) => tool.definition)];
  const offered = new Set(definitions.map((tool) => tool.name));
  let nextSource = 1;

  async function browse(call: ToolCallRequest, signal: AbortSignal): Promise<string> {
    const key = call.name === 'web_search' ? 'query' : 'url';
    const argument = readArgument(call.arguments, key);
    if (argument === undefined) {
      return `The ${call.name} call's arguments were not valid JSON with a "${key}" string.`;
    }
    try {
      const found =
        call.name === 'web_search'
          ? await browser!.search(argument, { signal, firstIndex: nextSource })
          : await browser!.open(argument, { signal, index: nextSource });
      nextSource += found.sources.length;
      return found.text;
    } catch (error) {
      if (signal.aborted) throw error;
      return `The ${call.name} tool failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  return {
    definitions,
    instructions,
    has: (name) => offered.has(name),

    async call(call, { signal }) {
      const tool = actionByName.get(call.name);
      if (tool) return callAction({ call, tool, target, actions: actions!, signal });
      if (!offered.has(call.name)) {
        return { type: 'output', output: `There is no tool named ${call.name}.` };
      }
      return { type: 'output', output: await browse(call, signal) };
    },

    async resume(held, { signal }) {
      const tool = actionByName.get(held.name);
      if (!tool || !actions || actions.accountId === null) return null;
      const outcome = await callAction({
        call: { id: held.toolCallId, name: held.name, arguments: held.arguments },
        tool,
        target,
        actions,
        signal,
        heldSince: held.heldAt,
      });
      return outcome.type === 'output' ? outcome.output : null;
    },
  };
}

/** The GPT's action tools and the plugins' instructions for the model. */
async function loadActions(
  target: GptChatTarget,
  actions: GptActionsAccess | undefined,
): Promise<{ actionTools: ActionTool[]; instructions: string | null }> {
  const actionIds = target.config.actionIds;
  if (!actions || actionIds.length === 0) return { actionTools: [], instructions: null };
  const workspaceId = target.gpt.workspaceId;
  const actionTools = await actions.service.tools({ workspaceId, actionIds });
  const found: Action[] = [];
  for (const actionId of new Set(actionTools.map((tool) => tool.actionId))) {
    found.push(await actions.service.get({ workspaceId, actionId }));
  }
  return { actionTools, instructions: actions.service.instructions(found) };
}

/**
 * Calls an action for the person chatting, in the GPT's workspace, consent scoped to the GPT.
 * Nothing is sent until they allowed the domain (and, for consequential operations, this very
 * call): until then the call is held, with what to ask them. `heldSince`: the call was held back
 * earlier (a person who declined since gets the declined output, not a question).
 */
async function callAction({
  call,
  tool,
  target,
  actions,
  signal,
  heldSince = undefined,
}: {
  call: ToolCallRequest;
  tool: ActionTool;
  target: GptChatTarget;
  actions: GptActionsAccess;
  signal: AbortSignal;
  heldSince?: number | undefined;
}): Promise<ServerCallOutcome> {
  const notSent = (notice: string) =>
    JSON.stringify({ type: 'action_not_sent', domain: tool.domain, operation: tool.operation, notice });
  const held = (pending: PendingAction, notice: string): ServerCallOutcome => ({
    type: 'held',
    output: notSent(notice),
    pending,
  });
  if (actions.accountId === null) {
    return {
      type: 'output',
      output: notSent(
        `Nothing was sent to ${tool.domain}: this request has no signed-in person who could allow it. Tell the user that this action only works for a signed-in person.`,
      ),
    };
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
      ...(heldSince !== undefined ? { heldSince } : {}),
    });
    if (result.type === 'completed') return { type: 'output', output: result.output };
    if (result.type === 'consent_required') {
      return held(
        {
          type: 'consent',
          actionId: tool.actionId,
          operation: tool.operation,
          domain: tool.domain,
          canAlwaysAllow: result.consent.canAlwaysAllow,
          preview: result.consent.preview,
          message: `Allow this GPT to send data to ${tool.domain}?`,
        },
        `The user has not allowed this GPT to send data to ${tool.domain} yet, so nothing was sent. Tell the user that ${tool.domain} needs their permission; once they allow it, the call can be made again.`,
      );
    }
    return held(
      {
        type: 'oauth',
        actionId: tool.actionId,
        operation: tool.operation,
        domain: tool.domain,
        canAlwaysAllow: false,
        preview: null,
        message: result.message,
      },
      `Nothing was sent: ${result.message} Tell the user to sign in, then ask again.`,
    );
  } catch (error) {
    if (signal.aborted) throw error;
    return {
      type: 'output',
      output: notSent(`The call failed: ${error instanceof Error ? error.message : String(error)}`),
    };
  }
}

/** A string argument of a tool call's JSON arguments (undefined: missing, empty or not JSON). */
export function readArgument(text: string, key: string): string | undefined {
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
