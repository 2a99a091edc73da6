import { PostgresConnection } from './postgres-connection';
import type { RetryPolicy } from './retry-policy';
import type { SqlConnection } from './sql-connection';
import { SqliteConnection } from './sqlite-connection';
import { migrate } from './migrations';
import { SqlWorkQueue } from './sql-work-queue';

/** AiBridge.Database (config/aibridge.schema.json). */
export type DatabaseConfig =
  | { readonly Backend: 'sqlite' }
  | { readonly Backend: 'postgresql'; readonly ConnectionUri: string; readonly Schema: string };

export const DEFAULT_DATABASE: DatabaseConfig = { Backend: 'sqlite' };

/** The connection the configuration names: state.sqlite of the data directory, or the PostgreSQL schema. */
export async function openConnection(database: DatabaseConfig, stateDb: string): Promise<SqlConnection> {
  return database.Backend === 'sqlite'
    ? new SqliteConnection(stateDb)
    : PostgresConnection.open({ connectionUri: database.ConnectionUri, schema: database.Schema });
}

/** Opens the configured backend, brings its schema up to date, and returns the queue over it. */
export async function openWorkQueue(
  database: DatabaseConfig, stateDb: string, retry: RetryPolicy, now?: () => number,
): Promise<{ queue: SqlWorkQueue; sql: SqlConnection }> {
  const sql = await openConnection(database, stateDb);
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close();
    throw error;
  }
  return { queue: new SqlWorkQueue(sql, { retry, ...(now === undefined ? {} : { now }) }), sql };
}
