import Database from 'better-sqlite3';

/**
 * The central server's category requests as this site handles them
 * (state.sqlite, PHI zone: the members are Orthanc instance ids). A request
 * arrives `awaiting-approval` (or `declined` when the site's limits refuse it
 * outright); an administrator approves it (`pending`, with the studies
 * granted) or declines it. An approved request is searched once; its members
 * are the instances of the matching series, each with a job tagged with the
 * request id; `sent` marks the ones whose de-identified copy was handed to
 * the annotator for upload.
 */
export const SEARCH_STATES = ['awaiting-approval', 'declined', 'pending', 'searching', 'uploading', 'done', 'failed'] as const;
export type SearchState = (typeof SEARCH_STATES)[number];

/** Who decided about a request, and when: an administrator (their Orthanc user, if known) or the site's limits ('policy'). */
export interface RequestDecision {
  readonly by: string | null;
  readonly at: number;
  readonly reason: string | null;
  /** Studies the approval allows (the request's ask cut by the site's limits). */
  readonly studiesGranted: number | null;
}

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
  readonly decision: RequestDecision | null;
  /** When the PACS search ran (counts against StudiesPerMonth). */
  readonly searchedAt: number | null;
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

/** Columns added with site approval (issue 15); a request stored before them had been searched without asking, so only unsearched ones wait. */
const ADDED_COLUMNS: readonly (readonly [string, string])[] = [
  ['decided_by', 'TEXT'], ['decided_at', 'INTEGER'], ['decision_reason', 'TEXT'], ['studies_granted', 'INTEGER'], ['searched_at', 'INTEGER'],
];

interface Row {
  id: string; modality: string; body_part: string; studies_wanted: number; reason: string; open: number; state: SearchState;
  sources: string; studies_found: number; error: string | null; updated_at: number;
  decided_by: string | null; decided_at: number | null; decision_reason: string | null; studies_granted: number | null; searched_at: number | null;
}

function toRequest(row: Row): StoredCategoryRequest {
  return {
    id: row.id, modality: row.modality, bodyPart: row.body_part, studiesWanted: row.studies_wanted, reason: row.reason, open: row.open === 1,
    state: row.state, sources: row.sources === '' ? [] : row.sources.split(','), studiesFound: row.studies_found, error: row.error, updatedAt: row.updated_at,
    decision: row.decided_at === null ? null : { by: row.decided_by, at: row.decided_at, reason: row.decision_reason, studiesGranted: row.studies_granted },
    searchedAt: row.searched_at,
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
    const columns = (this.#db.prepare('PRAGMA table_info(category_requests)').all() as { name: string }[]).map((c) => c.name);
    const missing = ADDED_COLUMNS.filter(([name]) => !columns.includes(name));
    if (missing.length > 0) {
      this.#db.transaction(() => {
        for (const [name, type] of missing) this.#db.exec(`ALTER TABLE category_requests ADD COLUMN ${name} ${type}`);
        this.#db.prepare(`UPDATE category_requests SET state='awaiting-approval' WHERE state='pending'`).run();
      })();
    }
  }

  /**
   * Records a request the central server lists: a new one starts
   * 'awaiting-approval', or 'declined' with `refusal` (the site's limits);
   * an existing one only updates whether it is still open.
   */
  upsert(request: { id: string; modality: string; bodyPart: string; studiesWanted: number; reason: string; open: boolean }, refusal: string | null): void {
    const now = Date.now();
    this.#db.prepare(
      `INSERT INTO category_requests (id, modality, body_part, studies_wanted, reason, open, state, created_at, updated_at, decided_by, decided_at, decision_reason)
       VALUES (@id, @modality, @bodyPart, @studiesWanted, @reason, @open, @state, @now, @now, @decidedBy, @decidedAt, @refusal)
       ON CONFLICT(id) DO UPDATE SET open=excluded.open`,
    ).run({
      ...request, open: request.open ? 1 : 0, now, state: refusal === null ? 'awaiting-approval' : 'declined',
      decidedBy: refusal === null ? null : 'policy', decidedAt: refusal === null ? null : now, refusal,
    });
  }

  get(id: string): StoredCategoryRequest | undefined {
    const row = this.#db.prepare(`SELECT * FROM category_requests WHERE id=?`).get(id) as Row | undefined;
    return row === undefined ? undefined : toRequest(row);
  }

  /** An administrator's decision on a request awaiting it; false when it is not (any more) awaiting approval. */
  decide(id: string, decision: { approve: true; studiesGranted: number } | { approve: false; reason: string }, by: string | null): boolean {
    const now = Date.now();
    return this.#db.prepare(
      `UPDATE category_requests SET state=@state, decided_by=@by, decided_at=@now, decision_reason=@reason, studies_granted=@granted, updated_at=@now
       WHERE id=@id AND state='awaiting-approval'`,
    ).run({
      id, now, by, state: decision.approve ? 'pending' : 'declined',
      reason: decision.approve ? null : decision.reason, granted: decision.approve ? decision.studiesGranted : null,
    }).changes === 1;
  }

  /** The site's limits refuse an approved request (e.g. the month's allowance is used up): declined, by 'policy'. */
  refuse(id: string, reason: string): void {
    const now = Date.now();
    this.#db.prepare(`UPDATE category_requests SET state='declined', decided_by='policy', decided_at=?, decision_reason=?, updated_at=? WHERE id=?`)
      .run(now, reason, now, id);
  }

  /** Studies found by searches run since `since` (ms): what counts against StudiesPerMonth. */
  studiesSearchedSince(since: number): number {
    return (this.#db.prepare(`SELECT COALESCE(SUM(studies_found), 0) AS n FROM category_requests WHERE searched_at >= ?`).get(since) as { n: number }).n;
  }

  list(): StoredCategoryRequest[] {
    return (this.#db.prepare(`SELECT * FROM category_requests ORDER BY created_at, id`).all() as Row[]).map(toRequest);
  }

  setState(id: string, state: SearchState, facts: { sources?: readonly string[]; studiesFound?: number; error?: string | null; searchedAt?: number } = {}): void {
    this.#db.prepare(
      `UPDATE category_requests SET state=@state, sources=COALESCE(@sources, sources), studies_found=COALESCE(@studiesFound, studies_found),
         error=CASE WHEN @setError THEN @error ELSE error END, searched_at=COALESCE(@searchedAt, searched_at), updated_at=@now WHERE id=@id`,
    ).run({
      id, state, now: Date.now(), sources: facts.sources === undefined ? null : facts.sources.join(','), studiesFound: facts.studiesFound ?? null,
      setError: facts.error === undefined ? 0 : 1, error: facts.error ?? null, searchedAt: facts.searchedAt ?? null,
    });
  }

  addMembers(id: string, instanceIds: readonly string[]): void {
    const insert = this.#db.prepare(`INSERT INTO category_request_members (request_id, instance_id) VALUES (?, ?) ON CONFLICT DO NOTHING`);
    this.#db.transaction(() => { for (const instanceId of instanceIds) insert.run(id, instanceId); })();
  }

  /** Members with their job's state and de-identified copy (the queue's instance items, same database). */
  members(id: string): RequestMember[] {
    const rows = this.#db.prepare(
      `SELECT m.instance_id AS instanceId, m.sent AS sent, j.state AS jobState, json_extract(j.payload, '$.deidPath') AS deidPath
       FROM category_request_members m LEFT JOIN work_items j ON j.kind = 'instance' AND j.key = m.instance_id WHERE m.request_id=? ORDER BY m.rowid`,
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
