import { jobId, orthancInstanceId, type JobId, type OrthancInstanceId } from '../core/branded-ids';
import { GatewayError } from './gateway-errors';
import { JOB_STATES, type ErrorEvent, type InstanceFacts, type Job, type JobEvent, type JobQuery, type JobState, type MinuteCount, type NewInstanceChange, type StageDepth } from './job';
import type { SqlConnection, SqlValue } from './work-queue/sql-connection';
import { jsonText } from './work-queue/sql-json';
import { toItem, type WorkItemRow } from './work-queue/sql-work-queue';
import type { WorkItem } from './work-queue/work-item';
import type { WorkQueue } from './work-queue/work-queue';

export const INSTANCE_KIND = 'instance';

/** What an instance job's work item carries: the change that announced it, and what its stages learnt. */
export interface InstancePayload extends InstanceFacts {
  /** 0 when the job did not come from the change log (a bulk run, a category request). */
  readonly changeSeq: number;
  readonly categoryRequest?: string | null;
}

/** The change-log follower's row of change_cursor. */
const CURSOR = 'orthanc';

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A job as the API shows it, from its work item (key: Orthanc's instance id). */
export function toJob(item: WorkItem): Job {
  const p = (typeof item.payload === 'object' && item.payload !== null ? item.payload : {}) as Record<string, unknown>;
  const size = p['sizeBytes'];
  return {
    id: jobId(item.id), instanceId: orthancInstanceId(item.key), changeSeq: typeof p['changeSeq'] === 'number' ? p['changeSeq'] : 0,
    sopInstanceUid: text(p['sopInstanceUid']), seriesInstanceUid: text(p['seriesInstanceUid']), modality: text(p['modality']),
    sopClassUid: text(p['sopClassUid']), transferSyntaxUid: text(p['transferSyntaxUid']), sha256: text(p['sha256']),
    sizeBytes: typeof size === 'number' ? size : null,
    originalRead: p['originalRead'] === 'orthanc-storage' || p['originalRead'] === 'spool' ? p['originalRead'] : null, deidPath: text(p['deidPath']), linkToken: text(p['linkToken']),
    categoryRequest: text(p['categoryRequest']), state: item.state as JobState, stage: item.stage, attempts: item.attempts,
    nextAttemptAt: item.nextAttemptAt, outcome: item.outcome, errorCode: item.errorCode, errorMessage: item.errorMessage,
    createdAt: item.createdAt, updatedAt: item.updatedAt, finishedAt: item.finishedAt,
  };
}

function isSettled(state: JobState): boolean {
  return state === 'done' || state === 'quarantined';
}

/** A settled job that came from an earlier change than `seq` (a job made outside the change log, seq 0, may still be waiting for its own). */
function storedAgain(job: Job, seq: number): boolean {
  return isSettled(job.state) && job.changeSeq > 0 && seq > job.changeSeq;
}

/**
 * Instance jobs: the work queue's 'instance' items (key: Orthanc's instance
 * id, so a job exists once per instance) and the change-log cursor, in the
 * queue's database. Claims, runs and retries are the queue's; this class
 * adds what only instance jobs have: the cursor moved with the jobs its
 * changes made, tags for category requests, bulk re-runs, and the queries
 * of the API and the dashboard.
 */
export class InstanceJobs {
  readonly #queue: WorkQueue;
  readonly #sql: SqlConnection;

  /** `sql`: the queue's connection (change_cursor and the work tables live there). */
  constructor(queue: WorkQueue, sql: SqlConnection) {
    this.#queue = queue;
    this.#sql = sql;
  }

  get queue(): WorkQueue {
    return this.#queue;
  }

  /** Last change sequence fully turned into jobs, or undefined before the first run. */
  async changeCursor(): Promise<number | undefined> {
    const rows = await this.#sql.all<{ seq: number }>(`SELECT seq FROM change_cursor WHERE name = ?`, [CURSOR]);
    return rows[0]?.seq;
  }

  /**
   * Creates a job per new instance and moves the cursor, in one transaction.
   * An instance has one job; a later NewInstance for it means Orthanc stored
   * it again (sent again after a deletion this gateway did not see, or
   * overwritten), so its settled job runs again on the new file.
   */
  async recordChanges(changes: readonly NewInstanceChange[], cursor: number): Promise<number> {
    return this.#queue.transaction(async (queue, sql) => {
      let created = 0;
      for (const change of changes) {
        const payload: InstancePayload = { changeSeq: change.seq };
        const { item, created: isNew } = await queue.enqueue({ kind: INSTANCE_KIND, key: change.instanceId, payload, stage: 'received', detail: `change ${change.seq}` });
        if (isNew) {
          created++;
        } else if (storedAgain(toJob(item), change.seq)) {
          await queue.mergePayload(item.id, { changeSeq: change.seq });
          await queue.requeue(item.id, `stored again (change ${change.seq})`);
        }
      }
      await sql.run(`INSERT INTO change_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`, [CURSOR, cursor]);
      return created;
    });
  }

  /**
   * The job of an instance a category request found in the PACS: created
   * (queued, outside the change log) when none exists, tagged with the
   * request id either way.
   */
  async tagForRequest(instanceId: OrthancInstanceId, requestId: string): Promise<{ job: Job; created: boolean }> {
    return this.#queue.transaction(async (queue) => {
      const payload: InstancePayload = { changeSeq: 0, categoryRequest: requestId };
      const { item, created } = await queue.enqueue({ kind: INSTANCE_KIND, key: instanceId, payload, stage: 'received', detail: `category request ${requestId}` });
      const job = toJob(item);
      if (created || job.categoryRequest !== null) return { job, created };
      await queue.mergePayload(item.id, { categoryRequest: requestId });
      await queue.addEvent(item.id, 'tagged', `category request ${requestId}`);
      return { job: { ...job, categoryRequest: requestId }, created };
    });
  }

  async byInstance(instanceId: OrthancInstanceId): Promise<Job | undefined> {
    const item = await this.#queue.find(INSTANCE_KIND, instanceId);
    return item === undefined ? undefined : toJob(item);
  }

  async get(id: JobId): Promise<Job | undefined> {
    const item = await this.#queue.get(id);
    return item?.kind === INSTANCE_KIND ? toJob(item) : undefined;
  }

  async events(id: JobId): Promise<JobEvent[]> {
    return this.#queue.events(id);
  }

  /** Puts a quarantined/retrying/done job back in the queue with fresh attempts. */
  async requeue(id: JobId): Promise<Job> {
    await this.#existing(id);
    return toJob(await this.#queue.requeue(id, 'retry requested'));
  }

  /**
   * For an instance Orthanc deleted: forgets its settled job, with the job's
   * places in annotations and the unsent members of category requests, in one
   * transaction (the caller removes the de-identified copy first, so a stop
   * in between leaves a job to find again, never a copy nothing names).
   * 'in-flight': the job is still running; ask again once it settles.
   */
  async forgetDeleted(instanceId: OrthancInstanceId): Promise<{ readonly state: 'absent' | 'in-flight' } | { readonly state: 'forgotten'; readonly job: Job }> {
    return this.#queue.transaction(async (queue, sql) => {
      const item = await queue.find(INSTANCE_KIND, instanceId);
      if (item === undefined) return { state: 'absent' as const };
      const job = toJob(item);
      if (!isSettled(job.state)) return { state: 'in-flight' as const };
      // annotation_members.job_id and category_request_members.instance_id are plain columns, not keys: remove them by hand.
      await sql.run(`DELETE FROM annotation_members WHERE job_id = ?`, [job.id]);
      await sql.run(`DELETE FROM category_request_members WHERE instance_id = ? AND sent = 0`, [instanceId]);
      await queue.remove(job.id);
      return { state: 'forgotten' as const, job };
    });
  }

  /** Settled jobs after `afterId`, oldest first: the pages the start-up check for deletions walks. */
  async settledAfter(afterId: number, limit: number): Promise<Job[]> {
    const rows = await this.#sql.all<WorkItemRow>(
      `SELECT * FROM work_items WHERE kind = ? AND state IN ('done','quarantined') AND id > ? ORDER BY id LIMIT ?`, [INSTANCE_KIND, afterId, limit]);
    return rows.map((row) => toJob(toItem(row)));
  }

  /** Forgets a settled job and its events (the instance stays in Orthanc); the job as it was. */
  async remove(id: JobId): Promise<Job> {
    await this.#existing(id);
    return toJob(await this.#queue.remove(id));
  }

  /**
   * Puts instances (an Orthanc query's answer) through the pipeline again: a
   * new job for an instance never seen, a settled or retrying job queued
   * again; jobs under way are left as they are. Every instance's job id.
   */
  async enqueueInstances(instanceIds: readonly OrthancInstanceId[], why: string): Promise<JobId[]> {
    return this.#queue.transaction(async (queue) => {
      const ids: JobId[] = [];
      for (const instanceId of instanceIds) {
        const payload: InstancePayload = { changeSeq: 0 };
        const { item, created } = await queue.enqueue({ kind: INSTANCE_KIND, key: instanceId, payload, stage: 'received', detail: why });
        if (!created && (item.state === 'done' || item.state === 'quarantined' || item.state === 'retrying')) await queue.requeue(item.id, why);
        ids.push(jobId(item.id));
      }
      return ids;
    });
  }

  async list(query: JobQuery): Promise<{ jobs: Job[]; total: number }> {
    const { where, params } = this.#filter(query);
    const rows = await this.#sql.all<WorkItemRow>(`SELECT w.* FROM work_items w WHERE ${where} ORDER BY w.id DESC LIMIT ? OFFSET ?`,
      [...params, query.limit, query.offset]);
    const total = (await this.#sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM work_items w WHERE ${where}`, params))[0]?.n ?? 0;
    return { jobs: rows.map((row) => toJob(toItem(row))), total };
  }

  async countsByState(): Promise<Record<JobState, number>> {
    const counts = await this.#queue.countsByState(INSTANCE_KIND);
    return Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>;
  }

  /** 'done', 'quarantined' and 'retry-scheduled' events per minute since `since` (epoch ms). */
  async eventsPerMinute(since: number): Promise<MinuteCount[]> {
    return this.#sql.all<MinuteCount>(
      `SELECT (e.at / 60000) * 60000 AS minute, e.event AS event, COUNT(*) AS count FROM work_events e JOIN work_items w ON w.id = e.item_id
       WHERE w.kind = ? AND e.at >= ? AND e.event IN ('done','quarantined','retry-scheduled') GROUP BY (e.at / 60000) * 60000, e.event`,
      [INSTANCE_KIND, since]);
  }

  /** Unfinished jobs per state and stage. */
  async depths(): Promise<StageDepth[]> {
    return this.#sql.all<StageDepth>(
      `SELECT state, stage, COUNT(*) AS count FROM work_items WHERE kind = ? AND state IN ('queued','running','retrying')
       GROUP BY state, stage ORDER BY state, stage`, [INSTANCE_KIND]);
  }

  /** created → finished, in ms, of the jobs done since `since`. */
  async durations(since: number): Promise<number[]> {
    return (await this.#sql.all<{ ms: number }>(
      `SELECT finished_at - created_at AS ms FROM work_items WHERE kind = ? AND state = 'done' AND finished_at >= ?`, [INSTANCE_KIND, since]))
      .map((r) => r.ms);
  }

  /** The newest quarantine and retry events. */
  async recentErrors(limit: number): Promise<ErrorEvent[]> {
    return this.#sql.all<ErrorEvent>(
      `SELECT e.at AS at, e.item_id AS id, e.event AS event, e.detail AS detail FROM work_events e JOIN work_items w ON w.id = e.item_id
       WHERE w.kind = ? AND e.event IN ('quarantined','retry-scheduled') ORDER BY e.at DESC, e.id DESC LIMIT ?`, [INSTANCE_KIND, limit]);
  }

  async #existing(id: JobId): Promise<void> {
    if (await this.get(id) === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `job ${id} does not exist`, { jobId: id });
  }

  /** WHERE clause (on work_items w) and parameters for a job query's filters. */
  #filter(query: JobQuery): { where: string; params: SqlValue[] } {
    const json = (key: string): string => jsonText(this.#sql.dialect, 'w.payload', key);
    const clauses = ['w.kind = ?'];
    const params: SqlValue[] = [INSTANCE_KIND];
    if (query.state !== undefined) { clauses.push('w.state = ?'); params.push(query.state); }
    if (query.modality !== undefined) { clauses.push(`${json('modality')} = ?`); params.push(query.modality); }
    if (query.createdFrom !== undefined) { clauses.push('w.created_at >= ?'); params.push(query.createdFrom); }
    if (query.createdTo !== undefined) { clauses.push('w.created_at < ?'); params.push(query.createdTo); }
    if (query.text !== undefined) {
      const like = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      clauses.push(`(w.key LIKE ? ESCAPE '\\' OR ${json('sopInstanceUid')} LIKE ? ESCAPE '\\'
        OR w.error_code LIKE ? ESCAPE '\\' OR w.error_message LIKE ? ESCAPE '\\')`);
      params.push(like, like, like, like);
    }
    if (query.model !== undefined) {
      // The annotations' members name the jobs whose copies they took.
      clauses.push(`EXISTS (SELECT 1 FROM annotation_members m JOIN annotation_units a ON a.item_id = m.item_id
        WHERE m.job_id = w.id AND a.model_id = ?)`);
      params.push(query.model);
    }
    return { where: clauses.join(' AND '), params };
  }
}
