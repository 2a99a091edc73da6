// The HTTP contract between a site's annotator (de-identified zone, the only
// part of a site that talks to the central server) and the central server
// (central/, Koa). Both sides import these shapes; nothing else crosses.
//
// Authentication: every request carries `Authorization: Bearer <token>`.
// Admin routes take the admin token (DIR/admin.token on the central server);
// site routes take the token the admin issued to that site. Errors are
// CentralError JSON with a stable CENTRAL_* code; a 500 says only
// CENTRAL_INTERNAL and a reference (details stay in the server's log). Over a
// rate limit (per address, per token) the answer is 429 CENTRAL_RATE_LIMITED
// with Retry-After in seconds.

import type { ModelSummary } from './annotate-messages';

export const CENTRAL_API_PREFIX = '/api/v1';

/** Paths relative to the central server's origin. */
export const centralPaths = {
  /** GET (site): SignedCatalogue, with ETag; If-None-Match → 304. */
  catalogue: `${CENTRAL_API_PREFIX}/catalogue`,
  /** GET (any): the registry public key (PEM), for humans; sites are configured with it out of band. */
  registryKey: `${CENTRAL_API_PREFIX}/registry-key`,
  /** GET (site, entitled): PackageArchive of one model version. */
  modelPackage: (id: string, version: string) => `${CENTRAL_API_PREFIX}/models/${encodeURIComponent(id)}/${encodeURIComponent(version)}/package`,
  /** POST (site): one de-identified instance, body application/dicom → 201 UploadReceipt, 422 CentralError naming every reason. */
  uploads: `${CENTRAL_API_PREFIX}/uploads`,
  /**
   * PUT (site): the de-identified radiology report of one uploaded study (its pseudonymous Study Instance UID),
   * body text/plain; charset=utf-8 → 201/200 StudyReportReceipt (a correction replaces it), 422 CentralError naming every reason.
   */
  studyReport: (studyInstanceUid: string) => `${CENTRAL_API_PREFIX}/uploads/studies/${encodeURIComponent(studyInstanceUid)}/report`,
  /** GET (site): CategoryRequest[] open for this site. */
  requests: `${CENTRAL_API_PREFIX}/requests`,
  /** POST (site): CategoryRequestProgress for one request. */
  requestProgress: (requestId: string) => `${CENTRAL_API_PREFIX}/requests/${encodeURIComponent(requestId)}/progress`,
  /**
   * POST (admin): PackageArchive → 201 PublishReceipt (200 when the same bytes are already published);
   * refused (4xx CentralError) when the author signature does not verify. GET: the unfiltered SignedCatalogue.
   */
  adminModels: `${CENTRAL_API_PREFIX}/admin/models`,
  /** POST (admin): NewSite → 201 IssuedSite (token shown once). GET: SiteView[]. */
  adminSites: `${CENTRAL_API_PREFIX}/admin/sites`,
  /** POST (admin): the site's token stops working at once → SiteView. */
  adminSiteRevoke: (siteId: string) => `${CENTRAL_API_PREFIX}/admin/sites/${encodeURIComponent(siteId)}/revoke`,
  /** POST (admin): a new token replaces the old one (which stops working), also for a revoked site → IssuedSite. */
  adminSiteRotate: (siteId: string) => `${CENTRAL_API_PREFIX}/admin/sites/${encodeURIComponent(siteId)}/rotate`,
  /** PUT (admin): SiteEntitlement, the model ids the site may receive (replaces the list) → SiteView. */
  adminSiteModels: (siteId: string) => `${CENTRAL_API_PREFIX}/admin/sites/${encodeURIComponent(siteId)}/models`,
  /** GET (admin): CentralCounters, what was counted rather than audited. */
  adminCounters: `${CENTRAL_API_PREFIX}/admin/counters`,
  /** POST (admin): NewCategoryRequest → 201 CategoryRequest. GET: CategoryRequest[] with progress per site. */
  adminRequests: `${CENTRAL_API_PREFIX}/admin/requests`,
  /** POST (admin): NewTrainingJob → 202 TrainingJobView. GET: TrainingJobView[]. */
  adminTraining: `${CENTRAL_API_PREFIX}/admin/training`,
  /** GET (admin): one TrainingJobView. */
  adminTrainingJob: (jobId: string) => `${CENTRAL_API_PREFIX}/admin/training/${encodeURIComponent(jobId)}`,
  /** POST (admin): closes a CategoryRequest (sites stop seeing it) → CategoryRequest. */
  adminRequestClose: (requestId: string) => `${CENTRAL_API_PREFIX}/admin/requests/${encodeURIComponent(requestId)}/close`,
  /** GET (admin): the audit log, JSON lines. */
  adminAudit: `${CENTRAL_API_PREFIX}/admin/audit`,
} as const;

/** Header a site sets on uploads made to answer a category request. */
export const CATEGORY_REQUEST_HEADER = 'x-aib-category-request';

export interface CentralError {
  readonly error: { readonly code: string; readonly message: string; readonly reasons?: readonly string[] };
}

export interface ScanCategoryRef {
  readonly modality: string;
  /** Upper-case DICOM Body Part Examined terms (e.g. CHEST, HEAD). */
  readonly bodyPart: string;
}

/**
 * One package file, base64. A package is a folder (manifest.json, model.onnx,
 * signature.ed25519, commissioning/...); paths are relative, '/'-separated,
 * never absolute or containing '..'.
 */
export interface PackageFile {
  readonly path: string;
  readonly sha256: string;
  readonly base64: string;
}

export interface PackageArchive {
  readonly files: readonly PackageFile[];
}

export interface CatalogueEntry extends ModelSummary {
  /** sha256 of the package's manifest.json and model.onnx, as signed by the author. */
  readonly manifestSha256: string;
  readonly modelSha256: string;
  /** The author key that signed the package (keyId as in signature.ed25519) and its public key (PEM). */
  readonly author: { readonly keyId: string; readonly publicKeyPem: string };
  readonly publishedAt: string;
  /** Where the version came from: a person's upload, or a training job. */
  readonly origin: { readonly kind: 'published' } | { readonly kind: 'trained'; readonly trainingJobId: string };
}

export interface Catalogue {
  readonly format: 'orthanc-ai-bridge catalogue v1';
  /**
   * Increases with every change of any site's catalogue (a publish, an
   * entitlement change); a site never accepts a lower one than it has seen
   * (replay), and accepts an equal one only with the same models and an
   * issuedAt not older than the one it accepted (a re-issue to renew expiresAt).
   */
  readonly serial: number;
  /** ISO 8601; a site refuses a catalogue issued before the one it accepted, or in its future (beyond clock skew). */
  readonly issuedAt: string;
  /** ISO 8601; a site refuses the catalogue after this instant (a stale copy cannot be replayed forever). */
  readonly expiresAt: string;
  /** The site this copy was issued to: a catalogue is filtered by entitlement; a site refuses another site's. */
  readonly siteId: string;
  readonly models: readonly CatalogueEntry[];
}

/**
 * The catalogue as served. `payload` is the exact JSON text that was signed
 * (ed25519, registry key), so verification never depends on re-serialising.
 */
export interface SignedCatalogue {
  readonly payload: string;
  readonly keyId: string;
  readonly signature: string;
}

export interface PublishReceipt {
  readonly id: string;
  readonly version: string;
  readonly serial: number;
}

export interface NewSite {
  readonly siteId: string;
  readonly name: string;
  /** Model ids this site may receive; absent or empty = none until granted (PUT adminSiteModels). */
  readonly models?: readonly string[];
}

export interface SiteEntitlement {
  readonly models: readonly string[];
}

export interface IssuedSite {
  readonly siteId: string;
  readonly token: string;
}

export interface SiteView {
  readonly siteId: string;
  readonly name: string;
  readonly models: readonly string[];
  readonly createdAt: string;
  readonly lastSeenAt: string | null;
  /** Set when the admin revoked the token; a rotate issues a new one and clears it. */
  readonly revokedAt: string | null;
  readonly uploads: number;
}

/**
 * Requests counted rather than each written to the permanent audit: a flood
 * of them must not fill the disk. Since the server's first start.
 */
export interface CentralCounters {
  /** Requests that carried no valid token (refused, or the public registry key). */
  readonly unauthenticated: number;
  /** Requests answered 429 (per-address or per-token rate limit). */
  readonly rateLimited: number;
  readonly since: string;
}

export interface UploadReceipt {
  readonly uploadId: string;
  readonly sopInstanceUid: string;
  readonly category: ScanCategoryRef;
}

export interface StudyReportReceipt {
  readonly studyInstanceUid: string;
  readonly sha256: string;
}

export interface NewCategoryRequest {
  readonly category: ScanCategoryRef;
  /** Studies wanted from each site. */
  readonly studiesPerSite: number;
  readonly reason: string;
}

export interface CategoryRequest extends NewCategoryRequest {
  readonly id: string;
  readonly createdAt: string;
  readonly state: 'open' | 'closed';
  /** Per site (admin view) or this site only (site view). */
  readonly progress: readonly CategoryRequestProgress[];
}

export interface CategoryRequestProgress {
  readonly siteId: string;
  /** Studies the site's PACS query matched. */
  readonly studiesFound: number;
  /** Studies whose instances were de-identified and uploaded. */
  readonly studiesUploaded: number;
  readonly instancesUploaded: number;
  /**
   * awaiting-approval: the site lists the request for its administrator and
   * searches nothing until approved; declined: its administrator or its
   * configured limits said no (detail says why).
   */
  readonly state: 'awaiting-approval' | 'declined' | 'searching' | 'uploading' | 'done' | 'failed';
  readonly detail?: string;
  readonly updatedAt?: string;
}

export interface NewTrainingJob {
  /** The model to produce a new version of (a shipped id or a new one). */
  readonly modelId: string;
  readonly category: ScanCategoryRef;
  /** Sites whose uploads train; the held-out evaluation uses the others' only. */
  readonly trainSites: readonly string[];
  readonly evaluationSites: readonly string[];
}

export interface TrainingJobView extends NewTrainingJob {
  readonly id: string;
  readonly state: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly trainingInstances: number;
  readonly evaluationInstances: number;
  /** Held-out metrics (named, e.g. dice, accuracy) and the published version when it succeeded. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly published: PublishReceipt | null;
  readonly error: string | null;
}

/**
 * The site's own count of what its central link sent, in the de-identified
 * zone's `central/` folder: written by the annotator after every request, read
 * by the gateway for the admin UI's Privacy page.
 */
export const CENTRAL_TRAFFIC_FILE = 'traffic.json';

export interface CentralTraffic {
  /** Request bytes: request line, the headers the link sets, and the body. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly requests: number;
  readonly lastAt: string | null;
}
