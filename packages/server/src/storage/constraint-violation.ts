// Recognises constraint violations from either driver, so repositories can turn them into
// ConflictError / NotFoundError instead of leaking a raw driver error to the client.

export type ConstraintViolation = 'unique' | 'foreign_key';

const SQLITE_CODES: Readonly<Record<string, ConstraintViolation>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
};

// SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const POSTGRES_CODES: Readonly<Record<string, ConstraintViolation>> = {
  '23505': 'unique',
  '23503': 'foreign_key',
};

/** The kind of constraint `error` violated, or null when it is some other error. */
export function constraintViolation(error: unknown): ConstraintViolation | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  return SQLITE_CODES[code] ?? POSTGRES_CODES[code] ?? null;
}
