// Any JSON value kept in a TEXT column (tools, content, tool calls…): written as is, read back
// defensively, since a row written by a newer version must not crash an older one.

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** The parsed value, or `fallback` when the text is not JSON of the expected kind. */
export function fromJson<Value>(text: string | null, fallback: Value): Value {
  if (text === null) return fallback;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(fallback) !== Array.isArray(parsed)) return fallback;
    if (
      typeof fallback === 'object' &&
      fallback !== null &&
      (typeof parsed !== 'object' || parsed === null)
    ) {
      return fallback;
    }
    return parsed as Value;
  } catch {
    return fallback;
  }
}
