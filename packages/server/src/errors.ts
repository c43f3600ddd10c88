// The one error hierarchy: every failure a client can reach is an AtelierError, and the HTTP
// layer turns it into the OpenAI envelope {"error":{message,type,param,code}} with its status.

export interface AtelierErrorOptions {
  readonly status?: number;
  readonly type?: string;
  readonly code?: string | null;
  readonly param?: string | null;
  readonly cause?: unknown;
  /** Extra response headers (e.g. retry-after). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class AtelierError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    message: string,
    {
      status = 500,
      type = 'server_error',
      code = null,
      param = null,
      cause = undefined,
      headers = {},
    }: AtelierErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.headers = headers;
  }
}

export class InvalidRequestError extends AtelierError {
  constructor(
    message: string,
    { param = null, code = null, status = 400, cause = undefined }: AtelierErrorOptions = {},
  ) {
    super(message, { status, type: 'invalid_request_error', param, code, cause });
  }
}

export class AuthenticationError extends AtelierError {
  constructor(message: string, { code = 'invalid_api_key' }: { code?: string | null } = {}) {
    super(message, { status: 401, type: 'invalid_request_error', code });
  }
}

export class PermissionDeniedError extends AtelierError {
  constructor(message: string, { code = null }: { code?: string | null } = {}) {
    super(message, { status: 403, type: 'invalid_request_error', code });
  }
}

export class NotFoundError extends AtelierError {
  constructor(
    message: string,
    { param = null, code = null }: { param?: string | null; code?: string | null } = {},
  ) {
    super(message, { status: 404, type: 'invalid_request_error', param, code });
  }
}

export class ConflictError extends AtelierError {
  constructor(
    message: string,
    { param = null, code = null }: { param?: string | null; code?: string | null } = {},
  ) {
    super(message, { status: 409, type: 'invalid_request_error', param, code });
  }
}

export class PayloadTooLargeError extends AtelierError {
  constructor(message: string) {
    super(message, { status: 413, type: 'invalid_request_error', code: 'request_too_large' });
  }
}

export class RateLimitError extends AtelierError {
  constructor(message: string, { retryAfterSeconds = undefined }: { retryAfterSeconds?: number } = {}) {
    super(message, {
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

export class ServiceUnavailableError extends AtelierError {
  /**
   * `retryAfterSeconds`: when the same request may well succeed (`retry-after`, which the SDKs
   * honour); `retry: false` when it will not until someone changes something (`x-should-retry:
   * false`: the SDKs otherwise retry every 503).
   */
  constructor(
    message: string,
    {
      cause = undefined,
      retryAfterSeconds = undefined,
      retry = true,
    }: { cause?: unknown; retryAfterSeconds?: number; retry?: boolean } = {},
  ) {
    super(message, {
      status: 503,
      type: 'service_unavailable_error',
      code: 'service_unavailable',
      cause,
      headers: {
        ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
        ...(retry ? {} : { 'x-should-retry': 'false' }),
      },
    });
  }
}

/** A configuration problem: start-up prints the message as one line and exits. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
