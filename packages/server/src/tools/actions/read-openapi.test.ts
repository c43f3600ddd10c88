import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ActionDocumentError } from './action-errors.js';
import { parseDocumentText } from './parse-document.js';
import { readOpenApi } from './read-openapi.js';

const fixture = (name: string) => readFileSync(new URL(`./test-support/${name}`, import.meta.url), 'utf8');
const read = (text: string, sourceUrl?: string) => readOpenApi(parseDocumentText(text), { sourceUrl });

function documentError(run: () => unknown): ActionDocumentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ActionDocumentError);
    return error as ActionDocumentError;
  }
  throw new Error('expected an ActionDocumentError');
}

const minimal = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    openapi: '3.1.0',
    info: { title: 'T', version: '1' },
    servers: [{ url: 'https://api.example.com' }],
    paths: { '/ping': { get: { operationId: 'ping' } } },
    ...extra,
  });

describe('OpenAPI 3.0: a weather API in YAML', () => {
  const spec = read(fixture('weather-openapi-3.0.yaml'));

  it('reads the API, its one domain and the first server with its variables filled in', () => {
    expect(spec).toMatchObject({
      openapiVersion: '3.0.3',
      title: 'Weather API',
      description: 'Current conditions, forecasts and alerts for cities worldwide.',
      version: '1.4.0',
      domain: 'api.weather.example.com',
      serverUrl: 'https://api.weather.example.com/v1',
    });
    expect(spec.operations.map((operation) => [operation.name, operation.method, operation.path])).toEqual([
      ['getCurrentWeather', 'get', '/current/{city}'],
      ['getForecast', 'get', '/forecast/{city}'],
      ['get_alerts', 'get', '/alerts'],
      ['submitStationReport', 'post', '/stations/{stationId}/reports'],
    ]);
    expect(spec.warnings).toEqual([
      'PUT /radar/upload: request bodies of type image/png are not supported (only JSON and form data); the operation is left out.',
    ]);
  });

  it('turns each operation into a function tool with resolved $refs', () => {
    const [current, forecast, alerts, report] = spec.operations;
    expect(current!.tool).toEqual({
      name: 'getCurrentWeather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name, e.g. "Lisbon" or "São Paulo".' },
          units: { type: 'string', enum: ['metric', 'imperial'], default: 'metric' },
        },
        required: ['city'],
      },
    });
    // Path-level parameters apply; Accept (a header OpenAPI ignores) is left out.
    expect(forecast!.tool).toEqual({
      name: 'getForecast',
      description: 'Daily forecast\n\nUp to 14 days ahead, one entry per day.',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name, e.g. "Lisbon" or "São Paulo".' },
          days: { type: 'integer', minimum: 1, maximum: 14, default: 3 },
          units: { type: 'string', enum: ['metric', 'imperial'], default: 'metric' },
          'X-Request-Id': { type: 'string', description: 'Echoed back, for tracing.' },
        },
        required: ['city'],
      },
    });
    expect(forecast!.parameters.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual([
      'path:city',
      'query:days',
      'query:units',
      'header:X-Request-Id',
    ]);
    expect(alerts!.parameters[0]).toMatchObject({ name: 'regions', style: 'form', explode: false });
    // The JSON body's properties join the path parameter; nullable becomes a type union, the
    // read-only id (set by the server) is not the model's to send, examples stay.
    expect(report!.tool.parameters).toEqual({
      type: 'object',
      properties: {
        stationId: { type: 'string' },
        temperature: { type: 'number', description: "Degrees in the station's units." },
        humidity: { type: ['number', 'null'], minimum: 0, maximum: 100 },
        observedAt: { type: 'string', format: 'date-time', examples: ['2024-05-01T12:00:00Z'] },
        location: {
          type: 'object',
          required: ['lat', 'lon'],
          properties: { lat: { type: 'number' }, lon: { type: 'number' } },
        },
      },
      required: ['stationId', 'temperature', 'observedAt'],
    });
    expect(report!.requestBody).toMatchObject({
      contentType: 'application/json',
      required: true,
      argument: null,
    });
  });

  it('marks consequential operations: the flag where given, else every method but GET', () => {
    expect(
      spec.operations.map((operation) => [
        operation.name,
        operation.consequential,
        operation.consequentialFlag,
      ]),
    ).toEqual([
      ['getCurrentWeather', false, null],
      ['getForecast', false, null],
      ['get_alerts', false, null],
      ['submitStationReport', false, false],
    ]);
  });
});

describe('OpenAPI 3.1: a todo API in YAML', () => {
  const spec = read(fixture('todo-openapi-3.1.yaml'));
  const operation = (name: string) => spec.operations.find((candidate) => candidate.name === name)!;

  it('lists every operation, naming the one without an operationId after its method and path', () => {
    expect(spec.operations.map((candidate) => [candidate.name, candidate.consequential])).toEqual([
      ['listTasks', false],
      ['createTask', true],
      ['getTask', false],
      ['updateTask', true],
      ['deleteTask', true],
      ['get_tasks_taskId_comments', false],
    ]);
    expect(operation('deleteTask').consequentialFlag).toBe(true);
    expect(spec.domain).toBe('todo.example.com');
    expect(spec.warnings).toEqual([]);
  });

  it('keeps 3.1 schemas, refines a $ref by its siblings and cuts recursion where it repeats', () => {
    expect(operation('createTask').tool).toEqual({
      name: 'createTask',
      description: 'Create a task',
      parameters: {
        type: 'object',
        properties: {
          title: { type: 'string', minLength: 1 },
          notes: { type: ['string', 'null'] },
          priority: { type: 'integer', enum: [1, 2, 3], description: 'How urgent it is.' },
          subtasks: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                title: { type: 'string' },
                kind: { const: 'task' },
                subtasks: {
                  type: 'array',
                  items: { description: '(recursive: the same structure as Task)' },
                },
              },
            },
          },
        },
        required: ['title'],
      },
    });
    expect(operation('createTask').requestBody?.contentType).toBe('application/json');
  });

  it('reads query styles and cookie parameters', () => {
    const list = operation('listTasks');
    expect(
      list.parameters.map((parameter) => [parameter.name, parameter.in, parameter.style, parameter.explode]),
    ).toEqual([
      ['status', 'query', 'form', true],
      ['tag', 'query', 'form', true],
      ['filter', 'query', 'deepObject', false],
      ['session', 'cookie', 'form', true],
    ]);
    expect(operation('updateTask').tool.parameters).toEqual({
      type: 'object',
      properties: { taskId: { type: 'string' }, title: { type: 'string' }, done: { type: 'boolean' } },
      required: ['taskId'],
    });
  });
});

describe('documents that cannot become an action', () => {
  it.each([
    [
      'no servers',
      minimal({ servers: undefined }),
      'missing_servers',
      /no servers: add one, e\.g\. `servers: \[\{ url: "https:\/\/api\.example\.com" \}\]`/,
    ],
    [
      'Swagger 2.0',
      JSON.stringify({ swagger: '2.0', info: { title: 'T' }, paths: {} }),
      'unsupported_openapi_version',
      /Swagger 2\.0 documents are not supported/,
    ],
    [
      'OpenAPI 4',
      minimal({ openapi: '4.0.0' }),
      'unsupported_openapi_version',
      /OpenAPI version "4\.0\.0" is not supported: actions read OpenAPI 3\.0 and 3\.1/,
    ],
    [
      'no openapi field',
      JSON.stringify({ info: { title: 'T' } }),
      'unsupported_openapi_version',
      /no "openapi" field/,
    ],
    [
      'a $ref to nothing',
      minimal({ paths: { '/x': { get: { parameters: [{ $ref: '#/components/parameters/Missing' }] } } } }),
      'invalid_ref',
      /The \$ref "#\/components\/parameters\/Missing" at GET \/x parameters\[0\] points to nothing in this document/,
    ],
    [
      'an external $ref',
      minimal({ paths: { '/x': { get: { parameters: [{ $ref: 'common.yaml#/Id' }] } } } }),
      'invalid_ref',
      /points outside this document/,
    ],
    [
      'a $ref that refers to itself',
      minimal({
        paths: { '/x': { get: { parameters: [{ $ref: '#/components/parameters/A' }] } } },
        components: {
          parameters: { A: { $ref: '#/components/parameters/B' }, B: { $ref: '#/components/parameters/A' } },
        },
      }),
      'invalid_ref',
      /is circular/,
    ],
    [
      'duplicate operation ids',
      minimal({ paths: { '/a': { get: { operationId: 'same' } }, '/b': { post: { operationId: 'same' } } } }),
      'duplicate_operation_id',
      /The operationId "same" is used twice \(GET \/a and POST \/b\); operation ids must be unique/,
    ],
    [
      'operations on two domains',
      minimal({ paths: { '/a': { get: { servers: [{ url: 'https://other.example.net' }] } } } }),
      'multiple_domains',
      /GET \/a calls other\.example\.net and the document's server is api\.example\.com/,
    ],
    ['no paths', minimal({ paths: {} }), 'no_operations', /no paths/],
    [
      'a relative server URL pasted as text',
      minimal({ servers: [{ url: '/api' }] }),
      'missing_servers',
      /relative/,
    ],
    ['invalid YAML', 'openapi: 3.1.0\ninfo: [unclosed', 'invalid_document_syntax', /not valid YAML or JSON/],
    ['invalid JSON', '{"openapi": "3.1.0",', 'invalid_document_syntax', /not valid JSON/],
  ])('%s', (_what, text, code, message) => {
    const error = documentError(() => read(text));
    expect(error.code).toBe(code);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('stops $refs that expand into an enormous schema', () => {
    // Each level refers to the next ten times: 10^6 nodes if expanded blindly.
    const schemas: Record<string, unknown> = { L6: { type: 'string' } };
    for (let level = 5; level >= 0; level--) {
      schemas[`L${level}`] = {
        type: 'object',
        properties: Object.fromEntries(
          Array.from({ length: 10 }, (_, index) => [
            `p${index}`,
            { $ref: `#/components/schemas/L${level + 1}` },
          ]),
        ),
      };
    }
    const text = minimal({
      paths: {
        '/x': {
          post: {
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/L0' } } } },
          },
        },
      },
      components: { schemas },
    });
    expect(documentError(() => read(text)).code).toBe('schema_too_large');
  });
});

describe('tool names and servers', () => {
  it('makes names valid and unique, at most 64 characters', () => {
    const long = `fetch${'VeryLongOperationName'.repeat(5)}`;
    const spec = read(
      minimal({
        paths: {
          '/a': { get: { operationId: 'weather.get current' } },
          '/b': { get: { operationId: long } },
          '/c': { get: { operationId: 'weather get current' } },
        },
      }),
    );
    const names = spec.operations.map((operation) => operation.name);
    expect(names[0]).toBe('weather_get_current');
    expect(names[1]).toHaveLength(64);
    expect(names[1]!.startsWith('fetchVeryLongOperationName')).toBe(true);
    expect(names[2]).toBe('weather_get_current_2');
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it('resolves a relative server URL against the URL the document came from', () => {
    const spec = read(
      minimal({ servers: [{ url: '/api/v2/' }] }),
      'https://docs.example.org/specs/openapi.json',
    );
    expect(spec.serverUrl).toBe('https://docs.example.org/api/v2');
    expect(spec.domain).toBe('docs.example.org');
  });
});
