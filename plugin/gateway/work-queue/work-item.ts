/**
 * The states the queue itself drives. queued/retrying are claimable once
 * due; running carries a lease; done and quarantined are settled.
 */
export const QUEUE_STATES = ['queued', 'running', 'retrying', 'done', 'quarantined'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/**
 * A kind of work, as data. `heldStates` are the kind's own resting states
 * that the queue never claims and never leaves by itself: a series
 * annotation 'collecting' its members, a category request awaiting
 * 'approval'. A kind moves an item in with hold() and out with release().
 */
export interface WorkKind {
  readonly name: string;
  readonly heldStates: readonly string[];
}

/** One unit of work of any kind; `payload` holds the kind's own facts (JSON). */
export interface WorkItem<P = unknown> {
  readonly id: number;
  readonly kind: string;
  /** Unique within the kind: an instance id, a unit key, a request id. */
  readonly key: string;
  readonly state: string;
  /** Stage running now, or the last one reached. */
  readonly stage: string;
  readonly attempts: number;
  /** Epoch ms before which a queued or retrying item is not claimed. */
  readonly nextAttemptAt: number;
  /** Who holds the item while it runs (gateway node id), and until when (epoch ms). */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly outcome: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly payload: P;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

export interface WorkEvent {
  readonly at: number;
  readonly event: string;
  readonly stage: string;
  readonly detail: string | null;
}

/** Why an attempt failed; `transient` failures are retried until the policy's last attempt. */
export interface WorkFailure {
  readonly code: string;
  readonly message: string;
  readonly transient: boolean;
}

/**
 * One run's stages (the last is where it ended, with their times) and what
 * it learnt, written with the run's end in the same transaction: a run costs
 * three events (started, stages, end) and one commit after the claim,
 * whatever the number of stages.
 */
export interface RunSummary {
  readonly stages: readonly { readonly stage: string; readonly ms: number }[];
  /** Merged into the item's payload. */
  readonly payload?: Readonly<Record<string, unknown>>;
}
