// JSON objects kept in a TEXT column (metadata, attributes): the same on both dialects, and
// parsed defensively, since a row written by a newer version must not crash an older one.

export function toJsonColumn(value: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(value);
}

export function fromJsonColumn<Value>(text: string): Readonly<Record<string, Value>> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, Value>;
    }
  } catch {
    // fall through: an unreadable value reads as empty rather than failing the request
  }
  return {};
}
