// JSON shapes of the /ai-bridge/ REST API, shared with the web UI and tests.
import type { SealSummary } from '../../core/deid-messages';
import type { AnnotationState } from '../annotation/annotation-store';
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
  readonly annotations: Readonly<Record<AnnotationState, number>>;
  /** Models the annotator serves (empty when annotation is off or the annotator is not ready). */
  readonly models: readonly { readonly id: string; readonly version: string; readonly name: string; readonly unit: string }[];
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
  /** The central category request the instance was searched for, if any. */
  readonly categoryRequest: string | null;
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

export interface EventView {
  readonly at: string;
  readonly event: string;
  readonly stage: string;
  readonly detail: string | null;
}

export interface JobDetailResponse extends JobView {
  readonly events: readonly EventView[];
  /** The annotations this instance's de-identified copy is part of. */
  readonly annotations: readonly AnnotationView[];
}

/** One run of one model over an image or a series, and where its results went. */
export interface AnnotationView {
  readonly id: number;
  readonly unit: 'instance' | 'series';
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly model: { readonly id: string; readonly version: string };
  readonly members: number;
  readonly expectedInstances: number | null;
  readonly state: AnnotationState;
  readonly stage: string;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly outcome: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** SOP Instance UIDs of the delivered SR/GSPS in the original study. */
  readonly results: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

export interface AnnotationListResponse {
  readonly annotations: readonly AnnotationView[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

export interface AnnotationDetailResponse extends AnnotationView {
  readonly events: readonly EventView[];
}

/**
 * GET /ai-bridge/models: the installed versions per model, which one serves,
 * how each was verified and commissioned. POST /ai-bridge/models/{id}/rollback
 * and POST /ai-bridge/models/{id}/activate ({"version": "..."}) answer with
 * the model's ModelView after the change.
 */
export interface ModelVersionView {
  readonly version: string;
  readonly installedAt: string | null;
  /** Where the package came from: built into this repository, the central registry, or installed by hand. */
  readonly source: 'bundled' | 'central' | 'manual';
  readonly signature: { readonly keyId: string; readonly verified: boolean };
  readonly commissioning: { readonly passed: boolean; readonly fraction: number; readonly passMark: number } | null;
}

export interface ModelView {
  readonly id: string;
  readonly name: string;
  readonly unit: 'instance' | 'series';
  readonly modalities: readonly string[];
  readonly bodyParts: readonly string[];
  /** The version serving now (null: installed but none active). */
  readonly active: string | null;
  /** The version a rollback would return to. */
  readonly rollbackTo: string | null;
  readonly versions: readonly ModelVersionView[];
}

export interface ModelListResponse {
  readonly models: readonly ModelView[];
  /** The link to the central registry, when configured. */
  readonly central: {
    readonly url: string;
    readonly lastPollAt: string | null;
    readonly catalogueSerial: number | null;
    readonly lastError: string | null;
  } | null;
}

/** GET /ai-bridge/categories: the scan categories this site serves, for PACS routing rules. */
export interface CategoriesResponse {
  readonly categories: readonly {
    readonly modality: string;
    readonly bodyParts: readonly string[];
    readonly model: { readonly id: string; readonly version: string };
  }[];
}

/**
 * GET /ai-bridge/central/requests: the central server's requests for studies
 * of a new scan category, what this site's PACS search found (PHI zone) and
 * what the annotator uploaded (de-identified copies).
 */
export interface CategoryRequestView {
  readonly id: string;
  readonly category: { readonly modality: string; readonly bodyPart: string };
  readonly studiesWanted: number;
  readonly reason: string;
  /** Still open on the central server. */
  readonly open: boolean;
  readonly search: {
    readonly state: 'pending' | 'searching' | 'uploading' | 'done' | 'failed';
    /** Where the matches were looked for: 'dicomweb' and/or 'dimse'. */
    readonly sources: readonly string[];
    readonly studiesFound: number;
    /** Instances put through de-identification for it (jobs tagged with the request id). */
    readonly instances: number;
    readonly instancesDeidentified: number;
    readonly instancesFailed: number;
    readonly error: string | null;
  };
  readonly uploads: { readonly instancesUploaded: number; readonly studiesUploaded: number; readonly instancesRefused: number };
  readonly updatedAt: string | null;
}

export interface CategoryRequestsResponse {
  readonly requests: readonly CategoryRequestView[];
  /** false: AiBridge.Central is absent or AnswerCategoryRequests is false. */
  readonly answering: boolean;
}
