// Turns a driver error into one readable line for start-up messages (no stack, no pool internals).

/** One line from a driver error; Node's connect errors may be an AggregateError with an empty message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message.split('\n')[0] ?? '';
    if (message) return message;
    if (typeof code === 'string') return code;
    return error.name;
  }
  return String(error);
}
