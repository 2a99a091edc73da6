import type { JobId, OrthancInstanceId } from '../core/branded-ids';
import { JOB_STATES, type JobState } from '../core/work-states';

// Defined in core (they are part of the REST contract the web UI reads); re-exported for the stores.
export { JOB_STATES, type JobState };

export function isJobState(value: string): value is JobState {
  return (JOB_STATES as readonly string[]).includes(value);
}

/** One instance's way through the pipeline: a work item of kind 'instance' (instance-jobs.ts). */
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
  /** What the sealed worker read: the file in Orthanc's own storage, or a copy the plugin spooled (orthanc-storage.ts). */
  readonly originalRead: OriginalRead | null;
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
/** Where the de-id worker read an original: Orthanc's stored file in place, or a copy in phi/spool. */
export type OriginalRead = 'orthanc-storage' | 'spool';

export interface InstanceFacts {
  readonly sopInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly modality?: string;
  readonly sopClassUid?: string;
  readonly transferSyntaxUid?: string;
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly originalRead?: OriginalRead;
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
