/**
 * Every request is recorded twice, append-only: a row in the audit table
 * (triggers refuse UPDATE and DELETE) and a line in DIR/audit.jsonl, which
 * the admin reads and which survives a lost database.
 */
import { appendFileSync } from 'node:fs';

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

  constructor(db: Database.Database, readonly file: string) {
    this.#insert = db.prepare('INSERT INTO audit (at, actor, method, path, status, bytes_in, bytes_out, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  }

  record(r: AuditRecord): void {
    this.#insert.run(r.at, r.actor, r.method, r.path, r.status, r.bytesIn, r.bytesOut, r.result);
    appendFileSync(this.file, `${JSON.stringify(r)}\n`);
  }
}
