import type { SqlConnection, SqlDialect } from './sql-connection';
import type { RunSummary, WorkEvent, WorkFailure, WorkItem } from './work-item';

export interface EnqueueRequest<P> {
  readonly kind: string;
  /** Unique within the kind: enqueueing a key twice returns the first item. */
  readonly key: string;
  readonly payload: P;
  /**
   * 'queued' (the default), one of the kind's held states, or 'done' for
   * work finished by the request that records it (a bulk run queues its
   * jobs as it is made).
   */
  readonly state?: string;
  /** The outcome of an item created done. */
  readonly outcome?: string;
  readonly stage?: string;
  /** Why the item exists, for its first event. */
  readonly detail?: string;
}

export interface WorkListQuery {
  readonly state?: string;
  readonly limit: number;
  readonly offset: number;
}

export type FailureResult =
  | { readonly state: 'retrying'; readonly retryAt: number }
  | { readonly state: 'quarantined'; readonly code: string; readonly message: string };

/**
 * The one durable work queue of the gateway, for every kind of work. An item
 * is claimed with a lease (owner + expiry): the owner renews it with
 * heartbeat() while it works and ends it with complete() or fail(); a lease
 * that runs out (its node died) lets any claimer take the item over, counting
 * the lost attempt. Retries follow the one RetryPolicy; an item that
 * exhausts it, or fails permanently, is quarantined with its reason. Every
 * step leaves an event (the newest ones per item are kept).
 *
 * Calls on an item that name an owner fail with AIB_QUEUE_LEASE_LOST when
 * that owner no longer holds it: the work was taken over, and its result
 * must not overwrite the new owner's.
 */
export interface WorkQueue {
  readonly dialect: SqlDialect;
  /** Runs `work` in one transaction: what it does through `queue` and `sql` (the kinds' own tables) commits together. */
  transaction<T>(work: (queue: WorkQueue, sql: SqlConnection) => Promise<T>): Promise<T>;
  enqueue<P>(request: EnqueueRequest<P>): Promise<{ item: WorkItem<P>; created: boolean }>;
  /** The next due item of `kind`, or one whose lease expired, now running under `owner` until now + leaseMs. */
  claim<P>(kind: string, owner: string, leaseMs: number): Promise<WorkItem<P> | undefined>;
  /**
   * A restarted node's leases end now rather than at their expiry: items
   * running under an owner named `node` or `node:…` (the previous process)
   * are due again, their lost attempt counted. Returns how many.
   */
  expireLeasesOf(node: string): Promise<number>;
  /** Extends the lease; false when `owner` lost it. */
  heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean>;
  setStage(id: number, owner: string, stage: string): Promise<void>;
  /** Records an event of the kind's own (a job tagged for a request, a series judged complete) on the item. */
  addEvent(id: number, event: string, detail: string | null, stage?: string): Promise<void>;
  /** Merges `patch` into the item's JSON payload (what a stage learnt). */
  mergePayload(id: number, patch: Readonly<Record<string, unknown>>): Promise<void>;
  /** Ends the run done; with `run`, its stages and facts go in the same transaction. */
  complete(id: number, owner: string, outcome: string, run?: RunSummary): Promise<void>;
  /** Retries (with the policy's backoff) or quarantines, as the failure and the attempts made decide; `run` as for complete(). */
  fail(id: number, owner: string, failure: WorkFailure, run?: RunSummary): Promise<FailureResult>;
  /**
   * Parks an item in one of its kind's held states. A settled or retrying
   * item starts over there (fresh attempts, no outcome): a series re-opened
   * by a late slice collects and runs again. `event` names the step (default 'held').
   */
  hold(id: number, state: string, detail: string, event?: string): Promise<void>;
  /** A held item becomes due now; `event` (default 'released') and `stage` as the kind names them. */
  release(id: number, detail: string, event?: string, stage?: string): Promise<void>;
  /** A held or waiting item ends done without running (a request an administrator declined); `outcome` says why. */
  finish(id: number, outcome: string): Promise<void>;
  /** A settled or retrying item goes back to the queue with fresh attempts. */
  requeue(id: number, why: string): Promise<WorkItem>;
  /** Forgets a settled item and its events. */
  remove(id: number): Promise<WorkItem>;
  get<P>(id: number): Promise<WorkItem<P> | undefined>;
  find<P>(kind: string, key: string): Promise<WorkItem<P> | undefined>;
  list<P>(kind: string, query: WorkListQuery): Promise<{ items: WorkItem<P>[]; total: number }>;
  countsByState(kind: string): Promise<Record<string, number>>;
  events(id: number): Promise<WorkEvent[]>;
  /** Epoch ms when the earliest waiting item of `kind` becomes due, or a lease of it runs out. */
  nextDueAt(kind: string): Promise<number | undefined>;
  close(): Promise<void>;
}
