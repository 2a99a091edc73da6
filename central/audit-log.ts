/**
 * Every request is recorded twice, append-only: a row in the audit table
 * (triggers refuse UPDATE and DELETE) and a line in DIR/audit.jsonl, which
 * the admin reads and which survives a lost database.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

import type Database from 'better-sqlite3';

export interface AuditRecord {
  readonly at: string;
  readonly actor: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** 'ok', or the CENTRAL_* code of the refusal. */
  readonly result: string;
}

export class AuditLog {
  readonly #insert: Database.Statement;
  // Opened once in append mode: every write lands at the end whatever else writes the file.
  readonly #fd: number;

  constructor(db: Database.Database, readonly file: string) {
    this.#insert = db.prepare('INSERT INTO audit (at, actor, method, path, status, bytes_in, bytes_out, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#fd = openSync(file, 'a', 0o600);
  }

  record(r: AuditRecord): void {
    this.#insert.run(r.at, r.actor, r.method, r.path, r.status, r.bytesIn, r.bytesOut, r.result);
    writeSync(this.#fd, `${JSON.stringify(r)}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
