// JSON shapes of the /ai-bridge/ REST API, shared with the web UI and tests.
import type { SealSummary } from '../../core/deid-messages';
import type { JobState } from '../job';

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> };
}

export interface HealthResponse {
  readonly status: 'ok';
  readonly version: string;
  readonly gatewayPid: number;
  readonly uptimeSeconds: number;
  readonly orthancVersion: string;
  readonly pluginVersion: string;
  readonly dataDirectory: string;
  readonly changeCursor: number | null;
  /** Jobs not yet finished: queued + running + retrying. */
  readonly queueDepth: number;
  readonly jobs: Readonly<Record<JobState, number>>;
  readonly deid: {
    readonly profile: string;
    readonly workers: number;
    readonly readyWorkers: number;
    /** What the kernel applied in each ready worker. */
    readonly seals: readonly SealSummary[];
  };
}

export interface JobView {
  readonly id: number;
  readonly instanceId: string;
  readonly sopInstanceUid: string | null;
  readonly seriesInstanceUid: string | null;
  readonly modality: string | null;
  readonly sopClassUid: string | null;
  readonly transferSyntaxUid: string | null;
  readonly sha256: string | null;
  readonly sizeBytes: number | null;
  readonly deidPath: string | null;
  readonly linkToken: string | null;
  readonly changeSeq: number;
  readonly state: JobState;
  readonly stage: string;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly outcome: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

export interface JobListResponse {
  readonly jobs: readonly JobView[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

export interface JobDetailResponse extends JobView {
  readonly events: readonly { readonly at: string; readonly event: string; readonly stage: string; readonly detail: string | null }[];
}
