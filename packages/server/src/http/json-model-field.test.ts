import { describe, expect, it } from 'vitest';
import { findModelField, withModel } from './json-model-field.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('findModelField', () => {
  it('finds the top-level model wherever it is, not a nested one', () => {
    const body =
      '{"messages":[{"role":"user","content":"{\\"model\\":\\"x\\"}","model":"nested"}],"model":"lab/m","n":1}';
    const field = findModelField(bytes(body));
    expect(field).toMatchObject({ kind: 'string', value: 'lab/m' });
    if (field?.kind !== 'string') return;
    expect(body.slice(field.start, field.end)).toBe('"lab/m"');
  });

  it('reads escaped and non-ASCII names and keys as JSON parsers do', () => {
    expect(findModelField(bytes('{"mod\\u0065l": "a\\"b"}'))).toMatchObject({ kind: 'string', value: 'a"b' });
    const unicode = bytes('{ "prompt": "日本語 \\\\", "model" : "modèle-日本" }');
    expect(findModelField(unicode)).toMatchObject({ kind: 'string', value: 'modèle-日本' });
  });

  it('says "other" for a model that is not a string, or given twice', () => {
    expect(findModelField(bytes('{"model": 5}'))).toEqual({ kind: 'other' });
    expect(findModelField(bytes('{"model": null, "x": []}'))).toEqual({ kind: 'other' });
    expect(findModelField(bytes('{"model": "a", "model": "b"}'))).toEqual({ kind: 'other' });
  });

  it('gives up on anything but one well-formed object, leaving it to the full parser', () => {
    for (const text of [
      '',
      '[]',
      'null',
      '"model"',
      '{"model": "a"',
      '{"model": "a"} x',
      '{"model" "a"}',
      '{"a": [1, 2}',
    ]) {
      expect(findModelField(bytes(text)), text).toBeUndefined();
    }
    expect(findModelField(bytes('{}'))).toBeUndefined();
    expect(findModelField(bytes(' {"messages": []} \n'))).toBeUndefined();
  });

  it('agrees with JSON.parse on generated bodies', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const value = {
        ...(seed % 3 === 0 ? { stream: true } : {}),
        messages: [{ role: 'user', content: `say "${'\\'.repeat(seed % 4)}" ${seed} {[` }],
        model: `m-${seed}`,
        tools:
          seed % 2 ? [{ type: 'function', function: { name: 'f', parameters: { model: 'no' } } }] : undefined,
      };
      const text = JSON.stringify(value, null, seed % 5 === 0 ? 2 : undefined);
      expect(findModelField(bytes(text))).toMatchObject({ kind: 'string', value: JSON.parse(text).model });
    }
  });
});

describe('withModel', () => {
  it('swaps only the name, leaving every other byte as it was', () => {
    const text = '{ "model" : "lab/m",\n  "messages": [{"role":"user","content":"hi"}], "x": 1.50 }';
    const field = findModelField(bytes(text));
    if (field?.kind !== 'string') throw new Error('not found');
    const out = withModel(bytes(text), field, 'm "2"').toString('utf8');
    expect(out).toBe('{ "model" : "m \\"2\\"",\n  "messages": [{"role":"user","content":"hi"}], "x": 1.50 }');
    const same = bytes('{"model":"m"}');
    const unchanged = findModelField(same);
    if (unchanged?.kind !== 'string') throw new Error('not found');
    expect(withModel(same, unchanged, 'm')).toBe(same);
  });
});
