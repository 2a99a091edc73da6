import Database from 'better-sqlite3';

import { GatewayError } from '../gateway-errors';

/**
 * One run of one model over one unit: an image (unit 'instance') or a whole
 * series (unit 'series'). A series annotation collects its members as their
 * instance jobs finish de-identification and becomes due when the series is
 * complete: when every instance the headers announce has arrived, or when
 * Orthanc declares the series stable and all of its instances are in.
 */
export const ANNOTATION_STATES = ['collecting', 'queued', 'running', 'retrying', 'done', 'quarantined'] as const;
export type AnnotationState = (typeof ANNOTATION_STATES)[number];

export interface Annotation {
  readonly id: number;
  readonly unitKey: string;
  readonly unit: 'instance' | 'series';
  /** Original (PHI-zone) UIDs and Orthanc's series id: the study results go back to. */
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly orthancSeriesId: string;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly expectedInstances: number | null;
  readonly members: number;
  readonly state: AnnotationState;
  readonly stage: string;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly outcome: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** SOP Instance UIDs of the delivered results (original study). */
  readonly results: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** When the last member arrived. */
  readonly lastMemberAt: number;
}

export interface AnnotationMember {
  readonly jobId: number;
  readonly linkToken: string;
  readonly deidPath: string;
}

export interface AnnotationFacts {
  readonly results?: readonly string[];
}

export interface Enrolment {
  readonly unit: 'instance' | 'series';
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly orthancSeriesId: string;
  readonly model: { readonly id: string; readonly version: string };
  readonly expectedInstances: number | undefined;
  readonly member: AnnotationMember;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS annotations (
  id INTEGER PRIMARY KEY,
  unit_key TEXT NOT NULL UNIQUE,
  unit TEXT NOT NULL CHECK (unit IN ('instance','series')),
  study_instance_uid TEXT NOT NULL, series_instance_uid TEXT NOT NULL, orthanc_series_id TEXT NOT NULL,
  model_id TEXT NOT NULL, model_version TEXT NOT NULL,
  expected_instances INTEGER,
  state TEXT NOT NULL CHECK (state IN (${ANNOTATION_STATES.map((s) => `'${s}'`).join(',')})),
  stage TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  outcome TEXT, error_code TEXT, error_message TEXT, results TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER, last_member_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS annotations_due ON annotations (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS annotations_series ON annotations (orthanc_series_id);
CREATE TABLE IF NOT EXISTS annotation_members (
  annotation_id INTEGER NOT NULL REFERENCES annotations(id),
  link_token TEXT NOT NULL, job_id INTEGER NOT NULL, deid_path TEXT NOT NULL,
  PRIMARY KEY (annotation_id, link_token)
);
CREATE TABLE IF NOT EXISTS annotation_events (
  annotation_id INTEGER NOT NULL REFERENCES annotations(id),
  at INTEGER NOT NULL, event TEXT NOT NULL, stage TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS annotation_events_annotation ON annotation_events (annotation_id, at);
CREATE TABLE IF NOT EXISTS delivered_results (
  sop_instance_uid TEXT PRIMARY KEY,
  annotation_id INTEGER NOT NULL REFERENCES annotations(id),
  recorded_at INTEGER NOT NULL
);
`;

interface Row {
  id: number; unit_key: string; unit: 'instance' | 'series'; study_instance_uid: string; series_instance_uid: string;
  orthanc_series_id: string; model_id: string; model_version: string; expected_instances: number | null;
  state: AnnotationState; stage: string; attempts: number; next_attempt_at: number;
  outcome: string | null; error_code: string | null; error_message: string | null; results: string;
  created_at: number; updated_at: number; finished_at: number | null; last_member_at: number; members: number;
}

const SELECT = `SELECT a.*, (SELECT COUNT(*) FROM annotation_members m WHERE m.annotation_id = a.id) AS members FROM annotations a`;

function toAnnotation(row: Row): Annotation {
  const results: unknown = JSON.parse(row.results);
  return {
    id: row.id, unitKey: row.unit_key, unit: row.unit, studyInstanceUid: row.study_instance_uid,
    seriesInstanceUid: row.series_instance_uid, orthancSeriesId: row.orthanc_series_id,
    modelId: row.model_id, modelVersion: row.model_version, expectedInstances: row.expected_instances, members: row.members,
    state: row.state, stage: row.stage, attempts: row.attempts, nextAttemptAt: row.next_attempt_at,
    outcome: row.outcome, errorCode: row.error_code, errorMessage: row.error_message,
    results: Array.isArray(results) ? results.filter((r): r is string => typeof r === 'string') : [],
    createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at, lastMemberAt: row.last_member_at,
  };
}

/** Annotations in state.sqlite (PHI zone: it holds original UIDs), beside the instance jobs. */
export class AnnotationStore {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(path: string, now: () => number = Date.now) {
    this.#db = new Database(path);
    this.#now = now;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
  }

  /**
   * Adds a de-identified instance to the annotation of its unit (created on
   * first use) and says whether that annotation is now due. Idempotent: a
   * retried instance job enrols once. A member arriving after its series was
   * annotated queues the series again (the results keep their UIDs).
   */
  enrol(e: Enrolment): { annotation: Annotation; due: boolean } {
    const now = this.#now();
    const unitKey = e.unit === 'series'
      ? `series:${e.seriesInstanceUid}:${e.model.id}@${e.model.version}`
      : `instance:${e.sopInstanceUid}:${e.model.id}@${e.model.version}`;
    return this.#db.transaction(() => {
      this.#db.prepare(
        `INSERT INTO annotations (unit_key, unit, study_instance_uid, series_instance_uid, orthanc_series_id, model_id, model_version,
           expected_instances, state, stage, created_at, updated_at, last_member_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'collecting', 'collecting', ?, ?, ?) ON CONFLICT(unit_key) DO NOTHING`,
      ).run(unitKey, e.unit, e.studyInstanceUid, e.seriesInstanceUid, e.orthancSeriesId, e.model.id, e.model.version,
        e.unit === 'instance' ? 1 : e.expectedInstances ?? null, now, now, now);
      const id = (this.#db.prepare(`SELECT id FROM annotations WHERE unit_key = ?`).get(unitKey) as { id: number }).id;
      const known = this.#db.prepare(`SELECT 1 FROM annotation_members WHERE annotation_id = ? AND link_token = ?`).get(id, e.member.linkToken) !== undefined;
      this.#db.prepare(
        `INSERT INTO annotation_members (annotation_id, link_token, job_id, deid_path) VALUES (?, ?, ?, ?)
         ON CONFLICT(annotation_id, link_token) DO UPDATE SET job_id = excluded.job_id, deid_path = excluded.deid_path`,
      ).run(id, e.member.linkToken, e.member.jobId, e.member.deidPath);
      if (!known) this.#db.prepare(`UPDATE annotations SET last_member_at = ?, updated_at = ? WHERE id = ?`).run(now, now, id);
      if (e.expectedInstances !== undefined) {
        this.#db.prepare(`UPDATE annotations SET expected_instances = MAX(COALESCE(expected_instances, 0), ?) WHERE id = ? AND unit = 'series'`)
          .run(e.expectedInstances, id);
      }
      const before = this.#row(id);
      if ((before.state === 'done' || before.state === 'quarantined') && !known) {
        this.#reopen(id, before.state, 'a new instance of the unit arrived');
      }
      const due = this.#releaseIfComplete(id);
      return { annotation: toAnnotation(this.#row(id)), due };
    })();
  }

  /**
   * Orthanc says the series is stable and holds `instances` instances: from
   * now on that is the count to wait for, unless the headers announced more.
   */
  seriesStable(orthancSeriesId: string, instances: number): number[] {
    return this.#db.transaction(() => {
      const rows = this.#db.prepare(`SELECT id FROM annotations WHERE orthanc_series_id = ? AND state = 'collecting'`).all(orthancSeriesId) as { id: number }[];
      const released: number[] = [];
      for (const { id } of rows) {
        this.#db.prepare(`UPDATE annotations SET expected_instances = MAX(COALESCE(expected_instances, 0), ?), updated_at = ? WHERE id = ?`)
          .run(instances, this.#now(), id);
        this.#event(id, 'series-stable', 'collecting', `Orthanc: ${instances} instance(s)`);
        if (this.#releaseIfComplete(id)) released.push(id);
      }
      return released;
    })();
  }

  /**
   * A series that stopped growing short of its count (an instance quarantined,
   * deleted, or never sent) is annotated with what arrived, after `quietMs`
   * without a new member; the outcome says how many were missing.
   */
  releaseQuiet(quietMs: number): number[] {
    const cutoff = this.#now() - quietMs;
    const rows = this.#db.prepare(
      `SELECT id FROM annotations WHERE state = 'collecting' AND expected_instances IS NOT NULL AND last_member_at <= ?`).all(cutoff) as { id: number }[];
    for (const { id } of rows) this.#queue(id, 'no new instance for a while: annotating the instances that arrived');
    return rows.map((r) => r.id);
  }

  /** Collecting series whose count is unknown and that have been quiet: the caller asks Orthanc whether they are stable. */
  quietWithoutCount(quietMs: number): Annotation[] {
    const cutoff = this.#now() - quietMs;
    const rows = this.#db.prepare(`${SELECT} WHERE a.state = 'collecting' AND a.expected_instances IS NULL AND a.last_member_at <= ?`).all(cutoff) as Row[];
    return rows.map(toAnnotation);
  }

  claimNext(now: number): Annotation | undefined {
    return this.#db.transaction(() => {
      const row = this.#db.prepare(`${SELECT} WHERE a.state IN ('queued','retrying') AND a.next_attempt_at <= ? ORDER BY a.next_attempt_at, a.id LIMIT 1`)
        .get(now) as Row | undefined;
      if (row === undefined) return undefined;
      this.#db.prepare(`UPDATE annotations SET state='running', attempts=attempts+1, updated_at=? WHERE id=?`).run(now, row.id);
      this.#event(row.id, 'started', row.stage, `attempt ${row.attempts + 1}`);
      return toAnnotation({ ...row, state: 'running', attempts: row.attempts + 1, updated_at: now });
    })();
  }

  setStage(id: number, stage: string): void {
    this.#db.prepare(`UPDATE annotations SET stage=?, updated_at=? WHERE id=?`).run(stage, this.#now(), id);
    this.#event(id, 'stage', stage, null);
  }

  recordFacts(id: number, facts: AnnotationFacts): void {
    if (facts.results !== undefined) {
      this.#db.prepare(`UPDATE annotations SET results=?, updated_at=? WHERE id=?`).run(JSON.stringify(facts.results), this.#now(), id);
    }
  }

  complete(id: number, outcome: string): void {
    const now = this.#now();
    this.#db.prepare(`UPDATE annotations SET state='done', outcome=?, error_code=NULL, error_message=NULL, updated_at=?, finished_at=? WHERE id=?`)
      .run(outcome, now, now, id);
    this.#event(id, 'done', this.#row(id).stage, outcome);
  }

  scheduleRetry(id: number, at: number, errorCode: string, message: string): void {
    this.#db.prepare(`UPDATE annotations SET state='retrying', next_attempt_at=?, error_code=?, error_message=?, updated_at=? WHERE id=?`)
      .run(at, errorCode, message, this.#now(), id);
    this.#event(id, 'retry-scheduled', this.#row(id).stage, `${errorCode}: ${message}`);
  }

  quarantine(id: number, errorCode: string, message: string): void {
    const now = this.#now();
    this.#db.prepare(`UPDATE annotations SET state='quarantined', outcome='quarantined', error_code=?, error_message=?, updated_at=?, finished_at=? WHERE id=?`)
      .run(errorCode, message, now, now, id);
    this.#event(id, 'quarantined', this.#row(id).stage, `${errorCode}: ${message}`);
  }

  /** Puts an annotation back in the queue (API retry), whatever it was waiting for. */
  requeue(id: number): Annotation {
    const annotation = this.get(id);
    if (annotation === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `annotation ${id} does not exist`, { annotationId: id });
    if (annotation.state === 'queued' || annotation.state === 'running') {
      throw new GatewayError('AIB_API_CONFLICT', `annotation ${id} is ${annotation.state}; only collecting, retrying, quarantined or done annotations can be retried`,
        { annotationId: id, state: annotation.state });
    }
    this.#reopen(id, annotation.state, 'retry requested');
    return this.get(id) ?? annotation;
  }

  recoverInterrupted(): number {
    const rows = this.#db.prepare(`SELECT id, stage FROM annotations WHERE state='running'`).all() as { id: number; stage: string }[];
    this.#db.transaction(() => {
      for (const row of rows) {
        this.#db.prepare(`UPDATE annotations SET state='queued', updated_at=? WHERE id=?`).run(this.#now(), row.id);
        this.#event(row.id, 'requeued', row.stage, 'interrupted by a gateway restart');
      }
    })();
    return rows.length;
  }

  get(id: number): Annotation | undefined {
    const row = this.#db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as Row | undefined;
    return row === undefined ? undefined : toAnnotation(row);
  }

  members(id: number): AnnotationMember[] {
    return (this.#db.prepare(`SELECT job_id, link_token, deid_path FROM annotation_members WHERE annotation_id = ? ORDER BY deid_path`).all(id) as
      { job_id: number; link_token: string; deid_path: string }[]).map((r) => ({ jobId: r.job_id, linkToken: r.link_token, deidPath: r.deid_path }));
  }

  /** The annotations an instance job's de-identified copy belongs to. */
  forJob(jobId: number): Annotation[] {
    const rows = this.#db.prepare(`${SELECT} WHERE a.id IN (SELECT annotation_id FROM annotation_members WHERE job_id = ?) ORDER BY a.id`).all(jobId) as Row[];
    return rows.map(toAnnotation);
  }

  events(id: number): { at: number; event: string; stage: string; detail: string | null }[] {
    return this.#db.prepare(`SELECT at, event, stage, detail FROM annotation_events WHERE annotation_id=? ORDER BY at, rowid`).all(id) as
      { at: number; event: string; stage: string; detail: string | null }[];
  }

  list(query: { state?: AnnotationState; limit: number; offset: number }): { annotations: Annotation[]; total: number } {
    const where = query.state === undefined ? '' : 'WHERE a.state = @state';
    const params = { state: query.state ?? null, limit: query.limit, offset: query.offset };
    const rows = this.#db.prepare(`${SELECT} ${where} ORDER BY a.id DESC LIMIT @limit OFFSET @offset`).all(params) as Row[];
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n FROM annotations a ${where}`).get(params) as { n: number }).n;
    return { annotations: rows.map(toAnnotation), total };
  }

  countsByState(): Record<AnnotationState, number> {
    const counts = Object.fromEntries(ANNOTATION_STATES.map((s) => [s, 0])) as Record<AnnotationState, number>;
    for (const row of this.#db.prepare(`SELECT state, COUNT(*) AS n FROM annotations GROUP BY state`).all() as { state: AnnotationState; n: number }[]) {
      counts[row.state] = row.n;
    }
    return counts;
  }

  /** 'stage' (annotated: the model ran, relink starts), 'done' (delivered) and error events per minute since `since`. */
  eventsPerMinute(since: number): { minute: number; event: string; count: number }[] {
    return this.#db.prepare(
      `SELECT (at / 60000) * 60000 AS minute, CASE WHEN event = 'stage' THEN 'annotated' ELSE event END AS event, COUNT(*) AS count
       FROM annotation_events WHERE at >= ? AND (event IN ('done','quarantined','retry-scheduled') OR (event = 'stage' AND stage = 'relink'))
       GROUP BY minute, 2`).all(since) as { minute: number; event: string; count: number }[];
  }

  /** Unfinished annotations per state and stage. */
  depths(): { state: string; stage: string; count: number }[] {
    return this.#db.prepare(
      `SELECT state, stage, COUNT(*) AS count FROM annotations WHERE state IN ('collecting','queued','running','retrying')
       GROUP BY state, stage ORDER BY state, stage`).all() as { state: string; stage: string; count: number }[];
  }

  /** Store → result in ms for annotations delivered since `since`: from the first member's job creation (jobs share this file). */
  deliveryDurations(since: number): number[] {
    return (this.#db.prepare(
      `SELECT a.finished_at - MIN(j.created_at) AS ms FROM annotations a
       JOIN annotation_members m ON m.annotation_id = a.id JOIN jobs j ON j.id = m.job_id
       WHERE a.state = 'done' AND a.finished_at >= ? GROUP BY a.id`).all(since) as { ms: number }[]).map((r) => r.ms);
  }

  /** Unfinished annotations, oldest first: what the dashboard shows as progress. */
  unfinished(limit: number): Annotation[] {
    return (this.#db.prepare(`${SELECT} WHERE a.state IN ('collecting','queued','running','retrying') ORDER BY a.id LIMIT ?`).all(limit) as Row[])
      .map(toAnnotation);
  }

  recentErrors(limit: number): { at: number; id: number; event: string; detail: string | null }[] {
    return this.#db.prepare(
      `SELECT at, annotation_id AS id, event, detail FROM annotation_events WHERE event IN ('quarantined','retry-scheduled')
       ORDER BY at DESC, rowid DESC LIMIT ?`).all(limit) as { at: number; id: number; event: string; detail: string | null }[];
  }

  nextRetryAt(): number | undefined {
    const row = this.#db.prepare(`SELECT MIN(next_attempt_at) AS at FROM annotations WHERE state IN ('queued','retrying')`).get() as { at: number | null };
    return row.at ?? undefined;
  }

  close(): void {
    this.#db.close();
  }

  #row(id: number): Row {
    const row = this.#db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as Row | undefined;
    if (row === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `annotation ${id} does not exist`, { annotationId: id });
    return row;
  }

  #releaseIfComplete(id: number): boolean {
    const row = this.#row(id);
    if (row.state !== 'collecting' || row.expected_instances === null || row.members < row.expected_instances) return false;
    this.#queue(id, `${row.members} of ${row.expected_instances} instance(s) in`);
    return true;
  }

  #queue(id: number, why: string): void {
    this.#db.prepare(`UPDATE annotations SET state='queued', stage='queued', next_attempt_at=0, updated_at=? WHERE id=?`).run(this.#now(), id);
    this.#event(id, 'queued', 'collecting', why);
  }

  #reopen(id: number, was: AnnotationState, why: string): void {
    this.#db.prepare(
      `UPDATE annotations SET state='queued', stage='queued', attempts=0, next_attempt_at=0, outcome=NULL, error_code=NULL, error_message=NULL,
         updated_at=?, finished_at=NULL WHERE id=?`).run(this.#now(), id);
    this.#event(id, 'requeued', 'queued', `was ${was}: ${why}`);
  }

  #event(id: number, event: string, stage: string, detail: string | null): void {
    this.#db.prepare(`INSERT INTO annotation_events (annotation_id, at, event, stage, detail) VALUES (?, ?, ?, ?, ?)`).run(id, this.#now(), event, stage, detail);
  }

  /**
   * Records the SOP Instance UIDs of results about to be stored, before the
   * STOW-RS: Orthanc reports them as new instances, and the instance pipeline
   * must recognise them (ownResult) however soon the change arrives.
   */
  recordDeliveries(annotationId: number, sopInstanceUids: readonly string[]): void {
    const insert = this.#db.prepare(`INSERT OR IGNORE INTO delivered_results (sop_instance_uid, annotation_id, recorded_at) VALUES (?, ?, ?)`);
    const now = this.#now();
    this.#db.transaction(() => { for (const uid of sopInstanceUids) insert.run(uid, annotationId, now); })();
  }

  /** The annotation whose result this SOP Instance UID is, if the bridge stored it. */
  ownResult(sopInstanceUid: string): number | undefined {
    const row = this.#db.prepare(`SELECT annotation_id FROM delivered_results WHERE sop_instance_uid = ?`).get(sopInstanceUid) as { annotation_id: number } | undefined;
    return row?.annotation_id;
  }
}
