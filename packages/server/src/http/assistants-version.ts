// Which Assistants API generation a request speaks: the `OpenAI-Beta` header's `assistants=v1`
// or `assistants=v2` (openai-node ≤4.36 sends v1, later versions v2); no header means v2.
import type { FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors.js';

export type AssistantsVersion = 'v1' | 'v2';

export function assistantsVersion(request: FastifyRequest): AssistantsVersion {
  const header = request.headers['openai-beta'];
  const values = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((value) => value.trim());
  const assistants = values.find((value) => value.toLowerCase().startsWith('assistants='));
  if (assistants === undefined) return 'v2';
  const version = assistants.slice('assistants='.length).toLowerCase();
  if (version === 'v1' || version === 'v2') return version;
  throw new InvalidRequestError(
    `Invalid 'OpenAI-Beta' header value '${assistants}'. Please try again by setting the header 'OpenAI-Beta: assistants=v2' (or 'assistants=v1').`,
    { code: 'invalid_beta' },
  );
}

/** v1-only endpoints (assistant files, message files) refuse v2 requests, as OpenAI did. */
export function requireV1(request: FastifyRequest, what: string): void {
  if (assistantsVersion(request) !== 'v1') {
    throw new InvalidRequestError(
      `${what} exist only in the v1 Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v1', or use tool_resources and attachments in v2.`,
      { code: 'invalid_beta' },
    );
  }
}

/** v2-only endpoints (deleting a message) refuse v1 requests. */
export function requireV2(request: FastifyRequest, what: string): void {
  if (assistantsVersion(request) !== 'v2') {
    throw new InvalidRequestError(
      `${what} is only available in the v2 Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.`,
      { code: 'invalid_beta' },
    );
  }
}
