// Whether a person must be asked before an action sends data to a domain. The answer per
// (person, GPT or action, domain) is one of allow once, always allow, decline. "Always allow"
// is remembered; operations marked consequential (x-openai-isConsequential, or by default every
// method but GET) ask every time, and are never covered by it.

import type { ActionRequest } from './build-action-request.js';
import type { ActionOperation } from './read-openapi.js';

export type ConsentDecision = 'allow_once' | 'always_allow' | 'decline';

export const CONSENT_DECISIONS: readonly ConsentDecision[] = ['allow_once', 'always_allow', 'decline'];

/** What is stored for one person, GPT (or action) and domain. */
export interface ConsentState {
  /** Calls to the domain's non-consequential operations go without asking. */
  readonly alwaysAllowed: boolean;
  readonly lastDecision: ConsentDecision;
  /** Unix seconds. */
  readonly decidedAt: number;
}

/** The request as the person sees it before allowing it; credentials are never part of it. */
export interface ConsentPreview {
  readonly domain: string;
  readonly method: string;
  readonly url: string;
  /** The operation's own header and cookie parameters. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as the model wrote it, or null. */
  readonly body: unknown;
}

export type ConsentCheck =
  | { readonly needed: false; readonly domain: string; readonly reason: 'always_allowed' }
  | {
      readonly needed: true;
      readonly domain: string;
      readonly operation: {
        readonly name: string;
        readonly method: string;
        readonly path: string;
        readonly summary: string | null;
      };
      readonly consequential: boolean;
      /** Offer "Always allow": false for consequential operations. */
      readonly canAlwaysAllow: boolean;
      readonly previousDecision: ConsentDecision | null;
      readonly preview: ConsentPreview;
    };

export function decideConsent({
  operation,
  domain,
  state,
  request,
}: {
  operation: ActionOperation;
  domain: string;
  state: ConsentState | null;
  request: ActionRequest;
}): ConsentCheck {
  if (!operation.consequential && state?.alwaysAllowed) {
    return { needed: false, domain, reason: 'always_allowed' };
  }
  const { accept: _accept, 'content-type': _type, ...headers } = request.headers;
  return {
    needed: true,
    domain,
    operation: {
      name: operation.name,
      method: request.method,
      path: operation.path,
      summary: operation.summary,
    },
    consequential: operation.consequential,
    canAlwaysAllow: !operation.consequential,
    previousDecision: state?.lastDecision ?? null,
    preview: { domain, method: request.method, url: request.url, headers, body: request.bodyValue },
  };
}

/** The state after a decision: always allow sets the flag, decline clears it, allow once keeps it. */
export function applyConsentDecision({
  state,
  decision,
  at,
}: {
  state: ConsentState | null;
  decision: ConsentDecision;
  at: number;
}): ConsentState {
  const alwaysAllowed =
    decision === 'always_allow' ? true : decision === 'decline' ? false : (state?.alwaysAllowed ?? false);
  return { alwaysAllowed, lastDecision: decision, decidedAt: at };
}
