// The one way the app talks to its server: JSON in and out, the session's CSRF token on every
// request (the server requires it for anything signed in by cookie), and failures as ApiError
// with the OpenAI envelope's fields, so screens can react to a `code`.

let csrfToken: string | null = null;

/** Set from the session (sign-in, sign-up, or the first `GET /api/session`). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/**
 * This tab's name, sent with every request: the server names it in the events the request causes,
 * so the live event stream can tell this tab's own changes from other tabs' and devices'.
 */
export const TAB_ID = Array.from(crypto.getRandomValues(new Uint8Array(9)), (byte) =>
  byte.toString(16).padStart(2, '0'),
).join('');

/** Headers for requests made outside `api` (the chat's streaming fetch). */
export function authHeaders(): Record<string, string> {
  // Without a session a constant value still proves the request came from this page's script.
  return { 'x-atelier-csrf': csrfToken ?? 'none', 'x-atelier-tab': TAB_ID };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;

  constructor(
    message: string,
    { status, code, param }: { status: number; code: string | null; param: string | null },
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** Reads an error response (the envelope when there is one) into an ApiError. */
export async function toApiError(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  let code: string | null = null;
  let param: string | null = null;
  try {
    const body = (await response.json()) as {
      error?: { message?: string; code?: string | null; param?: string | null };
    };
    if (body.error?.message) message = body.error.message;
    code = body.error?.code ?? null;
    param = body.error?.param ?? null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, { status: response.status, code, param });
}

/** Fired when the server says the session is gone, so the app can show the sign-in page. */
export const SIGNED_OUT_EVENT = 'atelier:signed-out';

export async function api<Result>(
  path: string,
  {
    method = 'GET',
    body = undefined,
    signal = undefined,
  }: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<Result> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ?? null,
  });
  if (!response.ok) {
    const error = await toApiError(response);
    if (error.status === 401 && error.code === 'not_signed_in')
      window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw error;
  }
  if (response.status === 204) return undefined as Result;
  return (await response.json()) as Result;
}
