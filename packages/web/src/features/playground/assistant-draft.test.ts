import { describe, expect, it } from 'vitest';
import { draftFromAssistant, draftToParams, newDraft, toolChoiceOptions } from './assistant-draft';
import type { Assistant } from './playground-types';

const stored: Assistant = {
  id: 'asst_1',
  object: 'assistant',
  created_at: 1,
  name: 'Weather',
  description: null,
  model: 'atelier-tiny',
  instructions: 'Be brief.',
  tools: [
    { type: 'code_interpreter' },
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
  ],
  tool_resources: { code_interpreter: { file_ids: ['file-a'] } },
  metadata: {},
  temperature: 0.5,
  top_p: null,
  response_format: { type: 'json_object' },
};

describe('assistant drafts', () => {
  it('turn a stored assistant into the same parameters it was made with', () => {
    const params = draftToParams(draftFromAssistant(stored));
    expect(params).toEqual({
      ok: true,
      value: {
        model: 'atelier-tiny',
        name: 'Weather',
        description: null,
        instructions: 'Be brief.',
        tools: stored.tools,
        tool_resources: {
          code_interpreter: { file_ids: ['file-a'] },
          file_search: { vector_store_ids: [] },
        },
        temperature: 0.5,
        top_p: 1,
        response_format: { type: 'json_object' },
      },
    });
  });

  it('send a json_schema response format only when its schema is valid', () => {
    const draft = { ...newDraft('atelier-tiny'), responseFormat: 'json_schema' as const };
    const params = draftToParams(draft);
    expect(params.ok && params.value.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'answer' },
    });
    expect(draftToParams({ ...draft, responseSchema: '{"name":' }).ok).toBe(false);
  });

  it('offer tool_choice values for the tools the assistant has', () => {
    expect(toolChoiceOptions([]).map((option) => option.value)).toEqual(['auto', 'none']);
    expect(toolChoiceOptions(stored.tools)).toEqual([
      { value: 'auto', choice: 'auto' },
      { value: 'none', choice: 'none' },
      { value: 'required', choice: 'required' },
      { value: 'code_interpreter', choice: { type: 'code_interpreter' } },
      { value: 'function:get_weather', choice: { type: 'function', function: { name: 'get_weather' } } },
    ]);
  });
});
