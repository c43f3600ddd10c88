// Errors of the code interpreter a caller can reach. Limits hit by the user's code are not
// errors of the call: they come back in the execution result, like any Python exception.
import { ServiceUnavailableError } from '../../errors.js';

/** The sandbox cannot run on this machine (no bubblewrap, user namespaces off, not root, …). */
export class SandboxUnavailableError extends ServiceUnavailableError {
  /** What is missing, one short line each, for operators. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], { cause = undefined }: { cause?: unknown } = {}) {
    // Nothing a retry changes: the machine must.
    super(`The code interpreter's sandbox cannot run on this machine: ${problems.join('; ')}`, {
      cause,
      retry: false,
    });
    this.problems = problems;
  }
}

/** Every sandbox slot is busy running code; the caller may retry later. */
export class SandboxCapacityError extends ServiceUnavailableError {
  constructor(maxSessions: number) {
    super(
      `The code interpreter is running code for ${maxSessions} other sessions, its limit; try again shortly.`,
      { retryAfterSeconds: 5 },
    );
  }
}

/** The interpreter was closed (the server is stopping). */
export class SandboxClosedError extends ServiceUnavailableError {
  constructor() {
    super('The code interpreter is shutting down.');
  }
}
