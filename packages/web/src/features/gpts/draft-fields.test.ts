import { describe, expect, it } from 'vitest';
import { changesFor, EMPTY_DRAFT, startersToSave } from './draft-fields';

describe('what an autosave sends', () => {
  it('sends only the fields that changed, starters as typed minus the empty rows', () => {
    const fields = {
      ...EMPTY_DRAFT,
      name: 'Tide Tutor',
      instructions: 'Be kind.',
      conversation_starters: ['  Why two tides? ', '', '   '],
    };
    expect(changesFor(fields, ['name', 'conversation_starters'])).toEqual({
      name: 'Tide Tutor',
      conversation_starters: ['Why two tides?'],
    });
  });

  it('never sends a model before one is chosen, and sends a removed avatar as null', () => {
    expect(changesFor(EMPTY_DRAFT, ['model', 'avatar_file_id'])).toEqual({ avatar_file_id: null });
    expect(changesFor({ ...EMPTY_DRAFT, model: 'atelier-tiny' }, ['model'])).toEqual({
      model: 'atelier-tiny',
    });
  });

  it('keeps at most ten starters', () => {
    expect(startersToSave(Array.from({ length: 12 }, (_, index) => `Starter ${index}`))).toHaveLength(10);
  });
});
