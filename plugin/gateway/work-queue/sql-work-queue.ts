import { GatewayError } from '../gateway-errors';
import { retryDelayMs, type RetryPolicy } from './retry-policy';
import type { SqlConnection, SqlDialect, SqlValue } from './sql-connection';
import type { RunSummary, WorkEvent, WorkFailure, WorkItem, WorkKind } from './work-item';
import { QUEUE_STATES } from './work-item';
import { WORK_KINDS } from './work-kinds';
import type { EnqueueRequest, FailureResult, WorkListQuery, WorkQueue } from './work-queue';

export interface SqlWorkQueueOptions {
  readonly retry: RetryPolicy;
  /** Events kept per item (checked when a run ends); older ones are dropped, so an item retried for weeks stays small. */
  readonly maxEventsPerItem?: number;
  readonly kinds?: readonly WorkKind[];
  readonly now?: () => number;
}

/** A work_items row as SQL returns it. */
export interface WorkItemRow {
  id: number; kind: string; key: string; state: string; stage: string; attempts: number; next_attempt_at: number;
  lease_owner: string | null; lease_expires_at: number | null; outcome: string | null; error_code: string | null;
  error_message: string | null; payload: string; created_at: number; updated_at: number; finished_at: number | null;
}

/** A work_items row (SELECT * or w.*) as the item the queue hands out. */
export function toItem<P>(row: WorkItemRow): WorkItem<P> {
  return {
    id: row.id, kind: row.kind, key: row.key, state: row.state, stage: row.stage, attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at, leaseOwner: row.lease_owner, leaseExpiresAt: row.lease_expires_at,
    outcome: row.outcome, errorCode: row.error_code, errorMessage: row.error_message, payload: JSON.parse(row.payload) as P,
    createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at,
  };
}

/** Events that end a run (or restart an item): where the event list is trimmed. */
const RUN_ENDS: ReadonlySet<string> = new Set(['done', 'quarantined', 'retry-scheduled', 'requeued', 'released', 'held', 'queued', 'reopened']);

const DUE = `kind = ? AND ((state IN ('queued','retrying') AND next_attempt_at <= ?) OR (state = 'running' AND lease_expires_at < ?))`;
// SQLite does not use the (kind, state, next_attempt_at) index for that OR: it sorted every item of the
// kind on each claim, so a claim cost grew with all the done items the queue keeps (0.8 ms at 10,000
// items in a bare table, 0.04 ms with the UNION ALL of the two indexed searches below). PostgreSQL does
// not allow FOR UPDATE over a UNION, so it keeps DUE (its plan at that size is not measured yet).
const NEXT_DUE_SQLITE = `SELECT * FROM (
  SELECT * FROM work_items WHERE kind = ? AND state IN ('queued','retrying') AND next_attempt_at <= ?
  UNION ALL SELECT * FROM work_items WHERE kind = ? AND state = 'running' AND lease_expires_at < ?
) ORDER BY next_attempt_at, id LIMIT 1`;

/**
 * The work queue in SQL, one text for SQLite and PostgreSQL.
 *
 * Claims are written here rather than taken from pg-boss or graphile-worker:
 * those keep jobs in their own tables with their own states, while the
 * kinds' tables (bulk members, annotation members) join the item's state,
 * the SQLite backend must behave the same, and held states (a series
 * collecting, a request awaiting approval) are not in their state machines.
 * On PostgreSQL a claim is SELECT … FOR UPDATE SKIP LOCKED, so concurrent
 * claimers on several nodes each take a different row without waiting; on
 * SQLite, BEGIN IMMEDIATE serialises claimers on the file.
 */
export class SqlWorkQueue implements WorkQueue {
  readonly #sql: SqlConnection;
  readonly #retry: RetryPolicy;
  readonly #maxEvents: number;
  readonly #kinds: ReadonlyMap<string, WorkKind>;
  readonly #now: () => number;
  readonly #options: SqlWorkQueueOptions;

  constructor(sql: SqlConnection, options: SqlWorkQueueOptions) {
    this.#sql = sql;
    this.#options = options;
    this.#retry = options.retry;
    this.#maxEvents = options.maxEventsPerItem ?? 100;
    this.#kinds = new Map((options.kinds ?? WORK_KINDS).map((k) => [k.name, k]));
    this.#now = options.now ?? Date.now;
  }

  get dialect(): SqlDialect {
    return this.#sql.dialect;
  }

  transaction<T>(work: (queue: WorkQueue, sql: SqlConnection) => Promise<T>): Promise<T> {
    return this.#sql.transaction((tx) => work(new SqlWorkQueue(tx, this.#options), tx));
  }

  async enqueue<P>(request: EnqueueRequest<P>): Promise<{ item: WorkItem<P>; created: boolean }> {
    const kind = this.#kind(request.kind);
    const state = request.state ?? 'queued';
    if (state !== 'queued' && state !== 'done' && !kind.heldStates.includes(state)) throw unknownState(kind, state);
    const now = this.#now();
    const done = state === 'done';
    return this.#sql.transaction(async (tx) => {
      const inserted = await tx.all<WorkItemRow>(
        `INSERT INTO work_items (kind, key, state, stage, payload, outcome, attempts, created_at, updated_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO NOTHING RETURNING *`,
        [request.kind, request.key, state, request.stage ?? state, JSON.stringify(request.payload),
          done ? request.outcome ?? 'done' : null, done ? 1 : 0, now, now, done ? now : null]);
      const row = inserted[0];
      if (row !== undefined) {
        await this.#event(tx, row.id, done ? 'done' : 'received', row.stage, request.detail ?? row.outcome);
        return { item: toItem<P>(row), created: true };
      }
      return { item: toItem<P>(await this.#row(tx, request.kind, request.key)), created: false };
    });
  }

  async claim<P>(kind: string, owner: string, leaseMs: number): Promise<WorkItem<P> | undefined> {
    this.#kind(kind);
    return this.#sql.transaction(async (tx) => {
      for (;;) {
        const now = this.#now();
        const row = (this.#sql.dialect === 'postgresql'
          ? await tx.all<WorkItemRow>(`SELECT * FROM work_items WHERE ${DUE} ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, [kind, now, now])
          : await tx.all<WorkItemRow>(NEXT_DUE_SQLITE, [kind, now, kind, now]))[0];
        if (row === undefined) return undefined;
        if (row.state === 'running') {
          await this.#event(tx, row.id, 'lease-expired', row.stage, `${row.lease_owner ?? 'unknown'} held it until ${row.lease_expires_at ?? 0}`);
          // The lost attempt counts: an item that kills every node that runs it must end in quarantine, not loop.
          if (row.attempts >= this.#retry.maxAttempts) {
            await this.#settle(tx, row, 'quarantined', 'AIB_JOB_ATTEMPTS_EXHAUSTED', `${row.attempts} attempts ended without an answer (lease expired)`);
            continue;
          }
        }
        const claimed = (await tx.all<WorkItemRow>(
          `UPDATE work_items SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, updated_at = ?
           WHERE id = ? RETURNING *`, [owner, now + leaseMs, now, row.id]))[0];
        if (claimed === undefined) return undefined;
        await this.#event(tx, row.id, 'started', row.stage, `attempt ${claimed.attempts} by ${owner}`);
        return toItem<P>(claimed);
      }
    });
  }

  async expireLeasesOf(node: string): Promise<number> {
    const pattern = `${node.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`;
    return this.#sql.run(
      `UPDATE work_items SET lease_expires_at = 0 WHERE state = 'running' AND (lease_owner = ? OR lease_owner LIKE ? ESCAPE '\\')`, [node, pattern]);
  }

  async heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.#now();
    return await this.#sql.run(
      `UPDATE work_items SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`,
      [now + leaseMs, now, id, owner]) === 1;
  }

  async setStage(id: number, owner: string, stage: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      await this.#owned(tx, id, owner, `stage = ?`, [stage]);
      await this.#event(tx, id, 'stage', stage, null);
    });
  }

  async addEvent(id: number, event: string, detail: string | null, stage?: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      await this.#event(tx, id, event, stage ?? (await this.#byId(tx, id)).stage, detail);
    });
  }

  async mergePayload(id: number, patch: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      const payload = { ...(JSON.parse(row.payload) as Record<string, unknown>), ...patch };
      await tx.run(`UPDATE work_items SET payload = ?, updated_at = ? WHERE id = ?`, [JSON.stringify(payload), this.#now(), id]);
    });
  }

  async complete(id: number, owner: string, outcome: string, run?: RunSummary): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const row = await this.#ran(tx, await this.#held(tx, id, owner), run);
      await this.#settle(tx, row, 'done', null, outcome);
    });
  }

  async fail(id: number, owner: string, failure: WorkFailure, run?: RunSummary): Promise<FailureResult> {
    return this.#sql.transaction(async (tx): Promise<FailureResult> => {
      const row = await this.#ran(tx, await this.#held(tx, id, owner), run);
      if (failure.transient && row.attempts < this.#retry.maxAttempts) {
        const retryAt = this.#now() + retryDelayMs(this.#retry, row.attempts);
        await tx.run(
          `UPDATE work_items SET state = 'retrying', stage = ?, payload = ?, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL,
             error_code = ?, error_message = ?, updated_at = ? WHERE id = ?`,
          [row.stage, row.payload, retryAt, failure.code, failure.message, this.#now(), id]);
        await this.#event(tx, id, 'retry-scheduled', row.stage, `${failure.code}: ${failure.message}`);
        return { state: 'retrying', retryAt };
      }
      const code = failure.transient ? 'AIB_JOB_ATTEMPTS_EXHAUSTED' : failure.code;
      const message = failure.transient ? `${row.attempts} attempts failed; last: ${failure.code}: ${failure.message}` : failure.message;
      await this.#settle(tx, row, 'quarantined', code, message);
      return { state: 'quarantined', code, message };
    });
  }

  async hold(id: number, state: string, detail: string, event = 'held'): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      const kind = this.#kind(row.kind);
      if (!kind.heldStates.includes(state)) throw unknownState(kind, state);
      const fresh = row.state === 'done' || row.state === 'quarantined' || row.state === 'retrying';
      await tx.run(
        `UPDATE work_items SET state = ?, stage = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?${fresh
          ? ', attempts = 0, next_attempt_at = 0, outcome = NULL, error_code = NULL, error_message = NULL, finished_at = NULL' : ''} WHERE id = ?`,
        [state, state, this.#now(), id]);
      await this.#event(tx, id, event, state, detail);
    });
  }

  async release(id: number, detail: string, event = 'released', stage?: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      if (!this.#kind(row.kind).heldStates.includes(row.state)) {
        throw new GatewayError('AIB_API_CONFLICT', `work item ${id} is ${row.state}, not held`, { workItem: id, state: row.state });
      }
      await tx.run(`UPDATE work_items SET state = 'queued', stage = ?, next_attempt_at = 0, updated_at = ? WHERE id = ?`, [stage ?? row.stage, this.#now(), id]);
      await this.#event(tx, id, event, row.stage, detail);
    });
  }

  async finish(id: number, outcome: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      if (row.state === 'running' || row.state === 'done' || row.state === 'quarantined') {
        throw new GatewayError('AIB_API_CONFLICT', `work item ${id} is ${row.state}; only waiting items can be finished without a run`, { workItem: id, state: row.state });
      }
      await this.#settle(tx, row, 'done', null, outcome);
    });
  }

  async requeue(id: number, why: string): Promise<WorkItem> {
    return this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      if (row.state === 'queued' || row.state === 'running' || this.#kind(row.kind).heldStates.includes(row.state)) {
        throw new GatewayError('AIB_API_CONFLICT', `work item ${id} is ${row.state}; only retrying, quarantined or done items can be queued again`, { workItem: id, state: row.state });
      }
      const now = this.#now();
      // created_at restarts: latency is measured from this run, not the first.
      await tx.run(
        `UPDATE work_items SET state = 'queued', attempts = 0, next_attempt_at = 0, outcome = NULL, error_code = NULL, error_message = NULL,
           lease_owner = NULL, lease_expires_at = NULL, created_at = ?, updated_at = ?, finished_at = NULL WHERE id = ?`, [now, now, id]);
      await this.#event(tx, id, 'requeued', row.stage, `${why}, was ${row.state}`);
      return toItem(await this.#byId(tx, id));
    });
  }

  async remove(id: number): Promise<WorkItem> {
    return this.#sql.transaction(async (tx) => {
      const row = await this.#byId(tx, id);
      if (row.state !== 'done' && row.state !== 'quarantined') {
        throw new GatewayError('AIB_API_CONFLICT', `work item ${id} is ${row.state}; only settled items can be deleted`, { workItem: id, state: row.state });
      }
      await tx.run(`DELETE FROM work_events WHERE item_id = ?`, [id]);
      await tx.run(`DELETE FROM work_items WHERE id = ?`, [id]);
      return toItem(row);
    });
  }

  async get<P>(id: number): Promise<WorkItem<P> | undefined> {
    const row = (await this.#sql.all<WorkItemRow>(`SELECT * FROM work_items WHERE id = ?`, [id]))[0];
    return row === undefined ? undefined : toItem<P>(row);
  }

  async find<P>(kind: string, key: string): Promise<WorkItem<P> | undefined> {
    const row = (await this.#sql.all<WorkItemRow>(`SELECT * FROM work_items WHERE kind = ? AND key = ?`, [kind, key]))[0];
    return row === undefined ? undefined : toItem<P>(row);
  }

  async list<P>(kind: string, query: WorkListQuery): Promise<{ items: WorkItem<P>[]; total: number }> {
    const where = query.state === undefined ? 'kind = ?' : 'kind = ? AND state = ?';
    const params: SqlValue[] = query.state === undefined ? [kind] : [kind, query.state];
    const rows = await this.#sql.all<WorkItemRow>(`SELECT * FROM work_items WHERE ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, query.limit, query.offset]);
    const total = (await this.#sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM work_items WHERE ${where}`, params))[0]?.n ?? 0;
    return { items: rows.map((r) => toItem<P>(r)), total };
  }

  async countsByState(kind: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries([...QUEUE_STATES, ...this.#kind(kind).heldStates].map((s) => [s, 0]));
    for (const row of await this.#sql.all<{ state: string; n: number }>(`SELECT state, COUNT(*) AS n FROM work_items WHERE kind = ? GROUP BY state`, [kind])) {
      counts[row.state] = row.n;
    }
    return counts;
  }

  events(id: number): Promise<WorkEvent[]> {
    return this.#sql.all<WorkEvent>(`SELECT at, event, stage, detail FROM work_events WHERE item_id = ? ORDER BY id`, [id]);
  }

  async nextDueAt(kind: string): Promise<number | undefined> {
    const rows = await this.#sql.all<{ at: number | null }>(
      `SELECT MIN(CASE WHEN state = 'running' THEN lease_expires_at ELSE next_attempt_at END) AS at FROM work_items
       WHERE kind = ? AND state IN ('queued','retrying','running')`, [kind]);
    return rows[0]?.at ?? undefined;
  }

  close(): Promise<void> {
    return this.#sql.close();
  }

  #kind(name: string): WorkKind {
    const kind = this.#kinds.get(name);
    if (kind === undefined) throw new GatewayError('AIB_QUEUE_UNKNOWN_KIND', `no work kind "${name}" (plugin/gateway/work-queue/work-kinds.ts)`, { kind: name });
    return kind;
  }

  async #row(tx: SqlConnection, kind: string, key: string): Promise<WorkItemRow> {
    const row = (await tx.all<WorkItemRow>(`SELECT * FROM work_items WHERE kind = ? AND key = ?`, [kind, key]))[0];
    if (row === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `no ${kind} work item ${key}`, { kind, key });
    return row;
  }

  async #byId(tx: SqlConnection, id: number): Promise<WorkItemRow> {
    const row = (await tx.all<WorkItemRow>(`SELECT * FROM work_items WHERE id = ?`, [id]))[0];
    if (row === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `work item ${id} does not exist`, { workItem: id });
    return row;
  }

  /** The item `owner` holds (optionally updating `set` on it); AIB_QUEUE_LEASE_LOST when another owner took it over. */
  async #owned(tx: SqlConnection, id: number, owner: string, set?: string, params: readonly SqlValue[] = []): Promise<WorkItemRow> {
    const row = (await tx.all<WorkItemRow>(
      `UPDATE work_items SET ${set === undefined ? '' : `${set}, `}updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ? RETURNING *`,
      [...params, this.#now(), id, owner]))[0];
    if (row === undefined) {
      const now = (await tx.all<WorkItemRow>(`SELECT * FROM work_items WHERE id = ?`, [id]))[0];
      throw new GatewayError('AIB_QUEUE_LEASE_LOST', `work item ${id} is no longer held by ${owner} (now ${now?.state ?? 'deleted'}${now?.lease_owner == null ? '' : ` by ${now.lease_owner}`})`,
        { workItem: id, owner });
    }
    return row;
  }

  /**
   * The row of the item `owner` holds, read (on PostgreSQL locked) for the
   * one UPDATE that ends its run; AIB_QUEUE_LEASE_LOST when another owner
   * took it over. On SQLite the transaction's write lock (BEGIN IMMEDIATE)
   * already keeps every other claimer out until that UPDATE commits.
   */
  async #held(tx: SqlConnection, id: number, owner: string): Promise<WorkItemRow> {
    const row = (await tx.all<WorkItemRow>(`SELECT * FROM work_items WHERE id = ?${this.#sql.dialect === 'postgresql' ? ' FOR UPDATE' : ''}`, [id]))[0];
    if (row?.state !== 'running' || row.lease_owner !== owner) {
      throw new GatewayError('AIB_QUEUE_LEASE_LOST', `work item ${id} is no longer held by ${owner} (now ${row?.state ?? 'deleted'}${row?.lease_owner == null ? '' : ` by ${row.lease_owner}`})`,
        { workItem: id, owner });
    }
    return row;
  }

  /**
   * A run's stages and facts on the row it is about to end: its 'stages'
   * event now, the stage and payload in the row returned, which the UPDATE
   * ending the run (#settle, or the retry's) writes, one UPDATE per run.
   */
  async #ran(tx: SqlConnection, row: WorkItemRow, run: RunSummary | undefined): Promise<WorkItemRow> {
    const last = run?.stages.at(-1);
    if (run === undefined || last === undefined) return row;
    const payload = run.payload === undefined ? row.payload : JSON.stringify({ ...(JSON.parse(row.payload) as Record<string, unknown>), ...run.payload });
    await this.#event(tx, row.id, 'stages', last.stage, run.stages.map((s) => `${s.stage} ${s.ms} ms`).join(', '));
    return { ...row, stage: last.stage, payload };
  }

  /** Ends the row's run in `state`, writing its stage and payload too (#ran). */
  async #settle(tx: SqlConnection, row: WorkItemRow, state: 'done' | 'quarantined', code: string | null, text: string): Promise<void> {
    const now = this.#now();
    await tx.run(
      `UPDATE work_items SET state = ?, stage = ?, payload = ?, outcome = ?, error_code = ?, error_message = ?, lease_owner = NULL, lease_expires_at = NULL,
         updated_at = ?, finished_at = ? WHERE id = ?`,
      [state, row.stage, row.payload, state === 'done' ? text : 'quarantined', code, code === null ? null : text, now, now, row.id]);
    await this.#event(tx, row.id, state, row.stage, code === null ? text : `${code}: ${text}`);
  }

  async #event(tx: SqlConnection, id: number, event: string, stage: string, detail: string | null): Promise<void> {
    await tx.run(`INSERT INTO work_events (item_id, at, event, stage, detail) VALUES (?, ?, ?, ?, ?)`, [id, this.#now(), event, stage, detail]);
    // Trimmed when a run ends, not on every event: a run adds a handful
    // (started, stages, lease-expired, its end), so the bound holds to within
    // one run, and a run's path pays one DELETE instead of one per event.
    if (!RUN_ENDS.has(event)) return;
    await tx.run(
      `DELETE FROM work_events WHERE item_id = ? AND id <= (SELECT id FROM work_events WHERE item_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      [id, id, this.#maxEvents]);
  }
}

function unknownState(kind: WorkKind, state: string): GatewayError {
  return new GatewayError('AIB_QUEUE_UNKNOWN_STATE', `work kind "${kind.name}" has no state "${state}" (held states: ${kind.heldStates.join(', ') || 'none'})`,
    { kind: kind.name, state });
}
