import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';

import Database from 'better-sqlite3';

import type { SqlConnection, SqlValue } from './sql-connection';

/**
 * Opens state.sqlite with the pragmas every store of it needs, set here once.
 * WAL lets readers (the admin API) run beside the writer. synchronous=NORMAL
 * in WAL mode survives a process crash; a power cut may roll back the last
 * transactions, cursor and jobs together, and the change log then replays
 * them (work is unique per kind and key). FULL would add an fsync per update,
 * competing with Orthanc's own store path. busy_timeout: several connections
 * of one gateway (and the CLI) share the file. cache_size: see PAGE_CACHE_KIB.
 */
export function openStateDatabase(path: string): Database.Database {
  // The queue keeps original UIDs and the reports received (PHI zone), like the audit log: owner-only.
  ownerOnlyDatabaseFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${String(PAGE_CACHE_KIB)}`);
  return db;
}

/**
 * Creates a SQLite file of the PHI zone owner-only (0600) before SQLite opens
 * it, and narrows one an earlier version left readable (its -wal and -shm
 * too). SQLite gives the files it creates beside the database the
 * database's own mode, so they follow. The folder is 0700 when the gateway
 * made it, but an administrator may have made it with their umask.
 */
export function ownerOnlyDatabaseFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/**
 * Each connection's page cache, in KiB: SQLite's own default (2 MB).
 * better-sqlite3 builds SQLite with 16 MB, and a cache fills as its file
 * grows, so the gateway's RSS grew with every job the queue and the vault
 * keep (gateway +23 MB over 10,000 instances). The hot path touches few
 * pages (the due index, the newest rows); a page read again comes from the
 * OS page cache.
 */
export const PAGE_CACHE_KIB = 2000;

/**
 * One promise chain per database file in this process. A transaction's work
 * is awaited between its statements; if a second connection to the file
 * began a transaction meanwhile, SQLite's busy handler would block the one
 * thread that could finish the first, and both would fail after
 * busy_timeout. Connections of one file therefore take turns.
 */
const turns = new Map<string, { tail: Promise<void> }>();

/**
 * SqlConnection over better-sqlite3. Calls are synchronous underneath; the
 * file's promise chain serialises them so that a transaction's statements
 * are never interleaved with another caller's. Other processes (the CLI)
 * wait on the file lock, up to busy_timeout.
 */
export class SqliteConnection implements SqlConnection {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #turn: { tail: Promise<void> };
  /** Prepared once per SQL text: the hot path (claim, complete) runs the same few statements per item. */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.#db = openStateDatabase(path);
    const key = resolve(path);
    let turn = turns.get(key);
    if (turn === undefined) {
      turn = { tail: Promise.resolve() };
      turns.set(key, turn);
    }
    this.#turn = turn;
  }

  async all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.#exclusive(() => Promise.resolve(this.#all<R>(sql, params)));
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#exclusive(() => Promise.resolve(this.#run(sql, params)));
  }

  async transaction<T>(work: (tx: SqlConnection) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      // IMMEDIATE takes the write lock now, so two processes' claims cannot
      // both read the same due row before either writes.
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.#inTransaction());
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.#exclusive(() => { this.#db.close(); return Promise.resolve(); });
  }

  #all<R>(sql: string, params: readonly SqlValue[]): R[] {
    return this.#prepare(sql).all(...params) as R[];
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    const statement = this.#prepare(sql);
    // DDL and other statements without a result: run(); a statement that returns rows must be read.
    return statement.reader ? statement.all(...params).length : statement.run(...params).changes;
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      // DDL changes the schema the cached statements were compiled against; such texts are run once.
      if (!/^\s*(CREATE|DROP|ALTER)\b/i.test(sql)) this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** The handle a transaction's work gets: same database, no second lock. */
  #inTransaction(): SqlConnection {
    const tx: SqlConnection = {
      dialect: this.dialect,
      all: <R>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.#all<R>(sql, params)),
      run: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.#run(sql, params)),
      // Nested: already inside the one transaction.
      transaction: <T>(work: (inner: SqlConnection) => Promise<T>) => work(tx),
      close: () => Promise.reject(new Error('close() inside a transaction')),
    };
    return tx;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#turn.tail.then(work);
    this.#turn.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}
