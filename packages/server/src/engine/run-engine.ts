// What the API asks of runs: create one (on a thread, or with a new thread), accept tool outputs,
// cancel. Each writes the run's new state in one transaction, publishes what changed on the event
// bus and wakes the workers; with `stream`, it subscribes to the run's events first, so the caller
// sees everything from `thread.run.created` on, whichever node executes the run.

import { InvalidRequestError, NotFoundError } from '../errors.js';
import type {
  AssistantTool,
  Attachment,
  MessageContent,
  ResponseFormatOption,
  RunStatus,
  ToolChoiceOption,
  ToolResources,
  TruncationStrategy,
} from '../storage/assistants-domain.js';
import type { Assistant } from '../storage/repositories/assistants-repository.js';
import type { Message } from '../storage/repositories/messages-repository.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { Thread } from '../storage/repositories/threads-repository.js';
import type { Repositories } from '../storage/repositories.js';
import { newSortableId } from '../storage/sortable-id.js';
import type { BuiltInTools } from '../tools/spec.js';
import {
  checkAttachments,
  checkFiles,
  checkModel,
  checkResponseFormat,
  checkToolResources,
  checkTools,
  type ModelLookup,
} from './assistant-checks.js';
import type { EventBus } from './event-bus.js';
import { closeOpenWork, withOutputs } from './run-closing.js';
import {
  type RunEvent,
  type RunEventSubscription,
  runChannel,
  runControlChannel,
  subscribeToRun,
  WAKE_CHANNEL,
} from './run-events.js';
import { isTerminal } from './run-state.js';
import { type RunToolsets, ToolUnavailableError } from './run-tools.js';

export interface NewMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly MessageContent[];
  readonly attachments: readonly Attachment[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** A run's options as the client gave them; undefined/null means "the assistant's" or the default. */
export interface RunOptions {
  readonly model?: string | null;
  readonly instructions?: string | null;
  readonly additionalInstructions?: string | null;
  readonly tools?: readonly AssistantTool[] | null;
  readonly metadata?: Readonly<Record<string, string>> | null;
  readonly temperature?: number | null;
  readonly topP?: number | null;
  readonly maxPromptTokens?: number | null;
  readonly maxCompletionTokens?: number | null;
  readonly truncationStrategy?: TruncationStrategy | null;
  readonly toolChoice?: ToolChoiceOption | null;
  readonly responseFormat?: ResponseFormatOption | null;
  readonly parallelToolCalls?: boolean | null;
}

export interface ThreadInput {
  readonly messages: readonly NewMessage[];
  readonly toolResources: ToolResources;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface RunStart {
  readonly run: Run;
  /** With `stream`: the run's events from `created` on. Close it when done reading. */
  readonly events: RunEventSubscription | undefined;
}

export interface RunEngine {
  createRun(params: {
    workspaceId: string;
    threadId: string;
    assistantId: string;
    /** The person asking (a session's or personal key's account): may reach assistants beyond the workspace's. */
    accountId?: string | null;
    /** The API key asking (none: a web session): the run's model turns are counted against it. */
    apiKeyId?: string | null;
    options: RunOptions;
    additionalMessages: readonly NewMessage[];
    stream: boolean;
  }): Promise<RunStart>;
  createThreadAndRun(params: {
    workspaceId: string;
    assistantId: string;
    accountId?: string | null;
    apiKeyId?: string | null;
    thread: ThreadInput;
    options: RunOptions;
    stream: boolean;
  }): Promise<RunStart & { readonly thread: Thread }>;
  submitToolOutputs(params: {
    workspaceId: string;
    threadId: string;
    runId: string;
    outputs: readonly { readonly toolCallId: string; readonly output: string }[];
    stream: boolean;
  }): Promise<RunStart>;
  cancelRun(params: { workspaceId: string; threadId: string; runId: string }): Promise<Run>;
  /** Creates a thread with its first messages, atomically. */
  createThread(params: { workspaceId: string; thread: ThreadInput }): Promise<Thread>;
  /** Ends every stream still open with `error` (the server is shutting down). */
  closeStreams(error: Error): void;
  /** Adds messages to a thread, refusing while a run holds it (as OpenAI does). */
  addMessages(params: {
    workspaceId: string;
    threadId: string;
    messages: readonly NewMessage[];
  }): Promise<Message[]>;
}

/**
 * Assistants a caller may run beyond its workspace's own (GPTs shared with them: see
 * platform/gpts-runs.ts). The run copies the assistant's configuration, as for any assistant;
 * when it executes, `toolset` adds what the assistant brings of its own (run-tools.ts): its
 * resources searched in its workspace, and functions the server runs.
 */
export interface ExternalAssistants extends Partial<RunToolsets> {
  find(params: {
    workspaceId: string;
    accountId: string | null;
    assistantId: string;
  }): Promise<ExternalAssistant | null>;
}

export interface ExternalAssistant {
  readonly assistant: Assistant;
  /** Functions the server runs for this assistant: a client's own functions may not take these names. */
  readonly serverFunctionNames?: readonly string[];
  /** Called in the transaction that creates a run on it. */
  readonly onRunCreated?: (run: Run, trx: Repositories) => Promise<void>;
}

export interface RunEngineOptions {
  readonly repositories: Repositories;
  readonly models: ModelLookup;
  readonly bus: EventBus;
  readonly tools: BuiltInTools;
  readonly externalAssistants?: ExternalAssistants | undefined;
  /** Told of each run cancelled here before a worker held it (metrics; workers tell the rest). */
  readonly runEnded?: ((status: RunStatus) => void) | undefined;
  /** Unix seconds. */
  readonly now?: () => number;
}

export function createRunEngine({
  repositories,
  models,
  bus,
  tools,
  externalAssistants = undefined,
  runEnded = undefined,
  now = () => Math.floor(Date.now() / 1000),
}: RunEngineOptions): RunEngine {
  const publish = (runId: string, event: RunEvent) => bus.publish(runChannel(runId), event);
  const streams = new Set<RunEventSubscription>();

  /** A subscription the engine can end at shutdown. */
  async function subscribe(runId: string): Promise<RunEventSubscription> {
    const subscription = await subscribeToRun(bus, runId);
    streams.add(subscription);
    return {
      close: (error?: Error) => {
        streams.delete(subscription);
        subscription.close(error);
      },
      [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
    };
  }

  async function findThread(workspaceId: string, threadId: string): Promise<Thread> {
    const thread = await repositories.threads.find(workspaceId, threadId);
    if (!thread) throw new NotFoundError(`No thread found with id '${threadId}'.`, { param: 'thread_id' });
    return thread;
  }

  async function findAssistant(
    workspaceId: string,
    assistantId: string,
    accountId: string | null = null,
  ): Promise<ExternalAssistant> {
    const assistant = await repositories.assistants.find(workspaceId, assistantId);
    if (assistant) return { assistant };
    const external = await externalAssistants?.find({ workspaceId, accountId, assistantId });
    if (!external) {
      throw new NotFoundError(`No assistant found with id '${assistantId}'.`, { param: 'assistant_id' });
    }
    return external;
  }

  async function checkMessages(
    workspaceId: string,
    messages: readonly NewMessage[],
    param: string,
  ): Promise<void> {
    for (const [index, message] of messages.entries()) {
      await checkAttachments(repositories, {
        workspaceId,
        attachments: message.attachments,
        param: `${param}[${index}].attachments`,
      });
      await checkFiles(repositories, {
        workspaceId,
        fileIds: message.content.flatMap((part) => (part.type === 'image_file' ? [part.fileId] : [])),
        param: `${param}[${index}].content`,
      });
    }
  }

  /** The run's configuration: the client's options over the assistant's, checked against the model. */
  function configure({ assistant, serverFunctionNames = [] }: ExternalAssistant, options: RunOptions) {
    const modelId = options.model ?? assistant.model;
    const model = checkModel(models, modelId);
    const runTools = options.tools ?? assistant.tools;
    checkTools(runTools, { model });
    for (const [index, tool] of runTools.entries()) {
      if (tool.type === 'function' && serverFunctionNames.includes(tool.function.name)) {
        throw new InvalidRequestError(
          `The function name '${tool.function.name}' is taken by a tool this assistant runs itself: choose another name.`,
          { param: `tools[${index}].function.name` },
        );
      }
    }
    const toolChoice = options.toolChoice ?? 'auto';
    if (typeof toolChoice === 'object') {
      if (toolChoice.type === 'function') {
        if (!runTools.some((tool) => tool.type === 'function' && tool.function.name === toolChoice.name)) {
          throw new InvalidRequestError(
            `Invalid value for 'tool_choice': no function named '${toolChoice.name}' was specified in the tools.`,
            { param: 'tool_choice' },
          );
        }
      } else {
        if (!runTools.some((tool) => tool.type === toolChoice.type)) {
          throw new InvalidRequestError(
            `Invalid value for 'tool_choice': the ${toolChoice.type} tool is not among the run's tools.`,
            { param: 'tool_choice' },
          );
        }
        if (toolChoice.type === 'file_search' && !tools.fileSearch)
          throw new ToolUnavailableError('file_search');
        if (toolChoice.type === 'code_interpreter' && !tools.codeInterpreter) {
          throw new ToolUnavailableError('code_interpreter');
        }
      }
    }
    if (toolChoice === 'required' && runTools.length === 0) {
      throw new InvalidRequestError("'tool_choice' is 'required' but the run has no tools.", {
        param: 'tool_choice',
      });
    }
    const responseFormat = options.responseFormat ?? assistant.responseFormat;
    checkResponseFormat(responseFormat, { model });
    const base = options.instructions ?? assistant.instructions ?? '';
    const extra = options.additionalInstructions ?? '';
    return {
      model: model.id,
      instructions: base && extra ? `${base}\n\n${extra}` : base || extra,
      tools: runTools,
      toolResources: assistant.toolResources,
      fileIds: assistant.fileIds,
      metadata: options.metadata ?? {},
      temperature: options.temperature ?? assistant.temperature,
      topP: options.topP ?? assistant.topP,
      maxPromptTokens: options.maxPromptTokens ?? null,
      maxCompletionTokens: options.maxCompletionTokens ?? null,
      truncationStrategy: options.truncationStrategy ?? { type: 'auto' as const, lastMessages: null },
      toolChoice,
      responseFormat,
      parallelToolCalls: options.parallelToolCalls ?? true,
    };
  }

  /** Subscribes first when streaming, then creates and announces the run. */
  async function start(
    stream: boolean,
    create: (identity: { id: string; seq: number }) => Promise<Run>,
  ): Promise<RunStart> {
    const identity = newSortableId('run');
    const events = stream ? await subscribe(identity.id) : undefined;
    try {
      const run = await create(identity);
      await publish(run.id, { type: 'run', event: 'created', run });
      await publish(run.id, { type: 'run', event: 'queued', run });
      await bus.publish(WAKE_CHANNEL, {});
      return { run, events };
    } catch (error) {
      events?.close();
      throw error;
    }
  }

  async function insertMessages(
    trx: Repositories,
    {
      workspaceId,
      threadId,
      messages,
    }: { workspaceId: string; threadId: string; messages: readonly NewMessage[] },
  ): Promise<Message[]> {
    if (messages.length === 0) return [];
    return trx.messages.createMany(messages.map((message) => ({ workspaceId, threadId, ...message })));
  }

  return {
    async createRun({
      workspaceId,
      threadId,
      assistantId,
      accountId = null,
      apiKeyId = null,
      options,
      additionalMessages,
      stream,
    }) {
      await findThread(workspaceId, threadId);
      const found = await findAssistant(workspaceId, assistantId, accountId);
      const configuration = configure(found, options);
      await checkMessages(workspaceId, additionalMessages, 'additional_messages');
      return start(stream, (identity) =>
        repositories.transaction(async (trx) => {
          const active = await trx.runs.activeRun(threadId);
          if (active) {
            throw new InvalidRequestError(`Thread ${threadId} already has an active run ${active.id}.`, {
              param: 'thread_id',
            });
          }
          await insertMessages(trx, { workspaceId, threadId, messages: additionalMessages });
          const run = await trx.runs.create({
            workspaceId,
            threadId,
            assistantId,
            accountId,
            apiKeyId,
            identity,
            expiresAt: null,
            ...configuration,
          });
          await found.onRunCreated?.(run, trx);
          return run;
        }),
      );
    },

    async createThreadAndRun({
      workspaceId,
      assistantId,
      accountId = null,
      apiKeyId = null,
      thread: threadParams,
      options,
      stream,
    }) {
      const found = await findAssistant(workspaceId, assistantId, accountId);
      const configuration = configure(found, options);
      await checkToolResources(repositories, { workspaceId, resources: threadParams.toolResources });
      await checkMessages(workspaceId, threadParams.messages, 'thread.messages');
      let thread: Thread | undefined;
      const started = await start(stream, (identity) =>
        repositories.transaction(async (trx) => {
          thread = await trx.threads.create({
            workspaceId,
            toolResources: threadParams.toolResources,
            metadata: threadParams.metadata,
          });
          await insertMessages(trx, { workspaceId, threadId: thread.id, messages: threadParams.messages });
          const run = await trx.runs.create({
            workspaceId,
            threadId: thread.id,
            assistantId,
            accountId,
            apiKeyId,
            identity,
            expiresAt: null,
            ...configuration,
          });
          await found.onRunCreated?.(run, trx);
          return run;
        }),
      );
      return { ...started, thread: thread! };
    },

    async submitToolOutputs({ workspaceId, threadId, runId, outputs, stream }) {
      await findThread(workspaceId, threadId);
      const run = await repositories.runs.find(workspaceId, threadId, runId);
      if (!run) throw new NotFoundError(`No run found with id '${runId}'.`, { param: 'run_id' });
      if (run.status !== 'requires_action' || !run.requiredAction) {
        throw new InvalidRequestError(`Runs in status "${run.status}" do not accept tool outputs.`, {
          param: 'run_id',
        });
      }
      if (run.expiresAt !== null && run.expiresAt <= now()) {
        throw new InvalidRequestError(
          `Run ${runId} expired at ${run.expiresAt}: it no longer accepts tool outputs.`,
          {
            param: 'run_id',
          },
        );
      }
      const expected = run.requiredAction.toolCalls.map((call) => call.id);
      const given = outputs.map((output) => output.toolCallId);
      const unknown = given.find((id) => !expected.includes(id));
      if (unknown !== undefined) {
        throw new InvalidRequestError(
          `Invalid tool_call_id: ${unknown}. The run is waiting for outputs of ${expected.join(', ')}.`,
          { param: `tool_outputs[${given.indexOf(unknown)}].tool_call_id` },
        );
      }
      const duplicate = given.find((id, index) => given.indexOf(id) !== index);
      if (duplicate !== undefined) {
        throw new InvalidRequestError(`Duplicate output for tool_call_id ${duplicate}.`, {
          param: 'tool_outputs',
        });
      }
      const missing = expected.filter((id) => !given.includes(id));
      if (missing.length > 0) {
        throw new InvalidRequestError(
          `Expected tool outputs for call_ids ${JSON.stringify(expected)}, got ${JSON.stringify(given)}; missing ${missing.join(', ')}.`,
          { param: 'tool_outputs' },
        );
      }
      const events = stream ? await subscribe(runId) : undefined;
      try {
        const byId = new Map(outputs.map((output) => [output.toolCallId, output.output]));
        const result = await repositories.transaction(async (trx) => {
          const queued = await trx.runs.transition({
            id: runId,
            from: ['requires_action'],
            changes: {
              status: 'queued',
              requiredAction: null,
              expiresAt: null,
              claimedBy: null,
              leaseExpiresAt: null,
            },
          });
          if (!queued) return null;
          const step = (await trx.runSteps.forRun(runId)).find(
            (candidate) =>
              candidate.status === 'in_progress' &&
              candidate.details.type === 'tool_calls' &&
              candidate.details.toolCalls.some((call) => byId.has(call.id)),
          );
          const completed = step
            ? await trx.runSteps.update(step.id, {
                details: withOutputs(step.details, byId),
                status: 'completed',
              })
            : null;
          return { queued, completed };
        });
        if (!result) {
          const current = await repositories.runs.findById(runId);
          throw new InvalidRequestError(
            `Runs in status "${current?.status ?? 'expired'}" do not accept tool outputs.`,
            {
              param: 'run_id',
            },
          );
        }
        if (result.completed)
          await publish(runId, { type: 'step', event: 'completed', step: result.completed });
        await publish(runId, { type: 'run', event: 'queued', run: result.queued });
        await bus.publish(WAKE_CHANNEL, {});
        return { run: result.queued, events };
      } catch (error) {
        events?.close();
        throw error;
      }
    },

    async cancelRun({ workspaceId, threadId, runId }) {
      await findThread(workspaceId, threadId);
      const run = await repositories.runs.find(workspaceId, threadId, runId);
      if (!run) throw new NotFoundError(`No run found with id '${runId}'.`, { param: 'run_id' });
      if (isTerminal(run.status)) {
        throw new InvalidRequestError(`Cannot cancel run with status '${run.status}'.`, { param: 'run_id' });
      }
      if (run.status === 'cancelling') return run;
      // Not held by a worker: cancelled at once.
      const direct = await repositories.runs.transition({
        id: runId,
        from: ['queued', 'requires_action'],
        changes: {
          status: 'cancelled',
          cancelledAt: now(),
          requiredAction: null,
          expiresAt: null,
          claimedBy: null,
          leaseExpiresAt: null,
        },
      });
      if (direct) {
        runEnded?.('cancelled');
        await closeOpenWork({
          repositories,
          bus,
          runId,
          stepStatus: 'cancelled',
          messageReason: 'run_cancelled',
        });
        await publish(runId, { type: 'run', event: 'cancelled', run: direct });
        return direct;
      }
      // Being executed: the worker stops at its next token and finishes the cancel.
      const cancelling = await repositories.runs.transition({
        id: runId,
        from: ['in_progress'],
        changes: { status: 'cancelling' },
      });
      if (cancelling) {
        await publish(runId, { type: 'run', event: 'cancelling', run: cancelling });
        await bus.publish(runControlChannel(runId), { type: 'cancel' });
        return cancelling;
      }
      // It moved on meanwhile: answer with where it is now.
      const current = await repositories.runs.findById(runId);
      if (!current || isTerminal(current.status)) {
        throw new InvalidRequestError(`Cannot cancel run with status '${current?.status ?? 'unknown'}'.`, {
          param: 'run_id',
        });
      }
      return current;
    },

    closeStreams(error) {
      for (const stream of [...streams]) stream.close(error);
      streams.clear();
    },

    async createThread({ workspaceId, thread: input }) {
      await checkToolResources(repositories, { workspaceId, resources: input.toolResources });
      await checkMessages(workspaceId, input.messages, 'messages');
      return repositories.transaction(async (trx) => {
        const thread = await trx.threads.create({
          workspaceId,
          toolResources: input.toolResources,
          metadata: input.metadata,
        });
        await insertMessages(trx, { workspaceId, threadId: thread.id, messages: input.messages });
        return thread;
      });
    },

    async addMessages({ workspaceId, threadId, messages }) {
      await findThread(workspaceId, threadId);
      await checkMessages(workspaceId, messages, 'messages');
      return repositories.transaction(async (trx) => {
        const active = await trx.runs.activeRun(threadId);
        if (active) {
          throw new InvalidRequestError(
            `Can't add messages to ${threadId} while a run ${active.id} is active.`,
            {
              param: 'thread_id',
            },
          );
        }
        return insertMessages(trx, { workspaceId, threadId, messages });
      });
    },
  };
}
