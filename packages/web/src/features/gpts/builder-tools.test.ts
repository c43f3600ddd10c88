import { describe, expect, it } from 'vitest';
import {
  type BuilderDraft,
  builderInstructions,
  changesFromCall,
  cleanText,
  updateGptTool,
} from './builder-tools';

const EMPTY: BuilderDraft = {
  name: '',
  description: '',
  instructions: '',
  conversation_starters: [],
  capabilities: { browsing: false, image_generation: false, code_interpreter: false },
};

const call = (value: unknown) => JSON.stringify(value);

describe('the builder’s update_gpt call', () => {
  it('becomes the changes to save, with what changed', () => {
    const outcome = changesFromCall(
      call({
        name: '  Tide Tutor ',
        description: 'Explains tides\nto children.',
        instructions: 'You explain tides.\n\nUse simple words.',
        conversation_starters: [
          'Why are there two tides a day?',
          '  ',
          'Why are there two tides a day?',
          'What is a neap tide?',
        ],
        capabilities: { browsing: true, code_interpreter: false },
        avatar: { symbol: '🌊', color: 'sky' },
      }),
      EMPTY,
      { imageGeneration: false },
    );
    expect(outcome.error).toBeNull();
    expect(outcome.changes).toEqual({
      name: 'Tide Tutor',
      description: 'Explains tides to children.',
      instructions: 'You explain tides.\n\nUse simple words.',
      conversation_starters: ['Why are there two tides a day?', 'What is a neap tide?'],
      capabilities: { browsing: true },
    });
    expect(outcome.avatar).toEqual({ symbol: '🌊', color: 'sky' });
    expect(outcome.changed).toEqual([
      'name',
      'description',
      'instructions',
      'conversation_starters',
      'capabilities',
      'avatar',
    ]);
  });

  it('leaves out what did not change, what is null and what is empty', () => {
    const current: BuilderDraft = {
      ...EMPTY,
      name: 'Tide Tutor',
      instructions: 'Be kind.',
      conversation_starters: ['Hi'],
    };
    const outcome = changesFromCall(
      call({
        name: 'Tide Tutor',
        description: '   ',
        instructions: null,
        conversation_starters: ['Hi'],
        capabilities: null,
        avatar: null,
      }),
      current,
      { imageGeneration: false },
    );
    expect(outcome).toEqual({ changes: {}, avatar: null, changed: [], error: null });
  });

  it('turns image generation on only when the server has an image model', () => {
    const asked = call({ name: 'Painter', description: '', capabilities: { image_generation: true } });
    expect(changesFromCall(asked, EMPTY, { imageGeneration: false }).changes).toEqual({ name: 'Painter' });
    expect(changesFromCall(asked, EMPTY, { imageGeneration: true }).changes).toEqual({
      name: 'Painter',
      capabilities: { image_generation: true },
    });
    // Off is always allowed.
    const on = { ...EMPTY, name: 'Painter', capabilities: { ...EMPTY.capabilities, image_generation: true } };
    expect(
      changesFromCall(call({ name: 'Painter', capabilities: { image_generation: false } }), on, {
        imageGeneration: false,
      }).changes,
    ).toEqual({ capabilities: { image_generation: false } });
  });

  it('draws the same avatar once', () => {
    const asked = call({ name: 'X y z', avatar: { symbol: 'TT', color: 'teal' } });
    expect(
      changesFromCall(asked, EMPTY, { imageGeneration: false, avatar: { symbol: 'TT', color: 'teal' } })
        .avatar,
    ).toBeNull();
    expect(
      changesFromCall(call({ avatar: { symbol: 'T', color: 'purple' } }), EMPTY, { imageGeneration: false })
        .avatar,
    ).toBeNull();
  });

  it('reports arguments that are not a JSON object', () => {
    expect(changesFromCall('{"name": "Ti', EMPTY, { imageGeneration: false }).error).toMatch(
      /not valid JSON/,
    );
    expect(changesFromCall('[1]', EMPTY, { imageGeneration: false }).error).toMatch(/object/);
  });

  it('keeps text within the server’s limits without splitting a character', () => {
    expect(cleanText(`${'a'.repeat(127)}🌊`, 128, { multiline: false })).toBe('a'.repeat(127));
    expect(cleanText('a\u0000b\u0007c\nd', 10, { multiline: true })).toBe('abc\nd');
    expect(cleanText(42, 10, { multiline: false })).toBe('');
  });

  it('offers image generation to the model only with an image model, and tells it the draft', () => {
    const capabilities = (imageGeneration: boolean) =>
      (
        updateGptTool({ imageGeneration }).function.parameters['properties'] as Record<
          string,
          { properties: object }
        >
      )['capabilities']?.properties;
    expect(Object.keys(capabilities(false) ?? {})).toEqual(['browsing', 'code_interpreter']);
    expect(Object.keys(capabilities(true) ?? {})).toEqual([
      'browsing',
      'image_generation',
      'code_interpreter',
    ]);
    const instructions = builderInstructions({ ...EMPTY, name: 'Tide Tutor' }, { imageGeneration: false });
    expect(instructions).toContain('"name":"Tide Tutor"');
    expect(instructions).not.toContain('image_generation');
  });
});
