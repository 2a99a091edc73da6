import Database from 'better-sqlite3';

import { isSliceGeometry, type SliceGeometry } from '../../core/slice-geometry';
import { ANNOTATION_STATES, type AnnotationState } from '../../core/work-states';
import { GatewayError } from '../gateway-errors';
import type { MemberEvidence } from './series-evidence';

/**
 * One run of one model over one unit: an image (unit 'instance') or a whole
 * series (unit 'series'). A series annotation collects its members as their
 * instance jobs finish de-identification and becomes due when the series is
 * complete: when every instance the headers announce has arrived, when its
 * slices close a volume and the sender has gone quiet (SeriesWatch), or when
 * Orthanc declares the series stable and all of its instances are in. A slice
 * arriving after the results went out re-opens it under the next revision:
 * new result UIDs, and the earlier results are removed once the new are in.
 */
// Defined in core (they are part of the REST contract the web UI reads); re-exported for the gateway.
export { ANNOTATION_STATES, type AnnotationState };

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
  /** 0 for the first results; +1 each time a late slice re-opens a delivered series (part of the result UIDs). */
  readonly revision: number;
}

export interface AnnotationMember {
  readonly jobId: number;
  readonly linkToken: string;
  readonly deidPath: string;
}

/** What an enrolment adds about the member: when it reached the bridge, and where it sits in its series. */
export interface MemberArrival extends AnnotationMember {
  /** Epoch ms: when its instance job was created from Orthanc's change. */
  readonly arrivedAt: number;
  readonly geometry: SliceGeometry | null;
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
  readonly member: MemberArrival;
}

/**
 * Columns added for evidence-based series completion (issue 14); a database
 * made before them gets them by ALTER TABLE (#migrate), so both lists serve
 * creation and migration alike.
 *  - revision: which results a series is on; member_changes / claimed_changes:
 *    members added in all, and as of the running attempt (a slice arriving
 *    during a run re-opens the series when the run ends);
 *  - arrived_at / geometry: the evidence SeriesWatch judges.
 */
const ANNOTATION_COLUMNS_V2 = [
  'revision INTEGER NOT NULL DEFAULT 0', 'member_changes INTEGER NOT NULL DEFAULT 0', 'claimed_changes INTEGER NOT NULL DEFAULT 0',
];
const MEMBER_COLUMNS_V2 = ['arrived_at INTEGER', 'geometry TEXT'];

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
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER, last_member_at INTEGER NOT NULL,
  ${ANNOTATION_COLUMNS_V2.join(', ')}
);
CREATE INDEX IF NOT EXISTS annotations_due ON annotations (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS annotations_series ON annotations (orthanc_series_id);
CREATE TABLE IF NOT EXISTS annotation_members (
  annotation_id INTEGER NOT NULL REFERENCES annotations(id),
  link_token TEXT NOT NULL, job_id INTEGER NOT NULL, deid_path TEXT NOT NULL,
  ${MEMBER_COLUMNS_V2.join(', ')},
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
  revision: number; member_changes: number; claimed_changes: number;
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
    revision: row.revision,
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
    this.#migrate();
  }

  /** Adds the columns a database made by an older version lacks (CREATE TABLE IF NOT EXISTS leaves it as it was). */
  #migrate(): void {
    const add = (table: string, columns: readonly string[]): void => {
      const have = new Set((this.#db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
      for (const column of columns) {
        if (!have.has(column.split(' ')[0] ?? '')) this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
      }
    };
    this.#db.transaction(() => {
      add('annotations', ANNOTATION_COLUMNS_V2);
      add('annotation_members', MEMBER_COLUMNS_V2);
    })();
  }

  /**
   * Adds a de-identified instance to the annotation of its unit (created on
   * first use) and says whether that annotation is now due. Idempotent: a
   * retried instance job enrols once. A member arriving after its series was
   * annotated re-opens the series: collecting again, judged again, and its
   * next results get new UIDs when the earlier ones were delivered.
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
        `INSERT INTO annotation_members (annotation_id, link_token, job_id, deid_path, arrived_at, geometry) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(annotation_id, link_token) DO UPDATE SET job_id = excluded.job_id, deid_path = excluded.deid_path,
           arrived_at = excluded.arrived_at, geometry = excluded.geometry`,
      ).run(id, e.member.linkToken, e.member.jobId, e.member.deidPath, e.member.arrivedAt,
        e.member.geometry === null ? null : JSON.stringify(e.member.geometry));
      if (!known) {
        this.#db.prepare(`UPDATE annotations SET last_member_at = ?, member_changes = member_changes + 1, updated_at = ? WHERE id = ?`).run(now, now, id);
      }
      if (e.expectedInstances !== undefined) {
        this.#db.prepare(`UPDATE annotations SET expected_instances = MAX(COALESCE(expected_instances, 0), ?) WHERE id = ? AND unit = 'series'`)
          .run(e.expectedInstances, id);
      }
      const before = this.#row(id);
      if ((before.state === 'done' || before.state === 'quarantined') && !known) {
        if (before.unit === 'series') this.#reopenSeries(id, `was ${before.state}: a slice arrived after the series was released`);
        else this.#reopen(id, before.state, 'a new instance of the unit arrived');
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

  /** Collecting series of unknown size: the ones SeriesWatch judges by their evidence. */
  collectingWithoutCount(): number[] {
    return (this.#db.prepare(`SELECT id FROM annotations WHERE state = 'collecting' AND unit = 'series' AND expected_instances IS NULL`).all() as
      { id: number }[]).map((r) => r.id);
  }

  /** The members' arrival times and geometry, while the series collects without a known size; otherwise undefined. */
  seriesEvidence(id: number): { annotation: Annotation; members: MemberEvidence[] } | undefined {
    const row = this.#db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as Row | undefined;
    if (row?.state !== 'collecting' || row.unit !== 'series' || row.expected_instances !== null) return undefined;
    const members = (this.#db.prepare(`SELECT arrived_at, geometry FROM annotation_members WHERE annotation_id = ?`).all(id) as
      { arrived_at: number | null; geometry: string | null }[]).map((m): MemberEvidence => {
      const geometry: unknown = m.geometry === null ? null : JSON.parse(m.geometry);
      // Members enrolled before arrival times were kept count as arriving with the last one: no early release on a guess.
      return { arrivedAt: m.arrived_at ?? row.last_member_at, geometry: isSliceGeometry(geometry) ? geometry : null };
    });
    return { annotation: toAnnotation(row), members };
  }

  /**
   * SeriesWatch judged the series complete with `members` members: queued,
   * unless it changed meanwhile (another member, a release by other means).
   */
  releaseOnEvidence(id: number, members: number, detail: string): boolean {
    return this.#db.transaction(() => {
      const row = this.#row(id);
      if (row.state !== 'collecting' || row.expected_instances !== null || row.members !== members) return false;
      this.#event(id, 'series-complete', 'collecting', detail);
      this.#queue(id, `complete by its evidence: ${members} instance(s)`);
      return true;
    })();
  }

  /** Earlier results removed from the archive once the corrected ones were stored. */
  recordSuperseded(id: number, sopInstanceUids: readonly string[], removed: number, note: string): void {
    const row = this.#row(id);
    this.#event(id, 'superseded', row.stage,
      `revision ${row.revision} replaces ${sopInstanceUids.length} earlier result(s), ${removed} deleted from Orthanc${note}: ${sopInstanceUids.join(', ')}`);
  }

  claimNext(now: number): Annotation | undefined {
    return this.#db.transaction(() => {
      const row = this.#db.prepare(`${SELECT} WHERE a.state IN ('queued','retrying') AND a.next_attempt_at <= ? ORDER BY a.next_attempt_at, a.id LIMIT 1`)
        .get(now) as Row | undefined;
      if (row === undefined) return undefined;
      this.#db.prepare(`UPDATE annotations SET state='running', attempts=attempts+1, claimed_changes=member_changes, updated_at=? WHERE id=?`).run(now, row.id);
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

  /** Done; a series that gained a slice while it ran (its results miss that slice) is re-opened at once. */
  complete(id: number, outcome: string): void {
    const now = this.#now();
    this.#db.transaction(() => {
      this.#db.prepare(`UPDATE annotations SET state='done', outcome=?, error_code=NULL, error_message=NULL, updated_at=?, finished_at=? WHERE id=?`)
        .run(outcome, now, now, id);
      const row = this.#row(id);
      this.#event(id, 'done', row.stage, outcome);
      if (row.unit === 'series' && row.member_changes > row.claimed_changes) {
        this.#reopenSeries(id, `${row.member_changes - row.claimed_changes} slice(s) arrived while it ran`);
        this.#releaseIfComplete(id);
      }
    })();
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
       JOIN annotation_members m ON m.annotation_id = a.id JOIN work_items j ON j.id = m.job_id
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

  /**
   * Back to collecting after a late slice: the series is judged again before
   * it runs. Delivered results are not this series any more, so the next ones
   * get new UIDs (revision + 1) and replace them.
   */
  #reopenSeries(id: number, why: string): void {
    const row = this.#row(id);
    const bump = row.results !== '[]' ? 1 : 0;
    this.#db.prepare(
      `UPDATE annotations SET state='collecting', stage='collecting', attempts=0, next_attempt_at=0, outcome=NULL, error_code=NULL, error_message=NULL,
         revision=revision+?, updated_at=?, finished_at=NULL WHERE id=?`).run(bump, this.#now(), id);
    this.#event(id, 'reopened', 'collecting', `${why}${bump === 1 ? `; its next results are revision ${row.revision + 1}` : ''}`);
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
