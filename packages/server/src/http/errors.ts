// The one place where any error becomes the OpenAI envelope {"error":{message,type,param,code}}.
import type { ErrorResponse } from '@atelier/protocol';
import { ZodError } from 'zod';
import { AtelierError } from '../errors.js';

export interface MappedError {
  readonly status: number;
  readonly body: ErrorResponse;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is ours (a bug or an outage), worth logging with its stack. */
  readonly internal: boolean;
}

export function toErrorResponse(error: unknown): MappedError {
  if (error instanceof AtelierError) {
    return {
      status: error.status,
      body: { error: { message: error.message, type: error.type, param: error.param, code: error.code } },
      headers: error.headers,
      internal: error.status >= 500,
    };
  }
  if (error instanceof ZodError) return fromZod(error);
  const fastify = error as { code?: string; statusCode?: number; message?: string };
  if (typeof fastify.code === 'string' && fastify.code.startsWith('FST_')) {
    const status = fastify.statusCode ?? 400;
    const message =
      fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'The request body is too large.'
        : fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `Unsupported Content-Type: send the body as application/json.`
          : fastify.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'The request body is empty: send a JSON object.'
            : (fastify.message ?? 'Invalid request.');
    return envelope(status, message, status === 413 ? 'request_too_large' : null);
  }
  if (error instanceof SyntaxError || fastify.statusCode === 400) {
    return envelope(
      400,
      `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) ${(error as Error).message}`,
      null,
    );
  }
  return {
    status: 500,
    body: {
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: 'server_error',
      },
    },
    headers: {},
    internal: true,
  };
}

function envelope(status: number, message: string, code: string | null): MappedError {
  return {
    status,
    body: { error: { message, type: 'invalid_request_error', param: null, code } },
    headers: {},
    internal: false,
  };
}

/** Zod issues → 400 naming the first offending parameter as a dotted path (`messages[0].role`). */
function fromZod(error: ZodError): MappedError {
  const issue = error.issues[0];
  const param = issue ? formatPath(issue.path) : null;
  let message = issue?.message ?? 'Invalid request.';
  if (issue?.code === 'invalid_type' && /received undefined/.test(message)) {
    message = `Missing required parameter: '${param}'.`;
  } else if (param) {
    message = `Invalid value for '${param}': ${message}`;
  }
  return {
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param: param || null, code: null } },
    headers: {},
    internal: false,
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
