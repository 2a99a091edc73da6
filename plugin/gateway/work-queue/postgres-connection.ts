import pg from 'pg';

import { GatewayError } from '../gateway-errors';
import type { SqlConnection, SqlValue } from './sql-connection';

/** int8 (epoch-millisecond columns, COUNT(*)) as numbers, not strings: epoch ms and counts stay far below 2^53. */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** `?` placeholders (the queue's one SQL text) numbered as PostgreSQL wants them. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The schema name, quoted; the config schema allows only lower-case identifiers. */
function quoted(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new GatewayError('AIB_CONFIG_BAD_VALUE', `AiBridge.Database.Schema "${schema}" is not a lower-case SQL identifier`, { key: 'AiBridge.Database.Schema' });
  }
  return `"${schema}"`;
}

export interface PostgresOptions {
  /** postgresql://user:password@host:port/database */
  readonly connectionUri: string;
  /** Schema that holds the queue's tables (created when missing). */
  readonly schema: string;
  readonly maxConnections?: number;
}

/**
 * SqlConnection over a node-postgres pool. Every pooled connection works in
 * its own schema (search_path), so the bridge can live in the database that
 * Orthanc's PostgreSQL index plugin uses without touching its tables.
 */
export class PostgresConnection implements SqlConnection {
  readonly dialect = 'postgresql' as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async open(options: PostgresOptions): Promise<PostgresConnection> {
    const schema = quoted(options.schema);
    const pool = new pg.Pool({
      connectionString: options.connectionUri, max: options.maxConnections ?? 4, types,
      options: `-c search_path=${schema}`,
    });
    // An idle pooled client that loses its server emits 'error'; unhandled it
    // would end the gateway. The next query gets a fresh client and fails or
    // succeeds on its own.
    pool.on('error', () => undefined);
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (error) {
      await pool.end();
      throw new GatewayError('AIB_QUEUE_DATABASE_UNREACHABLE',
        `PostgreSQL (AiBridge.Database.ConnectionUri) refused the connection or the schema: ${error instanceof Error ? error.message : String(error)}`,
        { key: 'AiBridge.Database.ConnectionUri' }, true);
    }
    return new PostgresConnection(pool);
  }

  async all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    const result = await this.#pool.query(numberPlaceholders(sql), [...params]);
    return result.rows as R[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.#pool.query(numberPlaceholders(sql), [...params]);
    return result.rowCount ?? 0;
  }

  async transaction<T>(work: (tx: SqlConnection) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(clientConnection(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

/** One pooled client inside a transaction. */
function clientConnection(client: pg.PoolClient): SqlConnection {
  const tx: SqlConnection = {
    dialect: 'postgresql',
    all: async <R>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numberPlaceholders(sql), [...params])).rows as R[],
    run: async (sql: string, params: readonly SqlValue[] = []) => (await client.query(numberPlaceholders(sql), [...params])).rowCount ?? 0,
    transaction: <T>(work: (inner: SqlConnection) => Promise<T>) => work(tx),
    close: () => Promise.reject(new Error('close() inside a transaction')),
  };
  return tx;
}
