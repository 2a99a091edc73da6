import type { JobId, OrthancInstanceId } from '../core/branded-ids';
import { JOB_STATES, type JobState } from '../core/work-states';
import type { RunEnd, RunRecord } from './run-record';

// Defined in core (they are part of the REST contract the web UI reads); re-exported for the stores.
export { JOB_STATES, type JobState };

export function isJobState(value: string): value is JobState {
  return (JOB_STATES as readonly string[]).includes(value);
}

/** One instance's way through the pipeline, as stored in state.sqlite. */
export interface Job {
  readonly id: JobId;
  readonly instanceId: OrthancInstanceId;
  /** Orthanc change sequence that announced the instance. */
  readonly changeSeq: number;
  readonly sopInstanceUid: string | null;
  readonly seriesInstanceUid: string | null;
  readonly modality: string | null;
  readonly sopClassUid: string | null;
  readonly transferSyntaxUid: string | null;
  readonly sha256: string | null;
  readonly sizeBytes: number | null;
  /** De-identified copy, relative to the de-identified store. */
  readonly deidPath: string | null;
  /** Opaque token that relinks results on the copy to this instance (vault). */
  readonly linkToken: string | null;
  /** The central category request this instance was searched for (or tagged with), if any. */
  readonly categoryRequest: string | null;
  readonly state: JobState;
  /** Stage running now, or the last one reached. */
  readonly stage: string;
  readonly attempts: number;
  /** Epoch ms before which a retrying job is not picked up. */
  readonly nextAttemptAt: number;
  readonly outcome: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

export interface JobEvent {
  readonly at: number;
  readonly event: string;
  readonly stage: string;
  readonly detail: string | null;
}

/** What a stage learnt about the instance, kept on the job. */
export interface InstanceFacts {
  readonly sopInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly modality?: string;
  readonly sopClassUid?: string;
  readonly transferSyntaxUid?: string;
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly deidPath?: string;
  readonly linkToken?: string;
}

export interface JobQuery {
  readonly state?: JobState;
  readonly modality?: string;
  /** Jobs that fed an annotation by this model id. */
  readonly model?: string;
  /** created_at bounds, epoch ms: from inclusive, to exclusive. */
  readonly createdFrom?: number;
  readonly createdTo?: number;
  /** Substring of the instance id, SOP Instance UID, error code or error message. */
  readonly text?: string;
  readonly limit: number;
  readonly offset: number;
}

/** Events counted per minute for the dashboard. */
export interface MinuteCount {
  readonly minute: number;
  readonly event: string;
  readonly count: number;
}

export interface StageDepth {
  readonly state: string;
  readonly stage: string;
  readonly count: number;
}

export interface ErrorEvent {
  readonly at: number;
  readonly id: number;
  readonly event: string;
  readonly detail: string | null;
}

export interface NewInstanceChange {
  readonly seq: number;
  readonly instanceId: OrthancInstanceId;
}

/**
 * Durable job state. The embedded implementation is SQLite; a site that
 * outgrows one machine swaps in a shared engine behind this interface.
 */
export interface JobStore {
  /** Last change sequence fully turned into jobs, or undefined before the first run. */
  changeCursor(): number | undefined;
  /** Creates a job per new instance (never twice for one instance) and moves the cursor, atomically. */
  recordChanges(changes: readonly NewInstanceChange[], cursor: number): number;
  /**
   * The job of an instance a category request found in the PACS: created
   * (queued, outside the change log) when none exists, tagged with the
   * request id either way. Jobs stay unique per instance.
   */
  tagForRequest(instanceId: OrthancInstanceId, requestId: string): { job: Job; created: boolean };
  byInstance(instanceId: OrthancInstanceId): Job | undefined;
  /** Takes the next due job and marks it running; undefined when none is due. */
  claimNext(now: number): Job | undefined;
  setStage(id: JobId, stage: string): void;
  recordFacts(id: JobId, facts: InstanceFacts): void;
  complete(id: JobId, outcome: string): void;
  scheduleRetry(id: JobId, at: number, errorCode: string, message: string): void;
  quarantine(id: JobId, errorCode: string, message: string): void;
  /**
   * A run's stages, facts and end (done, retry, quarantine) in one transaction,
   * with three events at most: the stages with their times, and the end.
   */
  finishRun(id: JobId, run: RunRecord<InstanceFacts>, end: RunEnd): void;
  /** Puts a quarantined/retrying/done job back in the queue with fresh attempts. */
  requeue(id: JobId): Job;
  /** Jobs left running by a previous process go back to the queue. */
  recoverInterrupted(): number;
  get(id: JobId): Job | undefined;
  events(id: JobId): JobEvent[];
  list(query: JobQuery): { jobs: Job[]; total: number };
  countsByState(): Record<JobState, number>;
  /** Forgets a settled job and its events (the instance stays in Orthanc); the job as it was. */
  remove(id: JobId): Job;
  /**
   * Puts instances (an Orthanc query's answer) through the pipeline again: a
   * new job for an instance never seen, a settled job queued again; jobs
   * under way are left as they are. Returns every instance's job id.
   */
  enqueueInstances(instanceIds: readonly OrthancInstanceId[], why: string): JobId[];
  /** 'done', 'quarantined' and 'retry-scheduled' events per minute since `since` (epoch ms). */
  eventsPerMinute(since: number): MinuteCount[];
  /** Unfinished jobs per state and stage. */
  depths(): StageDepth[];
  /** created → finished, in ms, of the jobs done since `since`. */
  durations(since: number): number[];
  /** The newest quarantine and retry events. */
  recentErrors(limit: number): ErrorEvent[];
  /** Epoch ms of the earliest retry still waiting, if any. */
  nextRetryAt(): number | undefined;
  close(): void;
}
