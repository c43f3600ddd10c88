// What a JSON Schema validator (ajv, draft 2020-12 with formats) finds wrong with a value: tests of
// constrained decoding check every output with it.
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its plugin is `module.exports.default`.
ajvFormats.default(ajv);

export type Schema = Record<string, unknown>;

/** The validator's complaints about `value` (`/path message`); none when it satisfies `schema`. */
export function schemaProblems(schema: Schema, value: unknown): string[] {
  const validate = ajv.compile(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
}
