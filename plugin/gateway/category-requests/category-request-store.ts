import Database from 'better-sqlite3';

/**
 * The central server's category requests as this site handles them
 * (state.sqlite, PHI zone: the members are Orthanc instance ids). A request
 * is searched once; its members are the instances of the matching series,
 * each with a job tagged with the request id; `sent` marks the ones whose
 * de-identified copy was handed to the annotator for upload.
 */
export const SEARCH_STATES = ['pending', 'searching', 'uploading', 'done', 'failed'] as const;
export type SearchState = (typeof SEARCH_STATES)[number];

export interface StoredCategoryRequest {
  readonly id: string;
  readonly modality: string;
  readonly bodyPart: string;
  readonly studiesWanted: number;
  readonly reason: string;
  readonly open: boolean;
  readonly state: SearchState;
  readonly sources: readonly string[];
  readonly studiesFound: number;
  readonly error: string | null;
  readonly updatedAt: number;
}

export interface RequestMember {
  readonly instanceId: string;
  readonly sent: boolean;
  readonly jobState: string | null;
  readonly deidPath: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS category_requests (
  id TEXT PRIMARY KEY, modality TEXT NOT NULL, body_part TEXT NOT NULL, studies_wanted INTEGER NOT NULL, reason TEXT NOT NULL,
  open INTEGER NOT NULL, state TEXT NOT NULL, sources TEXT NOT NULL DEFAULT '', studies_found INTEGER NOT NULL DEFAULT 0,
  error TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS category_request_members (
  request_id TEXT NOT NULL REFERENCES category_requests(id), instance_id TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (request_id, instance_id)
);
`;

interface Row {
  id: string; modality: string; body_part: string; studies_wanted: number; reason: string; open: number; state: SearchState;
  sources: string; studies_found: number; error: string | null; updated_at: number;
}

function toRequest(row: Row): StoredCategoryRequest {
  return {
    id: row.id, modality: row.modality, bodyPart: row.body_part, studiesWanted: row.studies_wanted, reason: row.reason, open: row.open === 1,
    state: row.state, sources: row.sources === '' ? [] : row.sources.split(','), studiesFound: row.studies_found, error: row.error, updatedAt: row.updated_at,
  };
}

export class CategoryRequestStore {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
  }

  /** Records a request the central server lists (new ones start 'pending'); updates whether it is still open. */
  upsert(request: { id: string; modality: string; bodyPart: string; studiesWanted: number; reason: string; open: boolean }): void {
    const now = Date.now();
    this.#db.prepare(
      `INSERT INTO category_requests (id, modality, body_part, studies_wanted, reason, open, state, created_at, updated_at)
       VALUES (@id, @modality, @bodyPart, @studiesWanted, @reason, @open, 'pending', @now, @now)
       ON CONFLICT(id) DO UPDATE SET open=excluded.open`,
    ).run({ ...request, open: request.open ? 1 : 0, now });
  }

  list(): StoredCategoryRequest[] {
    return (this.#db.prepare(`SELECT * FROM category_requests ORDER BY created_at, id`).all() as Row[]).map(toRequest);
  }

  setState(id: string, state: SearchState, facts: { sources?: readonly string[]; studiesFound?: number; error?: string | null } = {}): void {
    this.#db.prepare(
      `UPDATE category_requests SET state=@state, sources=COALESCE(@sources, sources), studies_found=COALESCE(@studiesFound, studies_found),
         error=CASE WHEN @setError THEN @error ELSE error END, updated_at=@now WHERE id=@id`,
    ).run({
      id, state, now: Date.now(), sources: facts.sources === undefined ? null : facts.sources.join(','), studiesFound: facts.studiesFound ?? null,
      setError: facts.error === undefined ? 0 : 1, error: facts.error ?? null,
    });
  }

  addMembers(id: string, instanceIds: readonly string[]): void {
    const insert = this.#db.prepare(`INSERT INTO category_request_members (request_id, instance_id) VALUES (?, ?) ON CONFLICT DO NOTHING`);
    this.#db.transaction(() => { for (const instanceId of instanceIds) insert.run(id, instanceId); })();
  }

  /** Members with their job's state and de-identified copy (the jobs table of the same database). */
  members(id: string): RequestMember[] {
    const rows = this.#db.prepare(
      `SELECT m.instance_id AS instanceId, m.sent AS sent, j.state AS jobState, j.deid_path AS deidPath
       FROM category_request_members m LEFT JOIN jobs j ON j.instance_id = m.instance_id WHERE m.request_id=? ORDER BY m.rowid`,
    ).all(id) as { instanceId: string; sent: number; jobState: string | null; deidPath: string | null }[];
    return rows.map((r) => ({ ...r, sent: r.sent === 1 }));
  }

  markSent(id: string, instanceId: string): void {
    this.#db.prepare(`UPDATE category_request_members SET sent=1 WHERE request_id=? AND instance_id=?`).run(id, instanceId);
  }

  close(): void {
    this.#db.close();
  }
}
