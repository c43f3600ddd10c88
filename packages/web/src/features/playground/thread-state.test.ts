import { describe, expect, it } from 'vitest';
import type { Message, Run, RunStep } from './playground-types';
import { activeRun, applyEvent, EMPTY_THREAD, type ThreadState, timeline } from './thread-state';

const run = (id: string, status: Run['status'], createdAt = 100): Run => ({
  id,
  object: 'thread.run',
  created_at: createdAt,
  thread_id: 'thread_1',
  assistant_id: 'asst_1',
  status,
  required_action: null,
  last_error: null,
  incomplete_details: null,
  model: 'atelier-tiny',
  usage: null,
  tool_choice: 'auto',
  tools: [],
  expires_at: null,
  started_at: null,
  cancelled_at: null,
  failed_at: null,
  completed_at: null,
  instructions: '',
  metadata: {},
  temperature: null,
  top_p: null,
  max_prompt_tokens: null,
  max_completion_tokens: null,
  truncation_strategy: { type: 'auto', last_messages: null },
  response_format: 'auto',
  parallel_tool_calls: true,
});

const message = (
  id: string,
  role: Message['role'],
  text: string,
  runId: string | null,
  createdAt = 100,
): Message => ({
  id,
  object: 'thread.message',
  created_at: createdAt,
  thread_id: 'thread_1',
  status: 'completed',
  role,
  content: text ? [{ type: 'text', text: { value: text, annotations: [] } }] : [],
  assistant_id: runId ? 'asst_1' : null,
  run_id: runId,
  attachments: [],
  incomplete_details: null,
  completed_at: null,
  incomplete_at: null,
  metadata: {},
});

const toolStep = (id: string, runId: string): RunStep => ({
  id,
  object: 'thread.run.step',
  created_at: 100,
  run_id: runId,
  type: 'tool_calls',
  status: 'in_progress',
  step_details: { type: 'tool_calls', tool_calls: [] },
  last_error: null,
  usage: null,
  assistant_id: 'asst_1',
  thread_id: 'thread_1',
  expired_at: null,
  cancelled_at: null,
  failed_at: null,
  completed_at: null,
  metadata: {},
});

const apply = (state: ThreadState, ...events: Array<[string, unknown]>) =>
  events.reduce((current, [event, data]) => applyEvent(current, { event, data }), state);

describe('the thread state fed by run events', () => {
  it('assembles streamed function arguments and code interpreter input, outputs placed by index', () => {
    const state = apply(
      EMPTY_THREAD,
      ['thread.run.created', run('run_1', 'queued')],
      ['thread.run.in_progress', run('run_1', 'in_progress')],
      ['thread.run.step.created', toolStep('step_1', 'run_1')],
      [
        'thread.run.step.delta',
        {
          id: 'step_1',
          object: 'thread.run.step.delta',
          delta: {
            step_details: {
              type: 'tool_calls',
              tool_calls: [
                {
                  index: 0,
                  id: 'call_a',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"loc' },
                },
              ],
            },
          },
        },
      ],
      [
        'thread.run.step.delta',
        {
          id: 'step_1',
          object: 'thread.run.step.delta',
          delta: {
            step_details: {
              type: 'tool_calls',
              tool_calls: [
                { index: 0, type: 'function', function: { arguments: 'ation":"Seoul"}' } },
                { index: 1, id: 'call_b', type: 'code_interpreter', code_interpreter: { input: 'print(' } },
              ],
            },
          },
        },
      ],
      [
        'thread.run.step.delta',
        {
          id: 'step_1',
          object: 'thread.run.step.delta',
          delta: {
            step_details: {
              type: 'tool_calls',
              tool_calls: [
                {
                  index: 1,
                  type: 'code_interpreter',
                  code_interpreter: {
                    input: '1)',
                    outputs: [
                      { index: 0, type: 'logs', logs: '1\n' },
                      { index: 1, type: 'image', image: { file_id: 'file-png' } },
                    ],
                  },
                },
              ],
            },
          },
        },
      ],
    );
    const step = state.runs[0]?.steps[0];
    expect(step?.step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [
        {
          id: 'call_a',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Seoul"}', output: null },
        },
        {
          id: 'call_b',
          type: 'code_interpreter',
          code_interpreter: {
            input: 'print(1)',
            outputs: [
              { type: 'logs', logs: '1\n' },
              { type: 'image', image: { file_id: 'file-png' } },
            ],
          },
        },
      ],
    });
    expect(activeRun(state)?.run.id).toBe('run_1');
    // The completed step, as the server sends it, replaces what was assembled.
    const done = apply(
      state,
      ['thread.run.step.completed', { ...step, status: 'completed' }],
      ['thread.run.completed', run('run_1', 'completed')],
    );
    expect(done.runs[0]?.steps[0]?.status).toBe('completed');
    expect(activeRun(done)).toBeNull();
  });

  it('appends message text deltas and places annotations', () => {
    const state = apply(
      { messages: [message('msg_u', 'user', 'Hi', null)], runs: [] },
      ['thread.run.created', run('run_1', 'in_progress')],
      ['thread.message.created', { ...message('msg_a', 'assistant', '', 'run_1'), status: 'in_progress' }],
      [
        'thread.message.delta',
        {
          id: 'msg_a',
          object: 'thread.message.delta',
          delta: { content: [{ index: 0, type: 'text', text: { value: 'Hel' } }] },
        },
      ],
      [
        'thread.message.delta',
        {
          id: 'msg_a',
          object: 'thread.message.delta',
          delta: {
            content: [
              {
                index: 0,
                type: 'text',
                text: {
                  value: 'lo【0†a.md】',
                  annotations: [
                    {
                      index: 0,
                      type: 'file_citation',
                      text: '【0†a.md】',
                      start_index: 5,
                      end_index: 13,
                      file_citation: { file_id: 'file-a' },
                    },
                  ],
                },
              },
            ],
          },
        },
      ],
    );
    const answer = state.messages[1];
    expect(answer?.content[0]).toEqual({
      type: 'text',
      text: {
        value: 'Hello【0†a.md】',
        annotations: [
          {
            type: 'file_citation',
            text: '【0†a.md】',
            start_index: 5,
            end_index: 13,
            file_citation: { file_id: 'file-a' },
          },
        ],
      },
    });
  });
});

describe('timeline', () => {
  it('puts each run where its answer is, and a run that wrote nothing by its time', () => {
    const state: ThreadState = {
      messages: [
        message('msg_1', 'user', 'first', null, 100),
        message('msg_2', 'assistant', 'answer', 'run_1', 101),
        message('msg_3', 'user', 'second', null, 105),
        message('msg_4', 'user', 'third', null, 110),
      ],
      runs: [
        { run: run('run_1', 'completed', 100), steps: [] },
        // Created in the same second as "second": it answers it, so it comes after it.
        { run: run('run_2', 'failed', 105), steps: [] },
        { run: run('run_3', 'requires_action', 111), steps: [] },
      ],
    };
    expect(
      timeline(state).map((item) =>
        item.kind === 'message'
          ? item.message.id
          : `${item.view.run.id}[${item.messages.map((m) => m.id).join()}]`,
      ),
    ).toEqual(['msg_1', 'run_1[msg_2]', 'msg_3', 'run_2[]', 'msg_4', 'run_3[]']);
  });
});
