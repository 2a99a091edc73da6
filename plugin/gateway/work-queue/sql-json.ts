import type { SqlDialect } from './sql-connection';

/**
 * A text field of a JSON column (the kinds' payloads), as SQL for the
 * dialect: SQLite's json_extract, PostgreSQL's ->> on the text cast to jsonb.
 * `key` is a constant of ours (letters only), never input.
 */
export function jsonText(dialect: SqlDialect, column: string, key: string): string {
  if (!/^[A-Za-z]+$/.test(key)) throw new Error(`JSON key "${key}" is not a plain name`);
  return dialect === 'sqlite' ? `json_extract(${column}, '$.${key}')` : `(${column}::jsonb ->> '${key}')`;
}
