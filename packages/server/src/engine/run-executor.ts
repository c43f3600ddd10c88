// Executes one claimed run until it needs the client (requires_action), ends, or is taken away.
//
// A run is a loop of model turns. Each turn assembles the thread into the context window, streams
// the model's answer as a message step or its tool calls as a tool-calls step, and records usage.
// Built-in tools (file_search, code_interpreter) run here and the loop goes on; function calls
// put the run in requires_action and release it. Functions the server runs itself (an assistant's
// toolset: a GPT's browsing and actions) run here too; one that must wait for a person's answer is
// held back and the run stops, incomplete, listing it in `pendingActions`; the next run on the
// thread makes the held calls the person answered before its first model turn. Everything
// durable is in the rows: a message is written when its turn ends (its text so far about every
// second, for readers that come in the middle) and tool calls and outputs as they happen, so a
// run resumed after a crash drops only the half-written turn and never runs a tool call twice.

import { newId } from '@atelier/protocol';
import { AtelierError } from '../errors.js';
import { defaultSampling } from '../inference/sampling.js';
import type {
  FinishReason,
  GenerateRequest,
  LanguageModel,
  OutputConstraint,
  ToolDefinition,
  Usage,
} from '../inference/spec.js';
import type {
  AssistantTool,
  Attachment,
  ContextRecord,
  HeldCall,
  LastError,
  MessageContent,
  ResponseFormatOption,
  RunStatus,
  StepDetails,
  TokenUsage,
  ToolCall,
  ToolResources,
} from '../storage/assistants-domain.js';
import type { Message } from '../storage/repositories/messages-repository.js';
import type { RunStep } from '../storage/repositories/run-steps-repository.js';
import type { ClaimedRun, Run, RunChanges } from '../storage/repositories/runs-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { BuiltInTools } from '../tools/spec.js';
import { annotate, type SearchTurn } from './citations.js';
import type { EventBus } from './event-bus.js';
import type { ImageInputs } from './image-inputs.js';
import { closeOpenWork } from './run-closing.js';
import { type RunEvent, runChannel } from './run-events.js';
import { REQUIRES_ACTION_TIMEOUT_SECONDS } from './run-state.js';
import {
  RESERVED_FUNCTION_NAMES,
  type RunToolset,
  type RunToolsets,
  runBuiltInCall,
  type ServerCallOutcome,
  type ServerFunctions,
  ToolUnavailableError,
  toolDefinitions,
  toolModeFor,
} from './run-tools.js';
import { assembleContext, type ToolRound } from './thread-context.js';
import type { Summarizer } from './thread-summarizer.js';
import type { TokenCounter } from './token-counter.js';

export interface RunExecutorDeps {
  readonly repositories: Repositories;
  readonly languageModel: (id: string) => LanguageModel;
  readonly bus: EventBus;
  readonly tools: BuiltInTools;
  readonly counter: TokenCounter;
  readonly summarizer?: Summarizer | undefined;
  /** What runs on assistants of another kind (GPTs) bring of their own when they execute. */
  readonly toolsets?: Partial<RunToolsets> | undefined;
  /** Where a vision model's image files come from; none: it is told an image is there. */
  readonly images?: ImageInputs | undefined;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, details?: object) => void;
  /** Told of each model call a run makes (its turns, its thread's summaries): the usage ledger. */
  readonly recordUsage?: ((call: RunModelCall) => void) | undefined;
  /** Told once of each run that reaches a terminal status here or in the worker (metrics). */
  readonly runEnded?: ((status: RunStatus) => void) | undefined;
  /** Unix seconds. */
  readonly now?: () => number;
}

/** One model call made for a run: counted against the run's workspace, key and person. */
export interface RunModelCall {
  readonly run: Run;
  /** The served model that answered. */
  readonly model: string;
  readonly usage: Usage;
}

/** Why a worker stopped a run it holds. */
export type StopReason = 'cancel' | 'lost' | 'shutdown';

export class RunStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`run stopped: ${reason}`);
  }
}

/** Model turns one run may take (each built-in tool round is one); beyond it the run fails. */
export const MAX_TURNS = 24;
/** Claims of a run in a row without it reaching a checkpoint: more mean it keeps crashing. */
export const MAX_RESUMES = 2;
/** How often the text of an answer being written is saved to its message (ms). */
const PARTIAL_SAVE_INTERVAL_MS = 1000;

const ACTIVE = ['in_progress', 'cancelling'] as const;

export async function executeRun(
  deps: RunExecutorDeps,
  { claimed, workerId, signal }: { claimed: ClaimedRun; workerId: string; signal: AbortSignal },
): Promise<void> {
  const { repositories: repos, bus } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  let run = claimed.run;
  const publish = (event: RunEvent) => bus.publish(runChannel(run.id), event);
  const stopReason = (): StopReason | undefined =>
    signal.aborted ? ((signal.reason as RunStopped | undefined)?.reason ?? 'shutdown') : undefined;

  /** A write that only lands while this worker still holds the run. */
  async function update(changes: RunChanges, from: readonly Run['status'][] = ACTIVE): Promise<Run> {
    const updated = await repos.runs.transition({ id: run.id, from, claimedBy: workerId, changes });
    if (!updated) throw new RunStopped('lost');
    run = updated;
    return updated;
  }

  async function end(
    status: 'completed' | 'incomplete' | 'failed' | 'cancelled',
    extra: RunChanges = {},
  ): Promise<void> {
    const at = now();
    await update({
      status,
      requiredAction: null,
      expiresAt: null,
      claimedBy: null,
      leaseExpiresAt: null,
      // An incomplete run ended too: its end is kept (the v1 wire shows such a run as completed).
      ...(status === 'completed' || status === 'incomplete' ? { completedAt: at } : {}),
      ...(status === 'failed' ? { failedAt: at } : {}),
      ...(status === 'cancelled' ? { cancelledAt: at } : {}),
      ...extra,
    });
    deps.runEnded?.(status);
    await publish({ type: 'run', event: status, run });
  }

  async function fail(lastError: LastError, extra: RunChanges = {}): Promise<void> {
    await closeOpenWork({
      repositories: repos,
      bus,
      runId: run.id,
      stepStatus: 'failed',
      messageReason: 'run_failed',
      lastError: {
        code: lastError.code === 'rate_limit_exceeded' ? 'rate_limit_exceeded' : 'server_error',
        message: lastError.message,
      },
    });
    await end('failed', { ...extra, lastError });
  }

  async function cancelled(): Promise<void> {
    await closeOpenWork({
      repositories: repos,
      bus,
      runId: run.id,
      stepStatus: 'cancelled',
      messageReason: 'run_cancelled',
    });
    await end('cancelled');
  }

  // Set once the run's toolset is known (first thing in the try below).
  let toolset: RunToolset | null = null;
  let serverFunctions: ServerFunctions | null = null;
  const clientFunctions = new Set(
    run.tools.flatMap((tool) => (tool.type === 'function' ? [tool.function.name] : [])),
  );
  /** A call of a function the server runs (the client's own function of that name wins). */
  const isServerCall = (call: ToolCall): call is Extract<ToolCall, { type: 'function' }> =>
    call.type === 'function' &&
    !clientFunctions.has(call.name) &&
    !RESERVED_FUNCTION_NAMES.has(call.name) &&
    serverFunctions?.has(call.name) === true;

  try {
    toolset = (await deps.toolsets?.toolset?.({ run, signal })) ?? null;
    serverFunctions = toolset?.functions ?? null;
    if (claimed.resumed) {
      if (run.attempts > MAX_RESUMES + 1) {
        await fail({
          code: 'server_error',
          message: `The run was interrupted ${run.attempts - 1} times (the server stopped while it was in progress) and was stopped so it does not run in a loop. Create a new run to continue.`,
        });
        return;
      }
      deps.log('info', 'resuming a run interrupted by a restart', { runId: run.id, attempts: run.attempts });
      const outcome = await recover();
      if (outcome === 'done') return;
    } else {
      await publish({ type: 'run', event: 'in_progress', run });
    }
    if (run.status === 'cancelling') {
      await cancelled();
      return;
    }

    let model: LanguageModel;
    try {
      model = deps.languageModel(run.model);
    } catch {
      await fail({
        code: 'server_error',
        message: `The model \`${run.model}\` is no longer available on this server.`,
      });
      return;
    }
    const definitions = [
      ...toolDefinitions(run.tools),
      ...(serverFunctions && model.info.capabilities.tools
        ? serverFunctions.definitions.filter(
            (definition) =>
              !clientFunctions.has(definition.name) && !RESERVED_FUNCTION_NAMES.has(definition.name),
          )
        : []),
    ];
    const pendingImages: string[] = [];
    const writtenFiles: { fileId: string; path: string }[] = [];
    if (serverFunctions && !claimed.resumed && (await repos.runSteps.forRun(run.id)).length === 0) {
      await replayHeldCalls(serverFunctions);
    }

    for (;;) {
      const reason = stopReason();
      if (reason) throw new RunStopped(reason);
      const steps = await repos.runSteps.forRun(run.id);
      const { rounds, searches } = toolHistory(steps);
      if (run.turns >= MAX_TURNS) {
        await fail({
          code: 'server_error',
          message: `The run reached its limit of ${MAX_TURNS} model turns (tool calls kept following each other).`,
        });
        return;
      }
      const remaining =
        run.maxCompletionTokens === null ? null : run.maxCompletionTokens - run.completionTokens;
      if (remaining !== null && remaining <= 0) {
        await end('incomplete', { incompleteReason: 'max_completion_tokens' });
        return;
      }

      const turn = await takeTurn({
        model,
        definitions,
        rounds,
        searches,
        remaining,
        pendingImages,
        writtenFiles,
      });
      if (turn === 'ended') return;
      // Built-in tool calls ran: go around for the model to use their results.
    }
  } catch (error) {
    const reason = error instanceof RunStopped ? error.reason : stopReason();
    if (reason === 'lost') {
      deps.log('warn', 'lost the lease on a run; another worker has it now', { runId: run.id });
      return;
    }
    if (reason === 'shutdown') {
      // Hand the run back at once: the next worker (here after a restart, or another node) resumes it.
      await repos.runs
        .transition({
          id: run.id,
          from: ACTIVE,
          claimedBy: workerId,
          changes: { claimedBy: null, leaseExpiresAt: 0 },
        })
        .catch(() => undefined);
      return;
    }
    if (reason === 'cancel') {
      await cancelled().catch((closing: unknown) =>
        deps.log('error', 'could not finish cancelling a run', { runId: run.id, err: closing }),
      );
      return;
    }
    // The thread (and with it the run) was deleted while the run executed: nothing to record.
    if (!(await repos.runs.findById(run.id).catch(() => null))) return;
    deps.log('error', 'run failed', { runId: run.id, err: error });
    await fail(toLastError(error)).catch((closing: unknown) =>
      deps.log('error', 'could not record a run failure', { runId: run.id, err: closing }),
    );
  }

  /** Puts a run whose worker died back on its feet; 'done' when that already ended it. */
  async function recover(): Promise<'continue' | 'done'> {
    const steps = await repos.runSteps.forRun(run.id);
    for (const step of steps) {
      if (step.status !== 'in_progress') continue;
      if (step.details.type === 'message_creation') {
        // A half-written answer: it is written again from the start.
        const message = await repos.messages.findById(step.details.messageId);
        if (message && message.status === 'in_progress') await repos.messages.remove(message.id);
        await repos.runSteps.remove(step.id);
        continue;
      }
      const calls = step.details.toolCalls;
      if (calls.length === 0) {
        // Tool calls are saved when their generation ends: none saved means it did not end.
        await repos.runSteps.remove(step.id);
        continue;
      }
      // Calls the server makes that may or may not have run are not run again: the model is told.
      const settled = calls.map((call) =>
        (call.type !== 'function' || isServerCall(call)) && call.output === null
          ? { ...call, output: 'The tool call was interrupted by a server restart and was not completed.' }
          : call,
      );
      const details: StepDetails = { type: 'tool_calls', toolCalls: settled };
      const pending = settled.filter((call) => call.type === 'function' && call.output === null);
      if (pending.length > 0) {
        await repos.runSteps.update(step.id, { details });
        await requireAction(pending as Extract<ToolCall, { type: 'function' }>[]);
        return 'done';
      }
      const completed = await repos.runSteps.update(step.id, { details, status: 'completed' });
      if (completed) await publish({ type: 'step', event: 'completed', step: completed });
    }
    await publish({ type: 'run', event: 'in_progress', run });
    // The answer was written and only the run's own end was lost: end it now, don't answer twice.
    const last = (await repos.runSteps.forRun(run.id)).at(-1);
    // So was the stop for a person's answer to calls the last round held back.
    if (
      last?.details.type === 'tool_calls' &&
      last.status === 'completed' &&
      last.details.toolCalls.some((call) => run.pendingActions.some((held) => held.toolCallId === call.id)) &&
      !last.details.toolCalls.some((call) => call.type === 'function' && !isServerCall(call))
    ) {
      await end('incomplete');
      return 'done';
    }
    if (last?.details.type === 'message_creation' && last.status === 'completed') {
      const message = await repos.messages.findById(last.details.messageId);
      const cut = message?.status === 'incomplete' && run.maxCompletionTokens !== null;
      await end(cut ? 'incomplete' : 'completed', cut ? { incompleteReason: 'max_completion_tokens' } : {});
      return 'done';
    }
    return 'continue';
  }

  async function requireAction(calls: readonly Extract<ToolCall, { type: 'function' }>[]): Promise<void> {
    const updated = await repos.runs.transition({
      id: run.id,
      from: ['in_progress'],
      claimedBy: workerId,
      changes: {
        status: 'requires_action',
        requiredAction: {
          toolCalls: calls.map((call) => ({ id: call.id, name: call.name, arguments: call.arguments })),
        },
        expiresAt: now() + REQUIRES_ACTION_TIMEOUT_SECONDS,
        claimedBy: null,
        leaseExpiresAt: null,
      },
    });
    if (updated) {
      run = updated;
      await publish({ type: 'run', event: 'requires_action', run });
      return;
    }
    // Cancelled meanwhile (or taken away): the cancel wins.
    const current = await repos.runs.findById(run.id);
    if (current?.status === 'cancelling' && current.claimedBy === workerId) throw new RunStopped('cancel');
    throw new RunStopped('lost');
  }

  /** One model turn and what follows from it; 'ended' when the run left this worker. */
  async function takeTurn({
    model,
    definitions,
    rounds,
    searches,
    remaining,
    pendingImages,
    writtenFiles,
  }: {
    model: LanguageModel;
    definitions: ToolDefinition[];
    rounds: ToolRound[];
    searches: SearchTurn[];
    remaining: number | null;
    pendingImages: string[];
    writtenFiles: { fileId: string; path: string }[];
  }): Promise<'ended' | 'again'> {
    const contextLength = model.info.contextLength;
    const defaultReserve = Math.max(64, Math.floor(contextLength / 4));
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    let generation: Generation | undefined;
    let record: ContextRecord | undefined;
    // One retry with more room for the reply when the estimate of the prompt fell short.
    for (let attempt = 0; attempt < 2 && !generation; attempt++) {
      const reserve =
        Math.min(remaining ?? Number.POSITIVE_INFINITY, defaultReserve) +
        attempt * Math.floor(contextLength / 4);
      const context = await assembleContext({
        model,
        counter: deps.counter,
        messages: repos.messages,
        threads: repos.threads,
        threadId: run.threadId,
        instructions: [run.instructions, toolset?.instructions ?? '']
          .filter((part) => part.trim() !== '')
          .join('\n\n'),
        tools: definitions,
        toolRounds: rounds,
        truncation: run.truncationStrategy,
        maxPromptTokens: run.maxPromptTokens,
        completionReserve: reserve,
        summarizer: deps.summarizer,
        images: deps.images?.forWorkspace(run.workspaceId),
        signal,
      });
      usage = addUsage(usage, context.summaryUsage);
      // A summary of the thread's oldest messages is a call of the run's own model.
      if (context.summaryUsage.promptTokens + context.summaryUsage.completionTokens > 0)
        deps.recordUsage?.({
          run,
          model: model.info.id,
          usage: { ...context.summaryUsage, cachedPromptTokens: 0 },
        });
      if (context.kind === 'too-long') {
        if (context.reason === 'max_prompt_tokens') {
          await end('incomplete', {
            ...usageChanges(usage, undefined),
            incompleteReason: 'max_prompt_tokens',
          });
        } else {
          await fail(
            {
              code: 'invalid_prompt',
              message: `The run's instructions, tools and newest message need about ${context.neededTokens} tokens, more than the ${context.budgetTokens} that the model \`${model.info.id}\` (context of ${contextLength} tokens) leaves for a prompt.`,
            },
            usageChanges(usage, undefined),
          );
        }
        return 'ended';
      }
      record = context.record;
      const maxTokens =
        remaining === null
          ? undefined
          : Math.max(1, Math.min(remaining, contextLength - context.record.estimatedPromptTokens - 8));
      try {
        generation = await generate(model, {
          input: {
            type: 'chat',
            messages: context.messages,
            tools: definitions,
            toolMode: toolModeFor(run.toolChoice, {
              firstTurn: run.turns === 0,
              hasTools: definitions.length > 0,
            }),
            parallelToolCalls: run.parallelToolCalls,
          },
          sampling: defaultSampling({
            ...(maxTokens !== undefined ? { maxTokens } : {}),
            temperature: run.temperature ?? 1,
            topP: run.topP ?? 1,
          }),
          constraint: toConstraint(run.responseFormat),
          signal,
        });
      } catch (error) {
        if (attempt === 0 && error instanceof AtelierError && error.code === 'context_length_exceeded')
          continue;
        throw error;
      }
    }
    if (!generation || !record)
      throw new AtelierError('The model could not be given a prompt that fits its context.');
    usage = addUsage(usage, generation.usage);
    const accounted = usageChanges(usage, { ...record, promptTokens: generation.usage.promptTokens });

    const reason = stopReason();
    if (reason && generation.message?.text) {
      // Keep what was written before the stop: the message ends incomplete with it.
      await repos.messages.update(generation.message.message.id, {
        content: [{ type: 'text', text: generation.message.text, annotations: [] }],
      });
    }
    if (generation.toolStep || reason) {
      await update(accounted);
      if (generation.toolStep)
        return runTools(generation, rounds.length, pendingImages, writtenFiles, reason);
      throw new RunStopped(reason!);
    }
    // An answer: finish its message (citations, images), then the run, with its usage in one write.
    const cut = generation.finishReason === 'length';
    await finishMessage(generation, searches, pendingImages, writtenFiles, cut ? 'max_tokens' : null);
    const limited =
      cut &&
      run.maxCompletionTokens !== null &&
      (accounted.completionTokens ?? 0) >= run.maxCompletionTokens - 1;
    await end(limited ? 'incomplete' : 'completed', {
      ...accounted,
      ...(limited ? { incompleteReason: 'max_completion_tokens' } : {}),
    });
    return 'ended';
  }

  /** The run's usage and bookkeeping after a turn (and any summaries it needed). */
  function usageChanges(usage: TokenUsage, record: ContextRecord | undefined): RunChanges {
    return {
      promptTokens: run.promptTokens + usage.promptTokens,
      completionTokens: run.completionTokens + usage.completionTokens,
      turns: run.turns + (record ? 1 : 0),
      ...(record ? { context: record } : {}),
    };
  }

  async function runTools(
    generation: Generation,
    turn: number,
    pendingImages: string[],
    writtenFiles: { fileId: string; path: string }[],
    reason: StopReason | undefined,
  ): Promise<'ended' | 'again'> {
    const step = generation.toolStep!;
    const calls = [...generation.calls];
    let current = await repos.runSteps.update(step.id, {
      details: { type: 'tool_calls', toolCalls: calls },
      usage: generation.turnUsage,
    });
    if (!current) throw new RunStopped('lost');
    if (reason) throw new RunStopped(reason);
    const thread = await repos.threads.find(run.workspaceId, run.threadId);
    const resources = collectResources(
      run,
      thread?.toolResources ?? {},
      await repos.messages.attachments(run.threadId),
      toolset?.resourcesWorkspaceId ?? run.workspaceId,
    );
    const held: HeldCall[] = [];
    for (const [index, call] of calls.entries()) {
      if (call.type === 'function' && !isServerCall(call)) continue;
      const stop = stopReason();
      if (stop) throw new RunStopped(stop);
      let done: ToolCall;
      if (call.type === 'function') {
        const outcome = await callServerFunction(serverFunctions!, call);
        done = { ...call, output: outcome.output };
        if (outcome.type === 'held') {
          held.push({
            toolCallId: call.id,
            name: call.name,
            arguments: call.arguments,
            heldAt: now(),
            pending: outcome.pending,
          });
        }
      } else {
        try {
          const result = await runBuiltInCall(call, {
            tools: deps.tools,
            workspaceId: run.workspaceId,
            threadId: run.threadId,
            turn,
            vectorStoreIds: resources.vectorStoreIds,
            knowledge: resources.knowledge,
            searchFileIds: resources.searchFileIds,
            codeFileIds: resources.codeFileIds,
            fileSearchOptions: fileSearchOptions(run.tools),
            ...(call.type === 'file_search' ? { userMessage: await newestUserText(run.threadId) } : {}),
            signal,
          });
          done = result.call;
          pendingImages.push(...result.imageFileIds);
          writtenFiles.push(...result.files);
        } catch (error) {
          if (error instanceof ToolUnavailableError) {
            await fail({ code: 'server_error', message: error.message });
            return 'ended';
          }
          if (signal.aborted) throw new RunStopped(stopReason() ?? 'shutdown');
          deps.log('warn', 'a built-in tool call failed', { runId: run.id, tool: call.type, err: error });
          done = {
            ...call,
            output: `The ${call.type} tool failed: ${error instanceof Error ? error.message : String(error)}`,
          };
        }
      }
      calls[index] = done;
      // Saved call by call: a restart must not run a finished call again.
      current = await repos.runSteps.update(step.id, { details: { type: 'tool_calls', toolCalls: calls } });
      if (!current) throw new RunStopped('lost');
      await publish({ type: 'step-delta', stepId: step.id, toolCall: outputDelta(done, index) });
    }
    // Calls held for a person's answer are listed on the run, for the client to ask them.
    if (held.length > 0) await update({ pendingActions: [...run.pendingActions, ...held] });
    const functions = calls.filter(
      (call): call is Extract<ToolCall, { type: 'function' }> =>
        call.type === 'function' && !isServerCall(call),
    );
    if (functions.length > 0) {
      await requireAction(functions);
      return 'ended';
    }
    const completed = await repos.runSteps.update(step.id, { status: 'completed' });
    if (completed) await publish({ type: 'step', event: 'completed', step: completed });
    if (held.length > 0) {
      // The run stops before the model answers; the next run makes the calls once answered.
      await end('incomplete');
      return 'ended';
    }
    return 'again';
  }

  /** One call of a server-run function; a failure is told to the model, not the end of the run. */
  async function callServerFunction(
    functions: ServerFunctions,
    call: Extract<ToolCall, { type: 'function' }>,
  ): Promise<ServerCallOutcome> {
    try {
      return await functions.call({ id: call.id, name: call.name, arguments: call.arguments }, { signal });
    } catch (error) {
      if (signal.aborted) throw new RunStopped(stopReason() ?? 'shutdown');
      deps.log('warn', 'a server tool call failed', { runId: run.id, tool: call.name, err: error });
      return {
        type: 'output',
        output: `The ${call.name} tool failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /**
   * Opens a new run with the calls the thread's previous run (same assistant, same person) held
   * back, made now that the person answered: one tool round, before the first model turn. Calls
   * still unanswered are not made (the model may ask again).
   */
  async function replayHeldCalls(functions: ServerFunctions): Promise<void> {
    const recent = await repos.runs.list({
      workspaceId: run.workspaceId,
      threadId: run.threadId,
      limit: 2,
      order: 'desc',
    });
    const previous = recent.data.find((candidate) => candidate.seq < run.seq);
    if (
      !previous ||
      previous.pendingActions.length === 0 ||
      previous.assistantId !== run.assistantId ||
      previous.accountId !== run.accountId
    ) {
      return;
    }
    const calls: ToolCall[] = [];
    let step: RunStep | null = null;
    for (const held of previous.pendingActions) {
      const stop = stopReason();
      if (stop) throw new RunStopped(stop);
      if (clientFunctions.has(held.name) || !functions.has(held.name)) continue;
      let output: string | null;
      try {
        output = await functions.resume(held, { signal });
      } catch (error) {
        if (signal.aborted) throw new RunStopped(stopReason() ?? 'shutdown');
        output = `The ${held.name} tool failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (output === null) continue;
      const call: ToolCall = {
        type: 'function',
        id: held.toolCallId,
        name: held.name,
        arguments: held.arguments,
        output,
      };
      calls.push(call);
      // Saved call by call, as any tool round: a made call is never made again.
      if (!step) {
        step = await repos.runSteps.create({
          runId: run.id,
          threadId: run.threadId,
          workspaceId: run.workspaceId,
          assistantId: run.assistantId,
          details: { type: 'tool_calls', toolCalls: calls },
        });
        await publish({ type: 'step', event: 'created', step });
        await publish({ type: 'step', event: 'in_progress', step });
      } else {
        const saved = await repos.runSteps.update(step.id, {
          details: { type: 'tool_calls', toolCalls: calls },
        });
        if (!saved) throw new RunStopped('lost');
      }
      await publish({
        type: 'step-delta',
        stepId: step.id,
        toolCall: {
          type: 'function',
          index: calls.length - 1,
          id: call.id,
          name: call.name,
          arguments: call.arguments,
          output: call.output,
        },
      });
    }
    if (!step) return;
    const completed = await repos.runSteps.update(step.id, { status: 'completed' });
    if (completed) await publish({ type: 'step', event: 'completed', step: completed });
  }

  /** The text of the thread's newest user message among its last 20 ('' when none). */
  async function newestUserText(threadId: string): Promise<string> {
    const newest = await repos.messages.newest({ threadId, limit: 20 });
    const user = newest.find((message) => message.role === 'user');
    return (user?.content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
  }

  async function finishMessage(
    generation: Generation,
    searches: readonly SearchTurn[],
    pendingImages: string[],
    writtenFiles: readonly { fileId: string; path: string }[],
    incomplete: 'max_tokens' | null,
  ): Promise<void> {
    // A turn that produced nothing still answers, with an empty message, as OpenAI does.
    const open = generation.message ?? (await openMessage(generation));
    const annotated = annotate({ text: open.text, searches, files: writtenFiles });
    const text = open.text + annotated.suffix;
    if (annotated.suffix || annotated.annotations.length > 0) {
      await publish({
        type: 'message-delta',
        messageId: open.message.id,
        content: {
          type: 'text',
          index: 0,
          ...(annotated.suffix ? { value: annotated.suffix } : {}),
          annotations: annotated.annotations.map((annotation, index) => ({ index, annotation })),
        },
      });
    }
    const content: MessageContent[] = [{ type: 'text', text, annotations: annotated.annotations }];
    for (const fileId of pendingImages.splice(0)) {
      await publish({
        type: 'message-delta',
        messageId: open.message.id,
        content: { type: 'image_file', index: content.length, fileId },
      });
      content.push({ type: 'image_file', fileId });
    }
    const message = await repos.messages.update(open.message.id, {
      content,
      status: incomplete ? 'incomplete' : 'completed',
      ...(incomplete ? { incompleteReason: incomplete } : {}),
    });
    if (message) await publish({ type: 'message', event: incomplete ? 'incomplete' : 'completed', message });
    const step = await repos.runSteps.update(open.step.id, {
      status: 'completed',
      usage: generation.turnUsage,
    });
    if (step) await publish({ type: 'step', event: 'completed', step });
  }

  async function openMessage(generation: Generation): Promise<OpenMessage> {
    const message = await repos.messages.create({
      workspaceId: run.workspaceId,
      threadId: run.threadId,
      role: 'assistant',
      content: [],
      status: 'in_progress',
      assistantId: run.assistantId,
      runId: run.id,
    });
    const step = await repos.runSteps.create({
      runId: run.id,
      threadId: run.threadId,
      workspaceId: run.workspaceId,
      assistantId: run.assistantId,
      details: { type: 'message_creation', messageId: message.id },
    });
    await publish({ type: 'step', event: 'created', step });
    await publish({ type: 'step', event: 'in_progress', step });
    await publish({ type: 'message', event: 'created', message });
    await publish({ type: 'message', event: 'in_progress', message });
    // savedAt 0: its first words are saved at once, then about every second.
    const open = { message, step, text: '', savedAt: 0 };
    generation.message = open;
    return open;
  }

  /** Streams one generation into a message and/or a tool-calls step, as the events arrive. */
  async function generate(model: LanguageModel, request: GenerateRequest): Promise<Generation> {
    const generation: Generation = {
      message: undefined,
      toolStep: undefined,
      calls: [],
      finishReason: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
      turnUsage: { promptTokens: 0, completionTokens: 0 },
    };
    const rawArguments: string[] = [];
    let heldWhitespace = '';
    const closeMessage = async () => {
      const open = generation.message;
      if (!open) return;
      generation.message = undefined;
      const message = await repos.messages.update(open.message.id, {
        content: [{ type: 'text', text: open.text, annotations: [] }],
        status: 'completed',
      });
      if (message) await publish({ type: 'message', event: 'completed', message });
      const step = await repos.runSteps.update(open.step.id, { status: 'completed' });
      if (step) await publish({ type: 'step', event: 'completed', step });
    };
    const events = model.generate(request);
    try {
      for await (const event of events) {
        switch (event.type) {
          case 'text-delta': {
            if (generation.toolStep) break; // text after tool calls is noise of the tool format
            let text = heldWhitespace + event.text;
            if (!generation.message && text.trim() === '') {
              heldWhitespace = text;
              break;
            }
            heldWhitespace = '';
            const open = generation.message ?? (await openMessage(generation));
            if (open.text === '') text = text.replace(/^\s+/, '');
            open.text += text;
            if (text) {
              await publish({
                type: 'message-delta',
                messageId: open.message.id,
                content: {
                  type: 'text',
                  index: 0,
                  value: text,
                  ...(open.text === text ? { annotations: [] } : {}),
                },
              });
            }
            // What is written so far, for readers that come in the middle (a page opened meanwhile).
            if (Date.now() - open.savedAt >= PARTIAL_SAVE_INTERVAL_MS) {
              open.savedAt = Date.now();
              await repos.messages.update(open.message.id, {
                content: [{ type: 'text', text: open.text, annotations: [] }],
              });
            }
            break;
          }
          case 'tool-call-start': {
            await closeMessage();
            if (!generation.toolStep) {
              const step = await repos.runSteps.create({
                runId: run.id,
                threadId: run.threadId,
                workspaceId: run.workspaceId,
                assistantId: run.assistantId,
                details: { type: 'tool_calls', toolCalls: [] },
              });
              generation.toolStep = step;
              await publish({ type: 'step', event: 'created', step });
              await publish({ type: 'step', event: 'in_progress', step });
            }
            const index = generation.calls.length;
            const kind = builtInKind(event.name, run.tools);
            const id = event.id || newId('toolCall');
            const call: ToolCall =
              kind === 'file_search'
                ? { type: 'file_search', id, query: '', results: [], output: null }
                : kind === 'code_interpreter'
                  ? { type: 'code_interpreter', id, input: '', outputs: [], output: null }
                  : { type: 'function', id, name: event.name, arguments: '', output: null };
            generation.calls.push(call);
            rawArguments.push('');
            await publish({
              type: 'step-delta',
              stepId: generation.toolStep.id,
              toolCall:
                call.type === 'function'
                  ? { type: 'function', index, id, name: call.name, arguments: '', output: null }
                  : call.type === 'code_interpreter'
                    ? { type: 'code_interpreter', index, id, input: '', outputs: [] }
                    : { type: 'file_search', index, id },
            });
            break;
          }
          case 'tool-call-delta': {
            const index = generation.calls.length - 1;
            const call = generation.calls[index];
            if (!call || !generation.toolStep) break;
            rawArguments[index] += event.argumentsDelta;
            if (call.type === 'function' && event.argumentsDelta) {
              generation.calls[index] = { ...call, arguments: call.arguments + event.argumentsDelta };
              await publish({
                type: 'step-delta',
                stepId: generation.toolStep.id,
                toolCall: { type: 'function', index, arguments: event.argumentsDelta },
              });
            }
            break;
          }
          case 'finish':
            deps.recordUsage?.({ run, model: model.info.id, usage: event.usage });
            generation.finishReason = event.reason;
            generation.usage = {
              promptTokens: event.usage.promptTokens,
              completionTokens: event.usage.completionTokens,
            };
            generation.turnUsage = generation.usage;
            break;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    // Built-in calls: their arguments are JSON for the model, the step shows what they mean.
    for (const [index, call] of generation.calls.entries()) {
      const args = parseArguments(rawArguments[index] ?? '');
      if (call.type === 'code_interpreter') {
        const input = typeof args['code'] === 'string' ? args['code'] : (rawArguments[index] ?? '');
        generation.calls[index] = { ...call, input };
        await publish({
          type: 'step-delta',
          stepId: generation.toolStep!.id,
          toolCall: { type: 'code_interpreter', index, input },
        });
      } else if (call.type === 'file_search') {
        generation.calls[index] = {
          ...call,
          query: typeof args['query'] === 'string' ? args['query'] : (rawArguments[index] ?? ''),
        };
      }
    }
    return generation;
  }
}

interface OpenMessage {
  readonly message: Message;
  readonly step: RunStep;
  text: string;
  /** When its text was last written to its row (ms). */
  savedAt: number;
}

interface Generation {
  message: OpenMessage | undefined;
  toolStep: RunStep | undefined;
  calls: ToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage;
  turnUsage: TokenUsage;
}

/** This run's finished tool rounds (for the prompt) and its searches (for citations). */
function toolHistory(steps: readonly RunStep[]): { rounds: ToolRound[]; searches: SearchTurn[] } {
  const rounds: ToolRound[] = [];
  const searches: SearchTurn[] = [];
  for (const step of steps) {
    if (step.details.type !== 'tool_calls' || step.status !== 'completed') continue;
    const turn = rounds.length;
    rounds.push({ seq: step.seq, calls: step.details.toolCalls });
    const results = step.details.toolCalls.flatMap((call) =>
      call.type === 'file_search' ? call.results : [],
    );
    if (results.length > 0) searches.push({ turn, results });
  }
  return { rounds, searches };
}

function builtInKind(
  name: string,
  tools: readonly AssistantTool[],
): 'file_search' | 'code_interpreter' | null {
  if (name === 'file_search' && tools.some((tool) => tool.type === 'file_search')) return 'file_search';
  if (name === 'code_interpreter' && tools.some((tool) => tool.type === 'code_interpreter'))
    return 'code_interpreter';
  return null;
}

function outputDelta(call: ToolCall, index: number) {
  if (call.type === 'code_interpreter') {
    return { type: 'code_interpreter' as const, index, outputs: call.outputs };
  }
  if (call.type === 'file_search') return { type: 'file_search' as const, index };
  return { type: 'function' as const, index, output: call.output };
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function fileSearchOptions(tools: readonly AssistantTool[]): {
  maxNumResults?: number;
  scoreThreshold?: number;
} {
  const tool = tools.find((candidate) => candidate.type === 'file_search');
  if (tool?.type !== 'file_search' || !tool.fileSearch) return {};
  return {
    ...(tool.fileSearch.maxNumResults !== undefined ? { maxNumResults: tool.fileSearch.maxNumResults } : {}),
    ...(tool.fileSearch.rankingOptions
      ? { scoreThreshold: tool.fileSearch.rankingOptions.scoreThreshold }
      : {}),
  };
}

/**
 * The files and stores the built-in tools of a run may use: the assistant's, the thread's, the
 * messages'. The assistant's own live in `assistantWorkspaceId` (a GPT's, whoever runs it): when
 * that is not the run's workspace, its stores are searched there (`knowledge`) and its files,
 * which a sandbox of the run's workspace cannot read, are left out.
 */
function collectResources(
  run: Run,
  threadResources: ToolResources,
  attachments: readonly Attachment[],
  assistantWorkspaceId: string,
): {
  vectorStoreIds: string[];
  knowledge: { workspaceId: string; vectorStoreIds: string[] } | undefined;
  searchFileIds: string[];
  codeFileIds: string[];
} {
  const here = assistantWorkspaceId === run.workspaceId;
  const assistantStores = run.toolResources.fileSearch?.vectorStoreIds ?? [];
  const assistantFiles = here ? run.fileIds : [];
  const vectorStoreIds = new Set([
    ...(here ? assistantStores : []),
    ...(threadResources.fileSearch?.vectorStoreIds ?? []),
  ]);
  const codeFileIds = new Set([
    ...(here ? (run.toolResources.codeInterpreter?.fileIds ?? []) : []),
    ...(threadResources.codeInterpreter?.fileIds ?? []),
    ...assistantFiles,
    ...attachments
      .filter((attachment) => attachment.tools.includes('code_interpreter'))
      .map((attachment) => attachment.fileId),
  ]);
  const searchFileIds = new Set([
    ...assistantFiles,
    ...attachments
      .filter((attachment) => attachment.tools.includes('file_search'))
      .map((attachment) => attachment.fileId),
  ]);
  return {
    vectorStoreIds: [...vectorStoreIds],
    knowledge:
      !here && assistantStores.length > 0
        ? { workspaceId: assistantWorkspaceId, vectorStoreIds: [...assistantStores] }
        : undefined,
    searchFileIds: [...searchFileIds],
    codeFileIds: [...codeFileIds],
  };
}

function toConstraint(format: ResponseFormatOption): OutputConstraint {
  if (format === 'auto' || format === 'none' || format.type === 'text') return { type: 'none' };
  if (format.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', schema: format.jsonSchema.schema ?? { type: 'object' } };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
  };
}

function toLastError(error: unknown): LastError {
  if (error instanceof AtelierError) {
    if (error.status === 429) return { code: 'rate_limit_exceeded', message: error.message };
    if (error.status < 500) return { code: 'invalid_prompt', message: error.message };
    return { code: 'server_error', message: error.message };
  }
  return {
    code: 'server_error',
    message: 'The server had an error while processing the run. Sorry about that!',
  };
}
