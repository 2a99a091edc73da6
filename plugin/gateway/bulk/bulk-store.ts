import Database from 'better-sqlite3';

import { GatewayError } from '../gateway-errors';
import { JOB_STATES, type JobState } from '../job';

export interface BulkRun {
  readonly id: number;
  readonly query: Readonly<Record<string, string>>;
  readonly user: string | null;
  readonly createdAt: number;
  readonly instances: number;
  readonly jobs: Readonly<Record<JobState, number>>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bulk_runs (
  id INTEGER PRIMARY KEY, query TEXT NOT NULL, user TEXT, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bulk_members (
  bulk_id INTEGER NOT NULL REFERENCES bulk_runs(id), job_id INTEGER NOT NULL, PRIMARY KEY (bulk_id, job_id)
);
`;

/**
 * Bulk re-processing runs in state.sqlite: which jobs a run queued, so its
 * progress is the state of those jobs (the jobs table shares the file).
 */
export class BulkStore {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(path: string, now: () => number = Date.now) {
    this.#db = new Database(path);
    this.#now = now;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
  }

  create(query: Readonly<Record<string, string>>, user: string | null, jobIds: readonly number[]): number {
    return this.#db.transaction(() => {
      const id = Number(this.#db.prepare(`INSERT INTO bulk_runs (query, user, created_at) VALUES (?, ?, ?)`)
        .run(JSON.stringify(query), user, this.#now()).lastInsertRowid);
      const member = this.#db.prepare(`INSERT OR IGNORE INTO bulk_members (bulk_id, job_id) VALUES (?, ?)`);
      for (const jobId of jobIds) member.run(id, jobId);
      return id;
    })();
  }

  get(id: number): BulkRun {
    const row = this.#db.prepare(`SELECT * FROM bulk_runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (row === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `bulk run ${id} does not exist`, { bulkId: id });
    return this.#toRun(row);
  }

  list(limit: number): BulkRun[] {
    return (this.#db.prepare(`SELECT * FROM bulk_runs ORDER BY id DESC LIMIT ?`).all(limit) as RunRow[]).map((row) => this.#toRun(row));
  }

  close(): void {
    this.#db.close();
  }

  #toRun(row: RunRow): BulkRun {
    const jobs = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    // A job deleted since the run started no longer counts.
    const counts = this.#db.prepare(
      `SELECT j.state AS state, COUNT(*) AS n FROM bulk_members b JOIN jobs j ON j.id = b.job_id WHERE b.bulk_id = ? GROUP BY j.state`,
    ).all(row.id) as { state: JobState; n: number }[];
    for (const c of counts) jobs[c.state] = c.n;
    const instances = (this.#db.prepare(`SELECT COUNT(*) AS n FROM bulk_members WHERE bulk_id = ?`).get(row.id) as { n: number }).n;
    return { id: row.id, query: JSON.parse(row.query) as Record<string, string>, user: row.user, createdAt: row.created_at, instances, jobs };
  }
}

interface RunRow { id: number; query: string; user: string | null; created_at: number }
