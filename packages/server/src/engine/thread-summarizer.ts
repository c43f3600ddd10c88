// Summarizes the oldest part of a long thread with the run's own model, folding new messages into
// the summary so far. Used when a thread no longer fits the context window (truncation `auto`).

import { defaultSampling } from '../inference/sampling.js';
import type { ChatMessage, LanguageModel, Usage } from '../inference/spec.js';

export interface SummaryRequest {
  readonly model: LanguageModel;
  /** The summary of everything before `transcript`, if there is one. */
  readonly previous: string | null;
  /** The messages to fold in, rendered as `Role: text` lines. */
  readonly transcript: string;
  readonly maxTokens: number;
  readonly signal?: AbortSignal;
}

export interface SummaryResult {
  readonly text: string;
  readonly usage: Usage;
}

export type Summarizer = (request: SummaryRequest) => Promise<SummaryResult>;

export const SUMMARY_INSTRUCTIONS =
  'You keep a running summary of a long conversation whose oldest messages no longer fit. ' +
  'Update the summary with the new messages: keep names, facts, numbers, decisions, requests and open questions; ' +
  'drop small talk. Answer with the updated summary only, in a few short paragraphs.';

/** Tokens the summarization prompt adds around the previous summary and the transcript. */
export const SUMMARY_PROMPT_OVERHEAD_TOKENS = 96;

export const summarizeWithModel: Summarizer = async ({ model, previous, transcript, maxTokens, signal }) => {
  const messages: ChatMessage[] = [
    { role: 'system', content: SUMMARY_INSTRUCTIONS },
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: `${previous ? `Summary so far:\n${previous}\n\n` : ''}New messages:\n${transcript}`,
        },
      ],
    },
  ];
  let text = '';
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for await (const event of model.generate({
    input: { type: 'chat', messages, tools: [], toolMode: { type: 'none' }, parallelToolCalls: false },
    sampling: defaultSampling({
      maxTokens,
      temperature: 0.3,
    }),
    constraint: { type: 'none' },
    ...(signal ? { signal } : {}),
  })) {
    if (event.type === 'text-delta') text += event.text;
    if (event.type === 'finish') usage = event.usage;
  }
  return { text: text.trim(), usage };
};
