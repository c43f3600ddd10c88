// The tools of a run as the model sees them, and the built-in ones the engine runs itself. To the
// model every tool is a function: `file_search` takes a query, `code_interpreter` takes Python
// code. Function tools are run by the client (the run waits in requires_action); built-in tools
// run here through the tool spec, and a server without one fails the run that calls it, clearly.
// An assistant of another kind (a GPT) may bring a toolset: its knowledge searched where it
// lives, and functions the server runs itself (browsing, actions), which may hold a call back
// until a person answers.

import { AtelierError } from '../errors.js';
import type { ToolCallRequest, ToolDefinition, ToolMode } from '../inference/spec.js';
import { toToolDefinition } from '../inference/tool-definition.js';
import type {
  AssistantTool,
  FileSearchResult,
  HeldCall,
  PendingAction,
  ToolCall,
  ToolChoiceOption,
} from '../storage/assistants-domain.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { BuiltInTools } from '../tools/spec.js';

export const FILE_SEARCH_FUNCTION: ToolDefinition = {
  name: 'file_search',
  description:
    'Search the files the user and the assistant provided. Use it whenever the answer may be in those files. Cite what you use with the 【n:m†source】 marks shown in the results.',
  parameters: {
    type: 'object',
    properties: { query: { type: 'string', description: 'What to look for.', maxLength: 200 } },
    required: ['query'],
    additionalProperties: false,
  },
};

export const CODE_INTERPRETER_FUNCTION: ToolDefinition = {
  name: 'code_interpreter',
  description:
    'Run Python code in a sandbox with numpy, pandas and matplotlib. Files are under /mnt/data; state persists between calls. Link files you write as sandbox:/mnt/data/<name>.',
  parameters: {
    type: 'object',
    properties: { code: { type: 'string', description: 'The Python code to run.' } },
    required: ['code'],
    additionalProperties: false,
  },
};

/** Function names a client may not use: the model calls the built-in tools by these. */
export const RESERVED_FUNCTION_NAMES: ReadonlySet<string> = new Set(['file_search', 'code_interpreter']);

/** Tool output kept for the model (longer outputs are cut: the context window is shared). */
const MAX_TOOL_OUTPUT_CHARS = 12_000;
const DEFAULT_MAX_RESULTS = 20;

export function toolDefinitions(tools: readonly AssistantTool[]): ToolDefinition[] {
  return tools.map((tool) => {
    if (tool.type === 'file_search') return FILE_SEARCH_FUNCTION;
    if (tool.type === 'code_interpreter') return CODE_INTERPRETER_FUNCTION;
    return toToolDefinition(tool.function);
  });
}

/** The run's `tool_choice` for one model turn: forced choices apply to the first turn only. */
export function toolModeFor(
  choice: ToolChoiceOption,
  { firstTurn, hasTools }: { firstTurn: boolean; hasTools: boolean },
): ToolMode {
  if (!hasTools || choice === 'none') return { type: 'none' };
  if (!firstTurn || choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'required' };
  return { type: 'function', name: choice.type === 'function' ? choice.name : choice.type };
}

export class ToolUnavailableError extends AtelierError {
  constructor(tool: 'file_search' | 'code_interpreter') {
    super(
      tool === 'file_search'
        ? 'The file_search (retrieval) tool is not available on this server yet: no retrieval engine is configured. Remove the tool from the assistant or run, or ask an administrator to enable it.'
        : 'The code_interpreter tool is not available on this server yet: no code sandbox is configured. Remove the tool from the assistant or run, or ask an administrator to enable it.',
      { status: 400, type: 'invalid_request_error', code: 'tool_unavailable', param: 'tools' },
    );
  }
}

export type ServerCallOutcome =
  | { readonly type: 'output'; readonly output: string }
  /** Not made: a person must answer first. `output` tells the model so, should it go on. */
  | { readonly type: 'held'; readonly output: string; readonly pending: PendingAction };

/** Functions the server runs itself for a conversation (a GPT's browsing and actions). */
export interface ServerFunctions {
  readonly definitions: readonly ToolDefinition[];
  has(name: string): boolean;
  /** A call as the model wrote it. */
  call(call: ToolCallRequest, options: { readonly signal: AbortSignal }): Promise<ServerCallOutcome>;
  /**
   * Makes a call held back earlier, now that the person answered: its output (the response, or
   * that they declined), or null while they have not answered (it is then not made).
   */
  resume(held: HeldCall, options: { readonly signal: AbortSignal }): Promise<string | null>;
}

/** What a run on an assistant of another kind (a GPT) uses beyond the run's own configuration. */
export interface RunToolset {
  /** The workspace the assistant's own tool resources (its knowledge) live in. */
  readonly resourcesWorkspaceId: string;
  /** Said to the model after the run's instructions (a plugin's description for the model). */
  readonly instructions: string | null;
  readonly functions: ServerFunctions | null;
}

/** Finds the toolset of a run when it executes (null: the run's configuration is all there is). */
export interface RunToolsets {
  toolset(params: { readonly run: Run; readonly signal: AbortSignal }): Promise<RunToolset | null>;
}

export interface BuiltInCallContext {
  readonly tools: BuiltInTools;
  readonly workspaceId: string;
  readonly threadId: string;
  /** Which model turn of the run this is: numbers the citation marks. */
  readonly turn: number;
  /** Stores of `workspaceId` (the thread's, and the assistant's when it lives there). */
  readonly vectorStoreIds: readonly string[];
  /** The assistant's own stores when they live in another workspace (a GPT's knowledge). */
  readonly knowledge?:
    | { readonly workspaceId: string; readonly vectorStoreIds: readonly string[] }
    | undefined;
  /** Files for file_search that are in no vector store (v1 file_ids, attachments). */
  readonly searchFileIds: readonly string[];
  /** Files placed under /mnt/data for the code interpreter. */
  readonly codeFileIds: readonly string[];
  readonly fileSearchOptions: { readonly maxNumResults?: number; readonly scoreThreshold?: number };
  /** The thread's newest user message (file_search searches it beside the model's query). */
  readonly userMessage?: string;
  readonly signal: AbortSignal;
}

export interface BuiltInCallResult {
  readonly call: ToolCall;
  readonly imageFileIds: readonly string[];
  readonly files: readonly { readonly fileId: string; readonly path: string }[];
}

/** Runs a built-in tool call and returns it with its outputs filled in. */
export async function runBuiltInCall(
  call: Extract<ToolCall, { type: 'file_search' | 'code_interpreter' }>,
  context: BuiltInCallContext,
): Promise<BuiltInCallResult> {
  if (call.type === 'file_search') {
    const backend = context.tools.fileSearch;
    if (!backend) throw new ToolUnavailableError('file_search');
    const maxResults = context.fileSearchOptions.maxNumResults ?? DEFAULT_MAX_RESULTS;
    const common = {
      query: call.query,
      ...(context.userMessage ? { userMessage: context.userMessage } : {}),
      maxResults,
      ...(context.fileSearchOptions.scoreThreshold !== undefined
        ? { scoreThreshold: context.fileSearchOptions.scoreThreshold }
        : {}),
      signal: context.signal,
    };
    // Each workspace's stores are searched where they live; the best passages of both win.
    const knowledge = context.knowledge;
    const found = await Promise.all([
      context.vectorStoreIds.length > 0 || context.searchFileIds.length > 0 || !knowledge
        ? backend.search({
            ...common,
            workspaceId: context.workspaceId,
            vectorStoreIds: context.vectorStoreIds,
            fileIds: context.searchFileIds,
          })
        : [],
      knowledge && knowledge.vectorStoreIds.length > 0
        ? backend
            .search({
              ...common,
              workspaceId: knowledge.workspaceId,
              vectorStoreIds: knowledge.vectorStoreIds,
              fileIds: [],
            })
            .then((hits) =>
              knowledge.workspaceId === context.workspaceId
                ? hits
                : hits.map((hit) => ({ ...hit, private: true as const })),
            )
        : [],
    ]);
    const hits = found
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, maxResults);
    const results: FileSearchResult[] = hits.map((hit) => ({
      fileId: hit.fileId,
      fileName: hit.fileName,
      score: hit.score,
      text: hit.text,
      ...('private' in hit ? { private: true as const } : {}),
    }));
    return {
      call: { ...call, results, output: formatSearchResults(results, context.turn) },
      imageFileIds: [],
      files: [],
    };
  }
  const backend = context.tools.codeInterpreter;
  if (!backend) throw new ToolUnavailableError('code_interpreter');
  const result = await backend.execute({
    workspaceId: context.workspaceId,
    sessionId: context.threadId,
    code: call.input,
    fileIds: context.codeFileIds,
    signal: context.signal,
  });
  return {
    call: {
      ...call,
      outputs: [
        { type: 'logs', logs: result.logs },
        ...result.imageFileIds.map((fileId) => ({ type: 'image' as const, fileId })),
      ],
      output: clip(
        [
          result.logs || '(no output)',
          ...result.files.map((file) => `Wrote sandbox:${file.path}`),
          ...result.imageFileIds.map((fileId) => `Produced an image (${fileId}), shown to the user.`),
        ].join('\n'),
      ),
    },
    imageFileIds: result.imageFileIds,
    files: result.files,
  };
}

/** The mark a search result is cited by: turn and position, as OpenAI writes them. */
export function citationMark(turn: number, index: number, fileName: string): string {
  return `【${turn}:${index}†${fileName}】`;
}

function formatSearchResults(results: readonly FileSearchResult[], turn: number): string {
  if (results.length === 0) return 'No results were found in the files.';
  return clip(
    results
      .map((result, index) => `${citationMark(turn, index, result.fileName)}\n${result.text.trim()}`)
      .join('\n\n'),
  );
}

function clip(text: string): string {
  return text.length <= MAX_TOOL_OUTPUT_CHARS
    ? text
    : `${text.slice(0, MAX_TOOL_OUTPUT_CHARS)}\n[… ${text.length - MAX_TOOL_OUTPUT_CHARS} characters cut …]`;
}
