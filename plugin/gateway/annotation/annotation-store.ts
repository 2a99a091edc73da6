import { isSliceGeometry, type SliceGeometry } from '../../core/slice-geometry';
import { ANNOTATION_STATES, type AnnotationState } from '../../core/work-states';
import { GatewayError } from '../gateway-errors';
import type { FailureResult, WorkQueue } from '../work-queue/work-queue';
import type { SqlConnection } from '../work-queue/sql-connection';
import type { RunSummary, WorkFailure } from '../work-queue/work-item';
import type { PipelineQueue } from '../pipeline';
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

export const ANNOTATION_KIND = 'annotation';

interface Row {
  id: number; key: string; unit: 'instance' | 'series'; study_instance_uid: string; series_instance_uid: string;
  orthanc_series_id: string; model_id: string; model_version: string; expected_instances: number | null;
  state: AnnotationState; stage: string; attempts: number; next_attempt_at: number;
  outcome: string | null; error_code: string | null; error_message: string | null; results: string;
  created_at: number; updated_at: number; finished_at: number | null; last_member_at: number; members: number;
  revision: number; member_changes: number; claimed_changes: number;
}

/** An annotation: its work item (state, attempts, outcome) joined with its unit (what it annotates) and its member count. */
const SELECT = `SELECT w.id, w.key, w.state, w.stage, w.attempts, w.next_attempt_at, w.outcome, w.error_code, w.error_message,
  w.created_at, w.updated_at, w.finished_at, u.unit, u.study_instance_uid, u.series_instance_uid, u.orthanc_series_id, u.model_id,
  u.model_version, u.expected_instances, u.results, u.last_member_at, u.revision, u.member_changes, u.claimed_changes,
  (SELECT COUNT(*) FROM annotation_members m WHERE m.item_id = w.id) AS members
  FROM work_items w JOIN annotation_units u ON u.item_id = w.id`;

function toAnnotation(row: Row): Annotation {
  const results: unknown = JSON.parse(row.results);
  return {
    id: row.id, unitKey: row.key, unit: row.unit, studyInstanceUid: row.study_instance_uid,
    seriesInstanceUid: row.series_instance_uid, orthancSeriesId: row.orthanc_series_id,
    modelId: row.model_id, modelVersion: row.model_version, expectedInstances: row.expected_instances, members: row.members,
    state: row.state, stage: row.stage, attempts: row.attempts, nextAttemptAt: row.next_attempt_at,
    outcome: row.outcome, errorCode: row.error_code, errorMessage: row.error_message,
    results: Array.isArray(results) ? results.filter((r): r is string => typeof r === 'string') : [],
    createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at, lastMemberAt: row.last_member_at,
    revision: row.revision,
  };
}

/** `expected_instances` raised to at least `?` (bound twice): MAX() of SQLite is GREATEST() in PostgreSQL. */
const RAISE_EXPECTED = `expected_instances = CASE WHEN COALESCE(expected_instances, 0) > ? THEN expected_instances ELSE ? END`;

/**
 * Annotations: the work queue's 'annotation' items (key: the unit key), a
 * series one held in 'collecting' until its series is complete, with their
 * units, members and delivered results in the queue's database (PHI zone:
 * original UIDs). Claims, leases and the retry policy are the queue's.
 */
export class AnnotationStore {
  readonly #queue: WorkQueue;
  readonly #sql: SqlConnection;
  readonly #now: () => number;

  /** `sql`: the queue's connection (the annotation tables live there). */
  constructor(queue: WorkQueue, sql: SqlConnection, now: () => number = Date.now) {
    this.#queue = queue;
    this.#sql = sql;
    this.#now = now;
  }

  /**
   * Adds a de-identified instance to the annotation of its unit (created on
   * first use) and says whether that annotation is now due. Idempotent: a
   * retried instance job enrols once. A member arriving after its series was
   * annotated re-opens the series: collecting again, judged again, and its
   * next results get new UIDs when the earlier ones were delivered.
   */
  async enrol(e: Enrolment): Promise<{ annotation: Annotation; due: boolean }> {
    const unitKey = e.unit === 'series'
      ? `series:${e.seriesInstanceUid}:${e.model.id}@${e.model.version}`
      : `instance:${e.sopInstanceUid}:${e.model.id}@${e.model.version}`;
    return this.#queue.transaction(async (queue, tx) => {
      const now = this.#now();
      const { item, created } = await queue.enqueue({ kind: ANNOTATION_KIND, key: unitKey, payload: {}, state: 'collecting', stage: 'collecting',
        detail: `${e.unit} annotation by ${e.model.id}@${e.model.version}` });
      const id = item.id;
      if (created) {
        await tx.run(
          `INSERT INTO annotation_units (item_id, unit, study_instance_uid, series_instance_uid, orthanc_series_id, model_id, model_version,
             expected_instances, last_member_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, e.unit, e.studyInstanceUid, e.seriesInstanceUid, e.orthancSeriesId, e.model.id, e.model.version,
            e.unit === 'instance' ? 1 : e.expectedInstances ?? null, now]);
      }
      const known = (await tx.all(`SELECT 1 FROM annotation_members WHERE item_id = ? AND link_token = ?`, [id, e.member.linkToken])).length > 0;
      await tx.run(
        `INSERT INTO annotation_members (item_id, link_token, job_id, deid_path, arrived_at, geometry) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (item_id, link_token) DO UPDATE SET job_id = excluded.job_id, deid_path = excluded.deid_path,
           arrived_at = excluded.arrived_at, geometry = excluded.geometry`,
        [id, e.member.linkToken, e.member.jobId, e.member.deidPath, e.member.arrivedAt, e.member.geometry === null ? null : JSON.stringify(e.member.geometry)]);
      if (!known) await tx.run(`UPDATE annotation_units SET last_member_at = ?, member_changes = member_changes + 1 WHERE item_id = ?`, [now, id]);
      if (e.expectedInstances !== undefined) {
        await tx.run(`UPDATE annotation_units SET ${RAISE_EXPECTED} WHERE item_id = ? AND unit = 'series'`, [e.expectedInstances, e.expectedInstances, id]);
      }
      const before = await this.#row(tx, id);
      if ((before.state === 'done' || before.state === 'quarantined') && !known) {
        if (before.unit === 'series') await this.#reopenSeries(queue, tx, id, `was ${before.state}: a slice arrived after the series was released`);
        else await queue.requeue(id, 'a new instance of the unit arrived');
      }
      const due = await this.#releaseIfComplete(queue, tx, id);
      return { annotation: toAnnotation(await this.#row(tx, id)), due };
    });
  }

  /**
   * Orthanc says the series is stable and holds `instances` instances: from
   * now on that is the count to wait for, unless the headers announced more.
   */
  async seriesStable(orthancSeriesId: string, instances: number): Promise<number[]> {
    return this.#queue.transaction(async (queue, tx) => {
      const rows = await tx.all<{ id: number }>(
        `SELECT w.id FROM work_items w JOIN annotation_units u ON u.item_id = w.id WHERE u.orthanc_series_id = ? AND w.state = 'collecting'`, [orthancSeriesId]);
      const released: number[] = [];
      for (const { id } of rows) {
        await tx.run(`UPDATE annotation_units SET ${RAISE_EXPECTED} WHERE item_id = ?`, [instances, instances, id]);
        await queue.addEvent(id, 'series-stable', `Orthanc: ${instances} instance(s)`, 'collecting');
        if (await this.#releaseIfComplete(queue, tx, id)) released.push(id);
      }
      return released;
    });
  }

  /**
   * A series that stopped growing short of its count (an instance quarantined,
   * deleted, or never sent) is annotated with what arrived, after `quietMs`
   * without a new member; the outcome says how many were missing.
   */
  async releaseQuiet(quietMs: number): Promise<number[]> {
    return this.#queue.transaction(async (queue, tx) => {
      const rows = await tx.all<{ id: number }>(
        `SELECT w.id FROM work_items w JOIN annotation_units u ON u.item_id = w.id
         WHERE w.kind = ? AND w.state = 'collecting' AND u.expected_instances IS NOT NULL AND u.last_member_at <= ?`, [ANNOTATION_KIND, this.#now() - quietMs]);
      for (const { id } of rows) await this.#release(queue, id, 'no new instance for a while: annotating the instances that arrived');
      return rows.map((r) => r.id);
    });
  }

  /** Collecting series whose count is unknown and that have been quiet: the caller asks Orthanc whether they are stable. */
  async quietWithoutCount(quietMs: number): Promise<Annotation[]> {
    const rows = await this.#sql.all<Row>(`${SELECT} WHERE w.kind = ? AND w.state = 'collecting' AND u.expected_instances IS NULL AND u.last_member_at <= ?`,
      [ANNOTATION_KIND, this.#now() - quietMs]);
    return rows.map(toAnnotation);
  }

  /** Collecting series of unknown size: the ones SeriesWatch judges by their evidence. */
  async collectingWithoutCount(): Promise<number[]> {
    return (await this.#sql.all<{ id: number }>(
      `SELECT w.id FROM work_items w JOIN annotation_units u ON u.item_id = w.id
       WHERE w.kind = ? AND w.state = 'collecting' AND u.unit = 'series' AND u.expected_instances IS NULL`, [ANNOTATION_KIND])).map((r) => r.id);
  }

  /** The members' arrival times and geometry, while the series collects without a known size; otherwise undefined. */
  async seriesEvidence(id: number): Promise<{ annotation: Annotation; members: MemberEvidence[] } | undefined> {
    const row = (await this.#sql.all<Row>(`${SELECT} WHERE w.id = ?`, [id]))[0];
    if (row?.state !== 'collecting' || row.unit !== 'series' || row.expected_instances !== null) return undefined;
    const members = (await this.#sql.all<{ arrived_at: number | null; geometry: string | null }>(
      `SELECT arrived_at, geometry FROM annotation_members WHERE item_id = ?`, [id])).map((m): MemberEvidence => {
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
  async releaseOnEvidence(id: number, members: number, detail: string): Promise<boolean> {
    return this.#queue.transaction(async (queue, tx) => {
      const row = await this.#row(tx, id);
      if (row.state !== 'collecting' || row.expected_instances !== null || row.members !== members) return false;
      await queue.addEvent(id, 'series-complete', detail, 'collecting');
      await this.#release(queue, id, `complete by its evidence: ${members} instance(s)`);
      return true;
    });
  }

  /** Earlier results removed from the archive once the corrected ones were stored. */
  async recordSuperseded(id: number, sopInstanceUids: readonly string[], removed: number, note: string): Promise<void> {
    const row = await this.#row(this.#sql, id);
    await this.#queue.addEvent(id, 'superseded',
      `revision ${row.revision} replaces ${sopInstanceUids.length} earlier result(s), ${removed} deleted from Orthanc${note}: ${sopInstanceUids.join(', ')}`);
  }

  /**
   * The annotation pipeline's queue: a claim notes how many members the run
   * starts with; a run's results are written with its end, and a series that
   * gained a slice while it ran (its results miss that slice) is re-opened at once.
   */
  pipelineQueue(): PipelineQueue<Annotation> {
    return {
      claim: (owner, leaseMs) => this.#queue.transaction(async (queue, tx) => {
        const item = await queue.claim(ANNOTATION_KIND, owner, leaseMs);
        if (item === undefined) return undefined;
        await tx.run(`UPDATE annotation_units SET claimed_changes = member_changes WHERE item_id = ?`, [item.id]);
        return toAnnotation(await this.#row(tx, item.id));
      }),
      heartbeat: (id, owner, leaseMs) => this.#queue.heartbeat(id, owner, leaseMs),
      complete: (annotation, owner, outcome, run) => this.#queue.transaction(async (queue, tx) => {
        await this.#recordResults(tx, annotation.id, run);
        await queue.complete(annotation.id, owner, outcome, { stages: run.stages });
        const row = await this.#row(tx, annotation.id);
        if (row.unit === 'series' && row.member_changes > row.claimed_changes) {
          await this.#reopenSeries(queue, tx, annotation.id, `${row.member_changes - row.claimed_changes} slice(s) arrived while it ran`);
          await this.#releaseIfComplete(queue, tx, annotation.id);
        }
      }),
      fail: (annotation: Annotation, owner: string, failure: WorkFailure, run: RunSummary): Promise<FailureResult> =>
        this.#queue.fail(annotation.id, owner, failure, { stages: run.stages }),
      nextDueAt: () => this.#queue.nextDueAt(ANNOTATION_KIND),
    };
  }

  /** Puts an annotation back in the queue (API retry), whatever it was waiting for. */
  async requeue(id: number): Promise<Annotation> {
    const annotation = await this.get(id);
    if (annotation === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `annotation ${id} does not exist`, { annotationId: id });
    if (annotation.state === 'queued' || annotation.state === 'running') {
      throw new GatewayError('AIB_API_CONFLICT', `annotation ${id} is ${annotation.state}; only collecting, retrying, quarantined or done annotations can be retried`,
        { annotationId: id, state: annotation.state });
    }
    if (annotation.state === 'collecting') await this.#queue.release(id, 'retry requested, was collecting', 'requeued', 'queued');
    else await this.#queue.requeue(id, 'retry requested');
    return await this.get(id) ?? annotation;
  }

  async get(id: number): Promise<Annotation | undefined> {
    const row = (await this.#sql.all<Row>(`${SELECT} WHERE w.id = ?`, [id]))[0];
    return row === undefined ? undefined : toAnnotation(row);
  }

  async members(id: number): Promise<AnnotationMember[]> {
    return (await this.#sql.all<{ job_id: number; link_token: string; deid_path: string }>(
      `SELECT job_id, link_token, deid_path FROM annotation_members WHERE item_id = ? ORDER BY deid_path`, [id]))
      .map((r) => ({ jobId: r.job_id, linkToken: r.link_token, deidPath: r.deid_path }));
  }

  /** The annotations an instance job's de-identified copy belongs to. */
  async forJob(jobId: number): Promise<Annotation[]> {
    return (await this.#sql.all<Row>(`${SELECT} WHERE w.id IN (SELECT item_id FROM annotation_members WHERE job_id = ?) ORDER BY w.id`, [jobId])).map(toAnnotation);
  }

  async events(id: number): Promise<{ at: number; event: string; stage: string; detail: string | null }[]> {
    return this.#queue.events(id);
  }

  async list(query: { state?: AnnotationState; limit: number; offset: number }): Promise<{ annotations: Annotation[]; total: number }> {
    const where = query.state === undefined ? 'w.kind = ?' : 'w.kind = ? AND w.state = ?';
    const params = query.state === undefined ? [ANNOTATION_KIND] : [ANNOTATION_KIND, query.state];
    const rows = await this.#sql.all<Row>(`${SELECT} WHERE ${where} ORDER BY w.id DESC LIMIT ? OFFSET ?`, [...params, query.limit, query.offset]);
    const total = (await this.#sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM work_items w WHERE ${where}`, params))[0]?.n ?? 0;
    return { annotations: rows.map(toAnnotation), total };
  }

  async countsByState(): Promise<Record<AnnotationState, number>> {
    const counts = await this.#queue.countsByState(ANNOTATION_KIND);
    return Object.fromEntries(ANNOTATION_STATES.map((s) => [s, counts[s] ?? 0])) as Record<AnnotationState, number>;
  }

  /** 'annotated' (the model ran: the run reached relink), 'done' (delivered) and error events per minute since `since`. */
  async eventsPerMinute(since: number): Promise<{ minute: number; event: string; count: number }[]> {
    return this.#sql.all(
      `SELECT (e.at / 60000) * 60000 AS minute, CASE WHEN e.event = 'stages' THEN 'annotated' ELSE e.event END AS event, COUNT(*) AS count
       FROM work_events e JOIN work_items w ON w.id = e.item_id
       WHERE w.kind = ? AND e.at >= ? AND (e.event IN ('done','quarantined','retry-scheduled') OR (e.event = 'stages' AND e.detail LIKE '%relink %'))
       GROUP BY (e.at / 60000) * 60000, CASE WHEN e.event = 'stages' THEN 'annotated' ELSE e.event END`, [ANNOTATION_KIND, since]);
  }

  /** Unfinished annotations per state and stage. */
  async depths(): Promise<{ state: string; stage: string; count: number }[]> {
    return this.#sql.all(
      `SELECT state, stage, COUNT(*) AS count FROM work_items WHERE kind = ? AND state IN ('collecting','queued','running','retrying')
       GROUP BY state, stage ORDER BY state, stage`, [ANNOTATION_KIND]);
  }

  /** Store → result in ms for annotations delivered since `since`: from the first member's job creation. */
  async deliveryDurations(since: number): Promise<number[]> {
    return (await this.#sql.all<{ ms: number }>(
      `SELECT w.finished_at - MIN(j.created_at) AS ms FROM work_items w
       JOIN annotation_members m ON m.item_id = w.id JOIN work_items j ON j.id = m.job_id
       WHERE w.kind = ? AND w.state = 'done' AND w.finished_at >= ? GROUP BY w.id, w.finished_at`, [ANNOTATION_KIND, since])).map((r) => r.ms);
  }

  /** Unfinished annotations, oldest first: what the dashboard shows as progress. */
  async unfinished(limit: number): Promise<Annotation[]> {
    return (await this.#sql.all<Row>(`${SELECT} WHERE w.kind = ? AND w.state IN ('collecting','queued','running','retrying') ORDER BY w.id LIMIT ?`,
      [ANNOTATION_KIND, limit])).map(toAnnotation);
  }

  async recentErrors(limit: number): Promise<{ at: number; id: number; event: string; detail: string | null }[]> {
    return this.#sql.all(
      `SELECT e.at AS at, e.item_id AS id, e.event AS event, e.detail AS detail FROM work_events e JOIN work_items w ON w.id = e.item_id
       WHERE w.kind = ? AND e.event IN ('quarantined','retry-scheduled') ORDER BY e.at DESC, e.id DESC LIMIT ?`, [ANNOTATION_KIND, limit]);
  }

  /**
   * Records the SOP Instance UIDs of results about to be stored, before the
   * STOW-RS: Orthanc reports them as new instances, and the instance pipeline
   * must recognise them (ownResult) however soon the change arrives.
   */
  async recordDeliveries(annotationId: number, sopInstanceUids: readonly string[]): Promise<void> {
    const now = this.#now();
    await this.#sql.transaction(async (tx) => {
      for (const uid of sopInstanceUids) {
        await tx.run(`INSERT INTO delivered_results (sop_instance_uid, item_id, recorded_at) VALUES (?, ?, ?) ON CONFLICT (sop_instance_uid) DO NOTHING`,
          [uid, annotationId, now]);
      }
    });
  }

  /** The annotation whose result this SOP Instance UID is, if the bridge stored it. */
  async ownResult(sopInstanceUid: string): Promise<number | undefined> {
    return (await this.#sql.all<{ item_id: number }>(`SELECT item_id FROM delivered_results WHERE sop_instance_uid = ?`, [sopInstanceUid]))[0]?.item_id;
  }

  async #row(tx: SqlConnection, id: number): Promise<Row> {
    const row = (await tx.all<Row>(`${SELECT} WHERE w.id = ?`, [id]))[0];
    if (row === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `annotation ${id} does not exist`, { annotationId: id });
    return row;
  }

  async #recordResults(tx: SqlConnection, id: number, run: RunSummary): Promise<void> {
    const results = run.payload?.['results'];
    if (Array.isArray(results)) await tx.run(`UPDATE annotation_units SET results = ? WHERE item_id = ?`, [JSON.stringify(results), id]);
  }

  async #releaseIfComplete(queue: WorkQueue, tx: SqlConnection, id: number): Promise<boolean> {
    const row = await this.#row(tx, id);
    if (row.state !== 'collecting' || row.expected_instances === null || row.members < row.expected_instances) return false;
    await this.#release(queue, id, `${row.members} of ${row.expected_instances} instance(s) in`);
    return true;
  }

  #release(queue: WorkQueue, id: number, why: string): Promise<void> {
    return queue.release(id, why, 'queued', 'queued');
  }

  /**
   * Back to collecting after a late slice: the series is judged again before
   * it runs. Delivered results are not this series any more, so the next ones
   * get new UIDs (revision + 1) and replace them.
   */
  async #reopenSeries(queue: WorkQueue, tx: SqlConnection, id: number, why: string): Promise<void> {
    const row = await this.#row(tx, id);
    const bump = row.results !== '[]' ? 1 : 0;
    await tx.run(`UPDATE annotation_units SET revision = revision + ? WHERE item_id = ?`, [bump, id]);
    await queue.hold(id, 'collecting', `${why}${bump === 1 ? `; its next results are revision ${row.revision + 1}` : ''}`, 'reopened');
  }
}
