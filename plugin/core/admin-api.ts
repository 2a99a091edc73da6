// JSON shapes of the /ai-bridge/ REST API: the contract the gateway serves and the web UI and tests
// read. It lives in core so the web UI imports a contract, never gateway internals.
import type { InstalledModelInfo, InstalledVersionInfo } from './annotate-messages';
import type { SealReport } from './seal-report';
import type { AnnotationState, JobState } from './work-states';

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> };
}

/** A sandboxed process refused for good (it could not seal fully); it takes no work and is not restarted. */
export interface RefusedProcess {
  readonly process: number;
  readonly reason: string;
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
    readonly seals: readonly SealReport[];
    /** Workers that could not seal fully: refused for good (not restarted), with the reason. */
    readonly refused: readonly RefusedProcess[];
  };
  /** null when annotation is off. */
  readonly annotator: {
    readonly processes: number;
    readonly ready: number;
    readonly seals: readonly SealReport[];
    readonly refused: readonly RefusedProcess[];
  } | null;
  /** The central server's link; null without AiBridge.Central (or with annotation off). */
  readonly uplink: { readonly seal: SealReport | null; readonly refused: readonly RefusedProcess[] } | null;
  /** The gateways sharing this site's database (one on SQLite), as of this node's last heartbeat. */
  readonly cluster?: ClusterView;
  /** Instances deleted from Orthanc, followed since this gateway started (README, "Instances deleted from Orthanc"). */
  readonly deletedInstances: DeletedInstancesView;
}

export interface DeletedInstancesView {
  /** Jobs forgotten, with their copies, on Orthanc's signal since start. */
  readonly forgotten: number;
  /** Deletions waiting for their job to settle. */
  readonly waiting: number;
  /** The comparison of every settled job with Orthanc that each start runs. */
  readonly startupCheck: {
    readonly state: 'running' | 'done' | 'failed';
    readonly checked: number;
    readonly forgotten: number;
    /** ISO time it ended; null while it runs. */
    readonly finishedAt: string | null;
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
  /** What the sealed worker read: Orthanc's stored file in place, or a copy spooled into phi/spool. */
  readonly originalRead: 'orthanc-storage' | 'spool' | null;
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
  /** The instance's study in Orthanc (null when the instance is gone) and where to open it. */
  readonly study: {
    readonly orthancId: string;
    readonly studyInstanceUid: string | null;
    /** Orthanc Explorer, relative to Orthanc's root. */
    readonly explorerPath: string;
    /** AiBridge.ViewerUrl filled in; null when not configured. */
    readonly viewerUrl: string | null;
  } | null;
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
  /** 0, then +1 each time a slice arriving after delivery re-opened the series (new result UIDs, the earlier results removed). */
  readonly revision: number;
  /** The delivered results in the viewer (OhifViewer or ViewerUrl); null when none is configured or nothing was delivered. */
  readonly viewerUrl?: string | null;
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
/** The annotator's own description of an installed model (plugin/core/annotate-messages.ts), served as is. */
export type ModelVersionView = InstalledVersionInfo;
export type ModelView = InstalledModelInfo;

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

// ---- Admin UI (/ai-bridge/ui/) -------------------------------------------------------------

/** GET /ai-bridge/jobs filters besides state/limit/offset (all optional, combined with AND). */
export interface JobSearchParameters {
  readonly state?: JobState;
  readonly modality?: string;
  /** Jobs whose de-identified copy fed an annotation by this model id. */
  readonly model?: string;
  /** Created at or after / before (ISO 8601 date or date-time). */
  readonly from?: string;
  readonly to?: string;
  /** Substring of the Orthanc instance id, SOP Instance UID, error code or message. */
  readonly q?: string;
}

/** One minute of work finished, oldest bucket first. */
export interface ThroughputBucket {
  /** Start of the minute. */
  readonly at: string;
  readonly deidentified: number;
  readonly annotated: number;
  readonly delivered: number;
  /** Quarantines and scheduled retries. */
  readonly errors: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

/** Work that is under way, with how far it got. */
export interface RunningWork {
  readonly kind: 'series-annotation' | 'instance-annotation' | 'bulk';
  readonly id: number;
  readonly label: string;
  readonly state: string;
  readonly done: number;
  /** null: the total is not known yet (a series of unknown size). */
  readonly total: number | null;
}

/** GET /ai-bridge/stats?minutes=30: what the dashboard polls (ETag / If-None-Match answer 304 when unchanged). */
export interface StatsResponse {
  readonly minutes: number;
  readonly throughput: readonly ThroughputBucket[];
  /** Unfinished work per stage, e.g. {"jobs:queued:received": 3, "annotations:collecting:collecting": 1}. */
  readonly depths: readonly { readonly pipeline: 'jobs' | 'annotations'; readonly state: string; readonly stage: string; readonly count: number }[];
  readonly latency: {
    /** Stored (job created) → de-identified copy written (job done). */
    readonly storeToDeidentified: LatencySummary;
    /** Stored (first member's job created) → results delivered by STOW-RS. */
    readonly storeToResult: LatencySummary;
  };
  readonly jobs: Readonly<Record<JobState, number>>;
  readonly annotations: Readonly<Record<AnnotationState, number>>;
  readonly running: readonly RunningWork[];
  /** The newest errors (quarantines, retries), newest first. */
  readonly recentErrors: readonly { readonly at: string; readonly pipeline: 'jobs' | 'annotations'; readonly id: number; readonly event: string; readonly detail: string | null }[];
}

/** Identifying attributes of a quarantined instance, present only for a PHI viewer. */
export interface QuarantineIdentifiers {
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly studyDescription: string | null;
  readonly accessionNumber: string | null;
}

export interface QuarantineEntry {
  readonly job: JobView;
  /** The error message: why it stopped. */
  readonly reason: string;
  /** The rule (error code) that stopped it. */
  readonly rule: string;
  /** What the instance is called on disk: the de-identified copy if written, else the Orthanc attachment. */
  readonly fileName: string;
  /** null unless the caller may see identifiers (AiBridge.PhiViewers). */
  readonly identifiers: QuarantineIdentifiers | null;
}

/** GET /ai-bridge/quarantine?limit=&offset= */
export interface QuarantineResponse {
  readonly entries: readonly QuarantineEntry[];
  readonly total: number;
  /** Whether identifiers are shown to this caller, and as whom. */
  readonly phiView: { readonly allowed: boolean; readonly user: string | null; readonly reason: string };
}

/** DELETE /ai-bridge/jobs/{id}: the job is forgotten (the instance stays in Orthanc); the audit log says who and why. */
export interface JobDeletedResponse {
  readonly deleted: number;
  readonly audit: AuditRecord;
}

/** One line of audit.jsonl. */
export interface AuditRecord {
  readonly at: string;
  readonly event: string;
  readonly jobId?: number;
  readonly instanceId?: string;
  readonly annotationId?: number;
  readonly detail?: string;
  readonly user?: string;
}

/** GET /ai-bridge/audit?limit= (JSON, newest last); ?format=csv|jsonl downloads the whole log. */
export interface AuditResponse {
  readonly entries: readonly AuditRecord[];
  readonly total: number;
}

/** GET /ai-bridge/config: the effective AiBridge section, defaults applied, secrets masked. */
export interface ConfigResponse {
  readonly keys: readonly {
    readonly key: string;
    readonly value: unknown;
    readonly isDefault: boolean;
    readonly secret: boolean;
    readonly description: string;
  }[];
}

/**
 * GET /ai-bridge/privacy. `central` counts what this site sent to the central
 * server: read from DataDirectory/central/traffic.json (CentralTraffic), which
 * the central link keeps; zeros while it has sent nothing.
 */
export interface PrivacyResponse {
  readonly profile: { readonly name: string; readonly description: string; readonly options: readonly string[]; readonly maxAgeYears: number | null };
  readonly termLists: readonly { readonly name: string; readonly terms: number }[];
  readonly audit: { readonly entries: number; readonly bytes: number };
  readonly central: { readonly bytesSent: number; readonly requests: number; readonly lastAt: string | null; readonly source: string };
}

/**
 * POST /ai-bridge/bulk body: an Orthanc /tools/find "Query" run at instance
 * level (it matches patient, study and series tags too), e.g.
 * {"query": {"Modality": "CT", "StudyDate": "20240101-"}}. Every matching
 * instance is processed again; answers 202 with the BulkView.
 */
export interface BulkRequest {
  readonly query: Readonly<Record<string, string>>;
}

export interface BulkView {
  readonly id: number;
  readonly query: Readonly<Record<string, string>>;
  /** true: values that may identify a patient are masked (the user is not in AiBridge.PhiViewers). */
  readonly queryMasked: boolean;
  readonly createdAt: string;
  readonly user: string | null;
  readonly instances: number;
  /** Jobs of the run per state now. */
  readonly jobs: Readonly<Record<JobState, number>>;
  readonly finished: boolean;
}

/** GET /ai-bridge/bulk: the runs, newest first. */
export interface BulkListResponse {
  readonly runs: readonly BulkView[];
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
  /** Who approved or declined it ('policy': the site's CategoryRequestLimits), when, why, and the studies granted. */
  readonly decision: { readonly by: string | null; readonly at: string; readonly reason: string | null; readonly studiesGranted: number | null } | null;
  readonly search: {
    /** awaiting-approval: nothing is searched until an administrator approves; declined: by an administrator or the site's limits. */
    readonly state: 'awaiting-approval' | 'declined' | 'pending' | 'searching' | 'uploading' | 'done' | 'failed';
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
  /** AiBridge.Central.CategoryRequestLimits and the studies searched this calendar month (UTC); null when not answering. */
  readonly limits: {
    readonly categories: readonly { readonly modality: string; readonly bodyPart: string }[];
    readonly studiesPerRequest: number;
    readonly studiesPerMonth: number;
    readonly studiesThisMonth: number;
  } | null;
}

/** POST /ai-bridge/central/requests/{id}/decline body (optional). */
export interface CategoryRequestDecline {
  readonly reason?: string;
}

/** One gateway (one Orthanc node) in the node registry. */
export interface NodeView {
  /** AiBridge.NodeName, default host name and HTTP port. */
  readonly name: string;
  /** active: claims work; draining: claims nothing new, finishes what it holds, does not follow the change log. */
  readonly state: 'active' | 'draining';
  /** Heartbeat seen within three heartbeat periods. */
  readonly alive: boolean;
  /** Holds the change-log follower lock. */
  readonly follower: boolean;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  /** Work items running under this node's leases, per kind. */
  readonly leases: Readonly<Record<string, number>>;
}

export interface ClusterView {
  /** This node's name. */
  readonly node: string;
  readonly backend: 'sqlite' | 'postgresql';
  readonly nodes: readonly NodeView[];
  /** Work-queue items per kind and state, all nodes together. */
  readonly queue: Readonly<Record<string, Readonly<Record<string, number>>>>;
}
