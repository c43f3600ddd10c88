import { describe, expect, it } from 'vitest';
import { checkFunctionDefinition, checkResponseSchema, EXAMPLE_FUNCTION } from './function-definition';

const problemOf = (text: string, takenNames: readonly string[] = []) => {
  const checked = checkFunctionDefinition(text, { takenNames });
  return checked.ok ? null : checked.problem;
};

describe('checkFunctionDefinition', () => {
  it('accepts the example and returns it as typed', () => {
    const checked = checkFunctionDefinition(JSON.stringify(EXAMPLE_FUNCTION));
    expect(checked).toEqual({ ok: true, value: EXAMPLE_FUNCTION });
    expect(checkFunctionDefinition('{"name":"ping"}')).toEqual({ ok: true, value: { name: 'ping' } });
  });

  it('says what is wrong, with the values the message needs', () => {
    expect(problemOf('')?.key).toBe('json.empty');
    expect(problemOf('{"name": "x",}')?.key).toBe('json.invalid');
    expect(problemOf('["get_weather"]')?.key).toBe('function.notObject');
    expect(problemOf('{"name":"has space"}')?.key).toBe('function.badName');
    expect(problemOf('{"name":"a","parameters":{},"extra":1}')).toEqual({
      key: 'function.unknownField',
      params: { field: 'extra' },
    });
    expect(problemOf('{"name":"lookup"}', ['lookup'])).toEqual({
      key: 'function.duplicate',
      params: { name: 'lookup' },
    });
    expect(problemOf('{"name":"a","parameters":{"type":"array"}}')?.key).toBe('schema.rootType');
    expect(
      problemOf('{"name":"a","parameters":{"type":"object","properties":{"n":{"type":"int"}}}}'),
    ).toEqual({
      key: 'schema.badType',
      params: { path: 'parameters.properties.n', type: 'int' },
    });
    expect(
      problemOf(
        '{"name":"a","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["town"]}}',
      ),
    ).toEqual({ key: 'schema.requiredUnknown', params: { path: 'parameters', name: 'town' } });
    expect(problemOf('{"name":"a","strict":"yes"}')?.key).toBe('function.badStrict');
  });

  it('checks a json_schema response format the same way', () => {
    expect(checkResponseSchema('{"name":"answer","schema":{"type":"object"},"strict":true}').ok).toBe(true);
    const bad = checkResponseSchema('{"schema":{"type":"object"}}');
    expect(bad.ok ? null : bad.problem.key).toBe('function.badName');
  });
});
