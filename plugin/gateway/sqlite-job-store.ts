import Database from 'better-sqlite3';

import { jobId, orthancInstanceId, type JobId, type OrthancInstanceId } from '../core/branded-ids';
import { GatewayError } from './gateway-errors';
import type { RunEnd, RunRecord } from './run-record';
import { JOB_STATES, type ErrorEvent, type InstanceFacts, type Job, type JobEvent, type JobQuery, type JobState, type JobStore, type MinuteCount, type NewInstanceChange, type StageDepth } from './job';

const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL UNIQUE,
  change_seq INTEGER NOT NULL,
  sop_instance_uid TEXT, series_instance_uid TEXT, modality TEXT, sop_class_uid TEXT,
  transfer_syntax_uid TEXT, sha256 TEXT, size_bytes INTEGER, deid_path TEXT, link_token TEXT, category_request TEXT,
  state TEXT NOT NULL CHECK (state IN (${JOB_STATES.map((s) => `'${s}'`).join(',')})),
  stage TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  outcome TEXT, error_code TEXT, error_message TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS job_events (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  at INTEGER NOT NULL, event TEXT NOT NULL, stage TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, at);
`;

interface JobRow {
  id: number; instance_id: string; change_seq: number;
  sop_instance_uid: string | null; series_instance_uid: string | null; modality: string | null;
  sop_class_uid: string | null; transfer_syntax_uid: string | null; sha256: string | null; size_bytes: number | null;
  deid_path: string | null; link_token: string | null; category_request: string | null;
  state: JobState; stage: string; attempts: number; next_attempt_at: number;
  outcome: string | null; error_code: string | null; error_message: string | null;
  created_at: number; updated_at: number; finished_at: number | null;
}

function toJob(row: JobRow): Job {
  return {
    id: jobId(row.id), instanceId: orthancInstanceId(row.instance_id), changeSeq: row.change_seq,
    sopInstanceUid: row.sop_instance_uid, seriesInstanceUid: row.series_instance_uid, modality: row.modality,
    sopClassUid: row.sop_class_uid, transferSyntaxUid: row.transfer_syntax_uid, sha256: row.sha256, sizeBytes: row.size_bytes,
    deidPath: row.deid_path, linkToken: row.link_token, categoryRequest: row.category_request, state: row.state, stage: row.stage, attempts: row.attempts, nextAttemptAt: row.next_attempt_at,
    outcome: row.outcome, errorCode: row.error_code, errorMessage: row.error_message,
    createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at,
  };
}

/** JobStore on one SQLite file (state.sqlite, PHI zone), WAL mode, synchronous writes. */
export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  /** Prepared once per SQL text: the hot path (claim, finish) runs the same few statements per job. */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(path: string, now: () => number = Date.now) {
    this.#db = new Database(path);
    this.#now = now;
    this.#db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash; a power cut may roll back
    // the last transactions, cursor and jobs together, and the change log
    // then replays them (jobs are unique per instance). FULL would add an
    // fsync per job update, competing with Orthanc's own store path.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.exec(SCHEMA);
    const version = this.#meta('schema_version');
    if (version === undefined) this.#setMeta('schema_version', String(SCHEMA_VERSION));
    else if (Number(version) === 1 || Number(version) === 2) {
      // 1 → 2: jobs learnt where their de-identified copy is and its link token.
      if (Number(version) === 1) this.#db.exec(`ALTER TABLE jobs ADD COLUMN deid_path TEXT; ALTER TABLE jobs ADD COLUMN link_token TEXT;`);
      // 2 → 3: the central category request a job was made or tagged for.
      this.#db.exec(`ALTER TABLE jobs ADD COLUMN category_request TEXT;`);
      this.#setMeta('schema_version', String(SCHEMA_VERSION));
    } else if (Number(version) !== SCHEMA_VERSION) {
      throw new Error(`state.sqlite has schema version ${version}, this gateway expects ${SCHEMA_VERSION}`);
    }
  }

  changeCursor(): number | undefined {
    const value = this.#meta('change_cursor');
    return value === undefined ? undefined : Number(value);
  }

  recordChanges(changes: readonly NewInstanceChange[], cursor: number): number {
    const now = this.#now();
    const insert = this.#prepare(
      `INSERT INTO jobs (instance_id, change_seq, state, stage, created_at, updated_at)
       VALUES (?, ?, 'queued', 'received', ?, ?) ON CONFLICT(instance_id) DO NOTHING`);
    const event = this.#prepare(`INSERT INTO job_events (job_id, at, event, stage, detail) VALUES (?, ?, 'received', 'received', ?)`);
    let created = 0;
    this.#db.transaction(() => {
      for (const change of changes) {
        const result = insert.run(change.instanceId, change.seq, now, now);
        if (result.changes > 0) {
          created++;
          event.run(result.lastInsertRowid, now, `change ${change.seq}`);
        }
      }
      this.#setMeta('change_cursor', String(cursor));
    })();
    return created;
  }

  tagForRequest(instanceId: OrthancInstanceId, requestId: string): { job: Job; created: boolean } {
    const now = this.#now();
    return this.#db.transaction(() => {
      // change_seq 0: the job comes from a category request's PACS search, not from the change log.
      const inserted = this.#prepare(
        `INSERT INTO jobs (instance_id, change_seq, state, stage, category_request, created_at, updated_at)
         VALUES (?, 0, 'queued', 'received', ?, ?, ?) ON CONFLICT(instance_id) DO NOTHING`).run(instanceId, requestId, now, now);
      const row = this.#prepare(`SELECT * FROM jobs WHERE instance_id=?`).get(instanceId) as JobRow;
      if (inserted.changes > 0) this.#event(row.id, 'received', 'received', `category request ${requestId}`);
      else if (row.category_request === null) {
        this.#prepare(`UPDATE jobs SET category_request=?, updated_at=? WHERE id=?`).run(requestId, now, row.id);
        this.#event(row.id, 'tagged', row.stage, `category request ${requestId}`);
      }
      return { job: toJob({ ...row, category_request: row.category_request ?? requestId }), created: inserted.changes > 0 };
    })();
  }

  byInstance(instanceId: OrthancInstanceId): Job | undefined {
    const row = this.#prepare(`SELECT * FROM jobs WHERE instance_id=?`).get(instanceId) as JobRow | undefined;
    return row === undefined ? undefined : toJob(row);
  }

  claimNext(now: number): Job | undefined {
    return this.#db.transaction(() => {
      const row = this.#prepare(
        `SELECT * FROM jobs WHERE state IN ('queued','retrying') AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT 1`).get(now) as JobRow | undefined;
      if (row === undefined) return undefined;
      this.#prepare(`UPDATE jobs SET state='running', attempts=attempts+1, updated_at=? WHERE id=?`).run(now, row.id);
      this.#event(row.id, 'started', row.stage, `attempt ${row.attempts + 1}`);
      return toJob({ ...row, state: 'running', attempts: row.attempts + 1, updated_at: now });
    })();
  }

  setStage(id: JobId, stage: string): void {
    this.#prepare(`UPDATE jobs SET stage=?, updated_at=? WHERE id=?`).run(stage, this.#now(), id);
    this.#event(id, 'stage', stage, null);
  }

  recordFacts(id: JobId, facts: InstanceFacts): void {
    this.#prepare(
      `UPDATE jobs SET sop_instance_uid=COALESCE(@sopInstanceUid, sop_instance_uid),
         series_instance_uid=COALESCE(@seriesInstanceUid, series_instance_uid), modality=COALESCE(@modality, modality),
         sop_class_uid=COALESCE(@sopClassUid, sop_class_uid), transfer_syntax_uid=COALESCE(@transferSyntaxUid, transfer_syntax_uid),
         sha256=COALESCE(@sha256, sha256), size_bytes=COALESCE(@sizeBytes, size_bytes),
         deid_path=COALESCE(@deidPath, deid_path), link_token=COALESCE(@linkToken, link_token), updated_at=@now WHERE id=@id`,
    ).run({
      id, now: this.#now(), sopInstanceUid: facts.sopInstanceUid ?? null, seriesInstanceUid: facts.seriesInstanceUid ?? null,
      modality: facts.modality ?? null, sopClassUid: facts.sopClassUid ?? null, transferSyntaxUid: facts.transferSyntaxUid ?? null,
      sha256: facts.sha256 ?? null, sizeBytes: facts.sizeBytes ?? null,
      deidPath: facts.deidPath ?? null, linkToken: facts.linkToken ?? null,
    });
  }

  complete(id: JobId, outcome: string): void {
    const now = this.#now();
    this.#prepare(
      `UPDATE jobs SET state='done', outcome=?, error_code=NULL, error_message=NULL, updated_at=?, finished_at=? WHERE id=?`,
    ).run(outcome, now, now, id);
    this.#event(id, 'done', this.#stageOf(id), outcome);
  }

  scheduleRetry(id: JobId, at: number, errorCode: string, message: string): void {
    this.#prepare(
      `UPDATE jobs SET state='retrying', next_attempt_at=?, error_code=?, error_message=?, updated_at=? WHERE id=?`,
    ).run(at, errorCode, message, this.#now(), id);
    this.#event(id, 'retry-scheduled', this.#stageOf(id), `${errorCode}: ${message}`);
  }

  quarantine(id: JobId, errorCode: string, message: string): void {
    const now = this.#now();
    this.#prepare(
      `UPDATE jobs SET state='quarantined', outcome='quarantined', error_code=?, error_message=?, updated_at=?, finished_at=? WHERE id=?`,
    ).run(errorCode, message, now, now, id);
    this.#event(id, 'quarantined', this.#stageOf(id), `${errorCode}: ${message}`);
  }

  finishRun(id: JobId, run: RunRecord<InstanceFacts>, end: RunEnd): void {
    const facts: InstanceFacts = Object.assign({}, ...run.facts) as InstanceFacts;
    const stage = run.stages.at(-1)?.stage;
    this.#db.transaction(() => {
      if (stage !== undefined) {
        this.#prepare(`UPDATE jobs SET stage=? WHERE id=?`).run(stage, id);
        // One event for the whole way, with each stage's time: events stay bounded per run.
        this.#event(id, 'stages', stage, run.stages.map((s) => `${s.stage} ${String(s.ms)} ms`).join(', '));
      }
      if (run.facts.length > 0) this.recordFacts(id, facts);
      if (end.kind === 'done') this.complete(id, end.outcome);
      else if (end.kind === 'retry') this.scheduleRetry(id, end.at, end.errorCode, end.message);
      else this.quarantine(id, end.errorCode, end.message);
    })();
  }

  requeue(id: JobId): Job {
    const job = this.get(id);
    if (job === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `job ${id} does not exist`, { jobId: id });
    if (job.state === 'queued' || job.state === 'running') {
      throw new GatewayError('AIB_API_CONFLICT', `job ${id} is ${job.state}; only retrying, quarantined or done jobs can be retried`, { jobId: id, state: job.state });
    }
    const now = this.#now();
    this.#prepare(
      `UPDATE jobs SET state='queued', attempts=0, next_attempt_at=0, outcome=NULL, error_code=NULL, error_message=NULL,
         updated_at=?, finished_at=NULL WHERE id=?`).run(now, id);
    this.#event(id, 'requeued', job.stage, `was ${job.state}`);
    return this.get(id) ?? job;
  }

  recoverInterrupted(): number {
    const now = this.#now();
    const rows = this.#prepare(`SELECT id, stage FROM jobs WHERE state='running'`).all() as { id: number; stage: string }[];
    this.#db.transaction(() => {
      for (const row of rows) {
        this.#prepare(`UPDATE jobs SET state='queued', updated_at=? WHERE id=?`).run(now, row.id);
        this.#event(row.id, 'requeued', row.stage, 'interrupted by a gateway restart');
      }
    })();
    return rows.length;
  }

  get(id: JobId): Job | undefined {
    const row = this.#prepare(`SELECT * FROM jobs WHERE id=?`).get(id) as JobRow | undefined;
    return row === undefined ? undefined : toJob(row);
  }

  events(id: JobId): JobEvent[] {
    return this.#prepare(`SELECT at, event, stage, detail FROM job_events WHERE job_id=? ORDER BY at, rowid`).all(id) as JobEvent[];
  }

  list(query: JobQuery): { jobs: Job[]; total: number } {
    const { where, params } = jobFilter(query);
    const rows = this.#prepare(`SELECT * FROM jobs ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: query.limit, offset: query.offset }) as JobRow[];
    const total = (this.#prepare(`SELECT COUNT(*) AS n FROM jobs ${where}`).get(params) as { n: number }).n;
    return { jobs: rows.map(toJob), total };
  }

  remove(id: JobId): Job {
    const job = this.get(id);
    if (job === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `job ${id} does not exist`, { jobId: id });
    if (job.state === 'queued' || job.state === 'running') {
      throw new GatewayError('AIB_API_CONFLICT', `job ${id} is ${job.state}; only settled jobs can be deleted`, { jobId: id, state: job.state });
    }
    this.#db.transaction(() => {
      this.#prepare(`DELETE FROM job_events WHERE job_id=?`).run(id);
      this.#prepare(`DELETE FROM jobs WHERE id=?`).run(id);
    })();
    return job;
  }

  enqueueInstances(instanceIds: readonly OrthancInstanceId[], why: string): JobId[] {
    const now = this.#now();
    const find = this.#prepare(`SELECT id, state, stage FROM jobs WHERE instance_id=?`);
    // change_seq 0: the job did not come from the change log.
    const insert = this.#prepare(
      `INSERT INTO jobs (instance_id, change_seq, state, stage, created_at, updated_at) VALUES (?, 0, 'queued', 'received', ?, ?)`);
    const requeue = this.#prepare(
      `UPDATE jobs SET state='queued', attempts=0, next_attempt_at=0, outcome=NULL, error_code=NULL, error_message=NULL,
         created_at=?, updated_at=?, finished_at=NULL WHERE id=?`);
    return this.#db.transaction(() => instanceIds.map((instanceId) => {
      const row = find.get(instanceId) as { id: number; state: JobState; stage: string } | undefined;
      if (row === undefined) {
        const id = Number(insert.run(instanceId, now, now).lastInsertRowid);
        this.#event(id, 'received', 'received', why);
        return jobId(id);
      }
      if (row.state === 'done' || row.state === 'quarantined' || row.state === 'retrying') {
        // created_at restarts: latency is measured from this run, not the first store.
        requeue.run(now, now, row.id);
        this.#event(row.id, 'requeued', row.stage, `${why}, was ${row.state}`);
      }
      return jobId(row.id);
    }))();
  }

  eventsPerMinute(since: number): MinuteCount[] {
    return this.#prepare(
      `SELECT (at / 60000) * 60000 AS minute, event, COUNT(*) AS count FROM job_events
       WHERE at >= ? AND event IN ('done','quarantined','retry-scheduled') GROUP BY minute, event`).all(since) as MinuteCount[];
  }

  depths(): StageDepth[] {
    return this.#prepare(
      `SELECT state, stage, COUNT(*) AS count FROM jobs WHERE state IN ('queued','running','retrying') GROUP BY state, stage ORDER BY state, stage`,
    ).all() as StageDepth[];
  }

  durations(since: number): number[] {
    return (this.#prepare(`SELECT finished_at - created_at AS ms FROM jobs WHERE state='done' AND finished_at >= ?`)
      .all(since) as { ms: number }[]).map((r) => r.ms);
  }

  recentErrors(limit: number): ErrorEvent[] {
    return this.#prepare(
      `SELECT at, job_id AS id, event, detail FROM job_events WHERE event IN ('quarantined','retry-scheduled') ORDER BY at DESC, rowid DESC LIMIT ?`,
    ).all(limit) as ErrorEvent[];
  }

  countsByState(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const rows = this.#prepare(`SELECT state, COUNT(*) AS n FROM jobs GROUP BY state`).all() as { state: JobState; n: number }[];
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  nextRetryAt(): number | undefined {
    const row = this.#prepare(`SELECT MIN(next_attempt_at) AS at FROM jobs WHERE state IN ('queued','retrying')`).get() as { at: number | null };
    return row.at ?? undefined;
  }

  close(): void {
    this.#db.close();
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #stageOf(id: number): string {
    const row = this.#prepare(`SELECT stage FROM jobs WHERE id=?`).get(id) as { stage: string } | undefined;
    return row?.stage ?? 'unknown';
  }

  #event(id: number, event: string, stage: string, detail: string | null): void {
    this.#prepare(`INSERT INTO job_events (job_id, at, event, stage, detail) VALUES (?, ?, ?, ?, ?)`).run(id, this.#now(), event, stage, detail);
  }

  #meta(key: string): string | undefined {
    const row = this.#prepare(`SELECT value FROM meta WHERE key=?`).get(key) as { value: string } | undefined;
    return row?.value;
  }

  #setMeta(key: string, value: string): void {
    this.#prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`).run(key, value);
  }
}

/** WHERE clause and parameters for a job query's filters. */
function jobFilter(query: JobQuery): { where: string; params: Record<string, string | number> } {
  const clauses: string[] = [];
  const params: Record<string, string | number> = {};
  if (query.state !== undefined) { clauses.push('state = @state'); params['state'] = query.state; }
  if (query.modality !== undefined) { clauses.push('modality = @modality'); params['modality'] = query.modality; }
  if (query.createdFrom !== undefined) { clauses.push('created_at >= @createdFrom'); params['createdFrom'] = query.createdFrom; }
  if (query.createdTo !== undefined) { clauses.push('created_at < @createdTo'); params['createdTo'] = query.createdTo; }
  if (query.text !== undefined) {
    clauses.push(`(instance_id LIKE @text ESCAPE '\\' OR sop_instance_uid LIKE @text ESCAPE '\\'
      OR error_code LIKE @text ESCAPE '\\' OR error_message LIKE @text ESCAPE '\\')`);
    params['text'] = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  if (query.model !== undefined) {
    // The annotation tables share state.sqlite (annotation-store.ts).
    clauses.push(`EXISTS (SELECT 1 FROM annotation_members m JOIN annotations a ON a.id = m.annotation_id
      WHERE m.job_id = jobs.id AND a.model_id = @model)`);
    params['model'] = query.model;
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}
