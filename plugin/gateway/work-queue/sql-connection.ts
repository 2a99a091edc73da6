/** A value bound to a `?` placeholder. Times are epoch milliseconds (BIGINT on PostgreSQL). */
export type SqlValue = string | number | null;

export type SqlDialect = 'sqlite' | 'postgresql';

/**
 * The one database handle the work queue and the kinds' own tables share.
 * Statements use `?` placeholders on both backends (the PostgreSQL
 * connection numbers them), so the queue's SQL is written once; the few
 * dialect differences (row locks, identity columns) are named where they
 * are used. Asynchronous because node-postgres is: the SQLite connection
 * answers in the same tick but keeps the same contract.
 */
export interface SqlConnection {
  readonly dialect: SqlDialect;
  /** Rows of a SELECT, or of an INSERT/UPDATE/DELETE … RETURNING. */
  all<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Runs a statement without rows; the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs `work` in one transaction on this connection and commits, or rolls
   * back when it throws. Inside, await nothing but `tx`: on SQLite the write
   * lock is held until `work` returns, and another connection of this
   * process would wait for it synchronously.
   */
  transaction<T>(work: (tx: SqlConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
