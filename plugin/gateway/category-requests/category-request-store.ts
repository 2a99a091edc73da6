import { GatewayError } from '../gateway-errors';
import type { SqlConnection } from '../work-queue/sql-connection';
import { jsonText } from '../work-queue/sql-json';
import type { WorkItem } from '../work-queue/work-item';
import type { WorkQueue } from '../work-queue/work-queue';

/**
 * The central server's category requests as this site handles them: work
 * items of kind 'category-request' (key: the request id) in the queue's
 * database (PHI zone: the members are Orthanc instance ids). A request
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

export const CATEGORY_REQUEST_KIND = 'category-request';

/** What a request's work item carries. */
interface RequestPayload {
  readonly modality: string;
  readonly bodyPart: string;
  readonly studiesWanted: number;
  readonly reason: string;
  readonly open: boolean;
  /** After the search: handing members over ('uploading'), or every member handed over or failed ('done'). */
  readonly phase?: 'uploading' | 'done';
  readonly sources?: string;
  readonly studiesFound?: number;
  readonly error?: string | null;
  readonly decidedBy?: string | null;
  readonly decidedAt?: number | null;
  readonly decisionReason?: string | null;
  readonly studiesGranted?: number | null;
  readonly searchedAt?: number | null;
}

/**
 * The request's search state, read from its work item: held awaiting approval;
 * queued (or retrying after a failed search) 'pending'; claimed 'searching';
 * done as 'declined' or in its phase after the search; quarantined 'failed'.
 */
function searchState(item: WorkItem<RequestPayload>): SearchState {
  if (item.state === 'awaiting-approval') return 'awaiting-approval';
  if (item.state === 'queued' || item.state === 'retrying') return 'pending';
  if (item.state === 'running') return 'searching';
  if (item.state === 'quarantined') return 'failed';
  if (item.outcome === 'declined') return 'declined';
  return item.payload.phase ?? 'uploading';
}

function toRequest(item: WorkItem<RequestPayload>): StoredCategoryRequest {
  const p = item.payload;
  return {
    id: item.key, modality: p.modality, bodyPart: p.bodyPart, studiesWanted: p.studiesWanted, reason: p.reason, open: p.open,
    state: searchState(item), sources: (p.sources ?? '') === '' ? [] : (p.sources ?? '').split(','), studiesFound: p.studiesFound ?? 0,
    error: item.state === 'retrying' || item.state === 'quarantined' ? item.errorMessage : p.error ?? null, updatedAt: item.updatedAt,
    decision: p.decidedAt === undefined || p.decidedAt === null ? null
      : { by: p.decidedBy ?? null, at: p.decidedAt, reason: p.decisionReason ?? null, studiesGranted: p.studiesGranted ?? null },
    searchedAt: p.searchedAt ?? null,
  };
}

export class CategoryRequestStore {
  readonly #queue: WorkQueue;
  readonly #sql: SqlConnection;

  /** `sql`: the queue's connection (category_request_members lives there). */
  constructor(queue: WorkQueue, sql: SqlConnection) {
    this.#queue = queue;
    this.#sql = sql;
  }

  /**
   * Records a request the central server lists: a new one waits
   * 'awaiting-approval', or ends 'declined' with `refusal` (the site's
   * limits); an existing one only updates whether it is still open.
   */
  async upsert(request: { id: string; modality: string; bodyPart: string; studiesWanted: number; reason: string; open: boolean }, refusal: string | null): Promise<void> {
    const now = Date.now();
    const payload: RequestPayload = {
      modality: request.modality, bodyPart: request.bodyPart, studiesWanted: request.studiesWanted, reason: request.reason, open: request.open,
      ...(refusal === null ? {} : { decidedBy: 'policy', decidedAt: now, decisionReason: refusal }),
    };
    await this.#queue.transaction(async (queue) => {
      const { item, created } = await queue.enqueue<RequestPayload>({
        kind: CATEGORY_REQUEST_KIND, key: request.id, payload, stage: refusal === null ? 'awaiting-approval' : 'declined',
        ...(refusal === null ? { state: 'awaiting-approval', detail: 'asked by the central server' } : { state: 'done', outcome: 'declined', detail: `refused by the site's limits: ${refusal}` }),
      });
      if (!created && item.payload.open !== request.open) await queue.mergePayload(item.id, { open: request.open });
    });
  }

  async get(id: string): Promise<StoredCategoryRequest | undefined> {
    const item = await this.#queue.find<RequestPayload>(CATEGORY_REQUEST_KIND, id);
    return item === undefined ? undefined : toRequest(item);
  }

  /** An administrator's decision on a request awaiting it; false when it is not (any more) awaiting approval. */
  async decide(id: string, decision: { approve: true; studiesGranted: number } | { approve: false; reason: string }, by: string | null): Promise<boolean> {
    return this.#queue.transaction(async (queue) => {
      const item = await queue.find(CATEGORY_REQUEST_KIND, id);
      if (item?.state !== 'awaiting-approval') return false;
      await queue.mergePayload(item.id, {
        decidedBy: by, decidedAt: Date.now(), decisionReason: decision.approve ? null : decision.reason, studiesGranted: decision.approve ? decision.studiesGranted : null,
      });
      if (decision.approve) await queue.release(item.id, `approved by ${by ?? 'an administrator'}: ${decision.studiesGranted} studies`, 'approved', 'pending');
      else await queue.finish(item.id, 'declined');
      return true;
    });
  }

  /** The next approved request due for its search, claimed by `owner` (one node searches it). */
  async claimSearch(owner: string, leaseMs: number): Promise<{ itemId: number; request: StoredCategoryRequest } | undefined> {
    const item = await this.#queue.claim<RequestPayload>(CATEGORY_REQUEST_KIND, owner, leaseMs);
    return item === undefined ? undefined : { itemId: item.id, request: toRequest(item) };
  }

  /** The site's limits refuse a claimed request at search time (e.g. the month's allowance is used up): declined, by 'policy'. */
  async refuse(itemId: number, owner: string, reason: string): Promise<void> {
    await this.#queue.transaction(async (queue) => {
      await queue.mergePayload(itemId, { decidedBy: 'policy', decidedAt: Date.now(), decisionReason: reason });
      await queue.complete(itemId, owner, 'declined');
    });
  }

  /** A claimed request was searched: its members are recorded and it hands them over from now on. */
  async searched(itemId: number, owner: string, instanceIds: readonly string[], facts: { sources: readonly string[]; studiesFound: number }): Promise<void> {
    await this.#queue.transaction(async (queue, tx) => {
      for (const instanceId of instanceIds) {
        await tx.run(`INSERT INTO category_request_members (item_id, instance_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, [itemId, instanceId]);
      }
      await queue.complete(itemId, owner, 'searched', {
        stages: [{ stage: 'uploading', ms: 0 }],
        payload: { phase: 'uploading', sources: facts.sources.join(','), studiesFound: facts.studiesFound, error: null, searchedAt: Date.now() },
      });
    });
  }

  /** A search failed: retried with the one retry policy (then 'failed'). */
  async searchFailed(itemId: number, owner: string, code: string, message: string): Promise<void> {
    await this.#queue.fail(itemId, owner, { code, message, transient: true }, { stages: [{ stage: 'searching', ms: 0 }] });
  }

  /** Every member handed over (or failed): the request is done. */
  async handedOver(id: string): Promise<void> {
    const item = await this.#queue.find(CATEGORY_REQUEST_KIND, id);
    if (item !== undefined) await this.#queue.mergePayload(item.id, { phase: 'done' });
  }

  /** Studies found by searches run since `since` (ms): what counts against StudiesPerMonth. */
  async studiesSearchedSince(since: number): Promise<number> {
    return (await this.list()).filter((r) => (r.searchedAt ?? 0) >= since).reduce((n, r) => n + r.studiesFound, 0);
  }

  /** Oldest first. */
  async list(): Promise<StoredCategoryRequest[]> {
    const { items } = await this.#queue.list<RequestPayload>(CATEGORY_REQUEST_KIND, { limit: 10_000, offset: 0 });
    return items.reverse().map(toRequest);
  }

  /** Members with their job's state and de-identified copy (the queue's instance items). */
  async members(id: string): Promise<RequestMember[]> {
    const item = await this.#queue.find(CATEGORY_REQUEST_KIND, id);
    if (item === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `category request ${id} does not exist`, { requestId: id });
    const rows = await this.#sql.all<{ instanceId: string; sent: number; jobState: string | null; deidPath: string | null }>(
      `SELECT m.instance_id AS "instanceId", m.sent AS sent, j.state AS "jobState", ${jsonText(this.#sql.dialect, 'j.payload', 'deidPath')} AS "deidPath"
       FROM category_request_members m LEFT JOIN work_items j ON j.kind = 'instance' AND j.key = m.instance_id WHERE m.item_id = ? ORDER BY m.instance_id`,
      [item.id]);
    return rows.map((r) => ({ ...r, sent: r.sent === 1 }));
  }

  async markSent(id: string, instanceId: string): Promise<void> {
    await this.#sql.run(
      `UPDATE category_request_members SET sent = 1 WHERE instance_id = ? AND item_id = (SELECT id FROM work_items WHERE kind = ? AND key = ?)`,
      [instanceId, CATEGORY_REQUEST_KIND, id]);
  }
}
