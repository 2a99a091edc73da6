import { randomUUID } from 'node:crypto';

import { GatewayError } from '../gateway-errors';
import { JOB_STATES, isJobState, type JobState } from '../job';
import type { SqlConnection } from '../work-queue/sql-connection';
import type { WorkItem } from '../work-queue/work-item';
import type { WorkQueue } from '../work-queue/work-queue';

export interface BulkRun {
  readonly id: number;
  readonly query: Readonly<Record<string, string>>;
  readonly user: string | null;
  readonly createdAt: number;
  readonly instances: number;
  readonly jobs: Readonly<Record<JobState, number>>;
}

/** What a bulk run's work item carries (its payload). */
interface BulkPayload {
  readonly query: Readonly<Record<string, string>>;
  readonly user: string | null;
}

const KIND = 'bulk';

/**
 * Bulk re-processing runs: a view of the work queue's 'bulk' items. A run's
 * own work (queueing its instances' jobs) is done in the request that makes
 * it, so its item is created done; its progress is the state of the jobs it
 * queued (bulk_run_members, joined with the instance jobs, the queue's 'instance' items).
 */
export class BulkStore {
  readonly #queue: WorkQueue;
  readonly #sql: SqlConnection;

  /** `sql`: the queue's connection, where bulk_run_members lives. */
  constructor(queue: WorkQueue, sql: SqlConnection) {
    this.#queue = queue;
    this.#sql = sql;
  }

  async create(query: Readonly<Record<string, string>>, user: string | null, jobIds: readonly number[]): Promise<number> {
    return this.#queue.transaction(async (queue, sql) => {
      const payload: BulkPayload = { query, user };
      // A run has no natural identity (the same query may be run twice); its id is the item's.
      const { item } = await queue.enqueue({ kind: KIND, key: randomUUID(), payload, state: 'done', outcome: `queued ${jobIds.length} instance(s)` });
      for (const jobId of jobIds) {
        await sql.run(`INSERT INTO bulk_run_members (item_id, job_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, [item.id, jobId]);
      }
      return item.id;
    });
  }

  async get(id: number): Promise<BulkRun> {
    const item = await this.#queue.get(id);
    if (item?.kind !== KIND) throw new GatewayError('AIB_API_NOT_FOUND', `bulk run ${id} does not exist`, { bulkId: id });
    return this.#toRun(item);
  }

  async list(limit: number): Promise<BulkRun[]> {
    const { items } = await this.#queue.list(KIND, { limit, offset: 0 });
    return Promise.all(items.map((item) => this.#toRun(item)));
  }

  async #toRun(item: WorkItem): Promise<BulkRun> {
    const payload = bulkPayload(item);
    const jobs = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    // A job deleted since the run started no longer counts.
    const counts = await this.#sql.all<{ state: string; n: number }>(
      `SELECT j.state AS state, COUNT(*) AS n FROM bulk_run_members b JOIN work_items j ON j.id = b.job_id WHERE b.item_id = ? GROUP BY j.state`, [item.id]);
    for (const c of counts) if (isJobState(c.state)) jobs[c.state] = c.n;
    const instances = (await this.#sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM bulk_run_members WHERE item_id = ?`, [item.id]))[0]?.n ?? 0;
    return { id: item.id, query: payload.query, user: payload.user, createdAt: item.createdAt, instances, jobs };
  }
}

/** The payload as stored, checked: a row written by another version must not pass as a run. */
function bulkPayload(item: WorkItem): BulkPayload {
  const value = item.payload as Partial<BulkPayload> | null;
  const query = value?.query;
  const user = value?.user ?? null;
  if (typeof query !== 'object' || Array.isArray(query) || !Object.values(query).every((v) => typeof v === 'string') || (user !== null && typeof user !== 'string')) {
    throw new GatewayError('AIB_QUEUE_BAD_PAYLOAD', `bulk run ${item.id} has a malformed payload`, { bulkId: item.id });
  }
  return { query, user };
}
