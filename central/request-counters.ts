/**
 * Requests counted instead of audited one by one: anything without a valid
 * token, and anything refused by a rate limit. Each of those written to the
 * append-only audit would let an anonymous caller fill the disk; a counter
 * costs one row whatever the flood. Counted in memory and written to the
 * `counters` table at most every FLUSH_MS and on close.
 */
import type Database from 'better-sqlite3';

import type { CentralCounters } from '../plugin/core/central-api';

const FLUSH_MS = 10_000;
type Name = 'unauthenticated' | 'rateLimited';

export class RequestCounters {
  readonly #db: Database.Database;
  readonly #pending: Record<Name, number> = { unauthenticated: 0, rateLimited: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    db.prepare("INSERT OR IGNORE INTO counters (name, value) VALUES ('unauthenticated', 0), ('rateLimited', 0)").run();
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('counters_since', ?)").run(new Date().toISOString());
  }

  count(name: Name): void {
    this.#pending[name]++;
    this.#timer ??= setTimeout(() => { this.flush(); }, FLUSH_MS);
    this.#timer.unref();
  }

  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const add = this.#db.prepare('UPDATE counters SET value = value + ? WHERE name = ?');
    this.#db.transaction(() => {
      for (const name of Object.keys(this.#pending) as Name[]) {
        if (this.#pending[name] > 0) add.run(this.#pending[name], name);
        this.#pending[name] = 0;
      }
    })();
  }

  read(): CentralCounters {
    this.flush();
    const rows = this.#db.prepare('SELECT name, value FROM counters').all() as { name: Name; value: number }[];
    const value = (name: Name): number => rows.find((r) => r.name === name)?.value ?? 0;
    const since = (this.#db.prepare("SELECT value FROM meta WHERE key = 'counters_since'").get() as { value: string }).value;
    return { unauthenticated: value('unauthenticated'), rateLimited: value('rateLimited'), since };
  }
}
