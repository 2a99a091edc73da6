// Messages between the gateway (PHI zone) and the annotator process
// (de-identified zone). The annotator only ever sees paths inside the
// de-identified store and link tokens; it writes its results to outbox/.
// Checked on arrival: the annotator is another process, its frames are data.
import type { SealReport } from './seal-report';

import type { CategoryRules } from './model-package/scan-category';

/** Gateway → annotator, once. */
export interface AnnotatorInitRequest extends AnnotatorCentralInit {
  readonly k: 'init';
  /** deid/: the de-identified store (read only for the annotator). */
  readonly deidDirectory: string;
  /** outbox/: where results are written, one folder per annotation. */
  readonly outboxDirectory: string;
  /** models/: installed, verified model versions. */
  readonly modelsDirectory: string;
}

export interface ModelSummary {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  /** 'instance': one result per image; 'series': one result per complete series. */
  readonly unit: 'instance' | 'series';
  readonly modalities: readonly string[];
  readonly bodyParts: readonly string[];
}

/**
 * An active model version and the scans it serves: the gateway chooses the
 * model for each de-identified copy with these rules (selectModel in
 * model-package/scan-category.ts), so no instance job waits for the annotator.
 */
export interface ActiveModel {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  /** 'instance': one result per image; 'series': one result per complete series. */
  readonly unit: 'instance' | 'series';
  readonly category: CategoryRules;
}

export interface AnnotatorReady {
  readonly k: 'ready';
  readonly models: readonly ActiveModel[];
  /** What the kernel applied before the annotator took any work. */
  readonly seal: SealReport;
}

/** Gateway → annotator: the active models now (after an install, an activation or a rollback). */
export interface ActiveModelsRequest {
  readonly k: 'active-models';
}

export interface ActiveModelsReply {
  readonly k: 'active-models';
  readonly models: readonly ActiveModel[];
}

/** Gateway → annotator: run a model over these de-identified instances and build its results. */
export interface AnnotateRequest {
  readonly k: 'annotate';
  /** Stable per annotation (unit + model): names its folder in outbox/. */
  readonly key: string;
  readonly model: { readonly id: string; readonly version: string };
  readonly members: readonly { readonly deidPath: string; readonly linkToken: string }[];
}

export interface AnnotationOutput {
  readonly kind: 'sr' | 'gsps';
  /** Relative to outbox/. */
  readonly path: string;
  readonly sopClassUid: string;
}

export interface AnnotateSuccess {
  readonly k: 'annotated';
  readonly ok: true;
  readonly outputs: readonly AnnotationOutput[];
  readonly findings: number;
  readonly summary: string;
  /** The link tokens of the images the results reference. */
  readonly referencedTokens: readonly string[];
}

export interface AnnotateFailure {
  readonly k: 'annotated';
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly transient: boolean;
}

export type AnnotateReply = AnnotateSuccess | AnnotateFailure;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isStrings(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isActiveModel(value: unknown): value is ActiveModel {
  if (!isRecord(value) || typeof value['id'] !== 'string' || typeof value['version'] !== 'string' || typeof value['name'] !== 'string') return false;
  if (value['unit'] !== 'instance' && value['unit'] !== 'series') return false;
  const c = value['category'];
  return isRecord(c) && isStrings(c['modalities']) && isStrings(c['bodyParts']) && isStrings(c['descriptionKeywords']) &&
    (c['excludedDescriptionKeywords'] === undefined || isStrings(c['excludedDescriptionKeywords'])) &&
    (c['views'] === undefined || isStrings(c['views'])) && typeof c['seriesLevel'] === 'boolean';
}

export function isAnnotatorReady(value: unknown): value is AnnotatorReady {
  return isRecord(value) && value['k'] === 'ready' && Array.isArray(value['models']) && value['models'].every(isActiveModel) && isRecord(value['seal']);
}

export function isActiveModelsReply(value: unknown): value is ActiveModelsReply {
  return isRecord(value) && value['k'] === 'active-models' && Array.isArray(value['models']) && value['models'].every(isActiveModel);
}

export function isAnnotateReply(value: unknown): value is AnnotateReply {
  if (!isRecord(value) || value['k'] !== 'annotated') return false;
  if (value['ok'] === true) {
    return Array.isArray(value['outputs']) && value['outputs'].every((o) => isRecord(o) && typeof o['path'] === 'string' &&
      (o['kind'] === 'sr' || o['kind'] === 'gsps') && typeof o['sopClassUid'] === 'string') &&
      typeof value['findings'] === 'number' && typeof value['summary'] === 'string' && Array.isArray(value['referencedTokens']);
  }
  return value['ok'] === false && typeof value['code'] === 'string' && typeof value['message'] === 'string';
}

// ---------------------------------------------------------------------------
// The central link (issue 7). The annotator is the only part of a site that
// talks to the central server; the gateway asks it, through these messages,
// what is installed and what the central server wants, and hands it the
// de-identified copies to upload. Nothing in them names a patient: paths
// inside deid/, model ids and versions, request ids, counts.

/** AiBridge.Central as the uplink and the annotator need it (the gateway reads the config and passes it in init). */
export interface CentralLinkSettings {
  readonly url: string;
  /** AiBridge.Central.SiteId: a catalogue issued to another site is refused. */
  readonly siteId: string;
  /** Read by the uplink on every request (so a token rewritten in place needs no restart); never logged. */
  readonly siteTokenFile: string;
  readonly registryPublicKeyFile: string;
  readonly pollSeconds: number;
  readonly uploadForTraining: boolean;
  readonly answerCategoryRequests: boolean;
  readonly uploadAttempts: number;
}

/** init's optional part: where the link keeps its state (de-identified zone) and how it is configured. */
export interface AnnotatorCentralInit {
  readonly centralDirectory: string;
  readonly central?: CentralLinkSettings;
}

/** One installed version of a model: GET /ai-bridge/models shows it as is (ModelVersionView). */
export interface InstalledVersionInfo {
  readonly version: string;
  readonly installedAt: string | null;
  /** Where the package came from: built into this repository, the central registry, or installed by hand. */
  readonly source: 'bundled' | 'central' | 'manual';
  readonly signature: { readonly keyId: string; readonly verified: boolean };
  readonly commissioning: { readonly passed: boolean; readonly fraction: number; readonly passMark: number } | null;
}

export interface InstalledModelInfo {
  readonly id: string;
  readonly name: string;
  readonly unit: 'instance' | 'series';
  readonly modalities: readonly string[];
  readonly bodyParts: readonly string[];
  /** The version serving now (null: installed but none active). */
  readonly active: string | null;
  /** The version a rollback would return to. */
  readonly rollbackTo: string | null;
  readonly versions: readonly InstalledVersionInfo[];
}

/** A package the link refused, and why (kept so it is not fetched again every poll). */
export interface RefusedPackage {
  readonly id: string;
  readonly version: string;
  readonly code: string;
  readonly reason: string;
  readonly at: string;
}

export interface CentralLinkStatus {
  readonly url: string;
  readonly lastPollAt: string | null;
  readonly catalogueSerial: number | null;
  readonly lastError: string | null;
  readonly refused: readonly RefusedPackage[];
  readonly uploads: {
    readonly pending: number;
    readonly uploaded: number;
    readonly refused: number;
    /** The last refusal or failure, with the server's reason. */
    readonly lastError: string | null;
  };
}

/** One open central request for a new scan category, as this site sees it. */
export interface SiteCategoryRequest {
  readonly id: string;
  readonly modality: string;
  readonly bodyPart: string;
  readonly studiesPerSite: number;
  readonly reason: string;
  /** false once the central server no longer lists it as open for this site. */
  readonly open: boolean;
  /** What this site's annotator uploaded for it so far. */
  readonly instancesUploaded: number;
  readonly studiesUploaded: number;
  readonly instancesRefused: number;
}

/** Gateway → annotator. */
export interface ListModelsRequest { readonly k: 'list-models' }
// `modelId`, not `id`: a frame header's `id` is the request number (frame-channel.ts).
export interface ActivateModelRequest { readonly k: 'activate-model'; readonly modelId: string; readonly version: string }
export interface RollbackModelRequest { readonly k: 'rollback-model'; readonly modelId: string }
export interface CentralStatusRequest { readonly k: 'central-status' }
/** Upload one de-identified copy (queued on disk; the link's process uploads it). */
export interface CentralUploadRequest { readonly k: 'central-upload'; readonly deidPath: string; readonly requestId?: string }
/** What the PHI zone found for a request; the link adds its upload counts and posts the progress. */
export interface CategoryProgressRequest {
  readonly k: 'category-progress';
  readonly requestId: string;
  readonly studiesFound: number;
  /** Instances handed over for upload so far. */
  readonly instancesQueued: number;
  /** true: the search is over and every instance found was handed over (or failed in the PHI zone). */
  readonly searchComplete: boolean;
  readonly failed: boolean;
  /** Before any search: the site's administrator has not approved yet, or declined (or the site's limits did). */
  readonly decision?: 'awaiting-approval' | 'declined';
  /** No identifier: counts, error codes and the decision's reason only. */
  readonly detail?: string;
}

/** Annotator → gateway. */
export interface ModelsReply { readonly k: 'models'; readonly models: readonly InstalledModelInfo[] }
export interface ModelChangeReply {
  readonly k: 'model-changed';
  readonly ok: boolean;
  readonly model?: InstalledModelInfo;
  readonly code?: string;
  readonly message?: string;
}
export interface CentralStatusReply {
  readonly k: 'central-status';
  readonly link: CentralLinkStatus | null;
  readonly requests: readonly SiteCategoryRequest[];
}
export interface AckReply { readonly k: 'ack'; readonly ok: boolean; readonly message?: string }

/**
 * Uplink → gateway → annotator: install the package the uplink downloaded and
 * checked against the catalogue into central/staging/ (the uplink cannot
 * write models/, the annotator cannot reach the network).
 */
export interface InstallPackageRequest {
  readonly k: 'install-package';
  /** Relative to central/, inside central/staging/. */
  readonly staging: string;
  readonly authorKeyId: string;
  readonly authorKeyPem: string;
}

export type InstallPackageReply =
  | { readonly k: 'package-installed'; readonly ok: true; readonly commissioningFraction: number }
  | { readonly k: 'package-installed'; readonly ok: false; readonly code: string; readonly message: string; readonly transient: boolean };

export function isInstallPackageReply(value: unknown): value is InstallPackageReply {
  return isRecord(value) && value['k'] === 'package-installed' && typeof value['ok'] === 'boolean';
}

export function isModelsReply(value: unknown): value is ModelsReply {
  return isRecord(value) && value['k'] === 'models' && Array.isArray(value['models']) &&
    value['models'].every((m) => isRecord(m) && typeof m['id'] === 'string' && Array.isArray(m['versions']));
}

export function isModelChangeReply(value: unknown): value is ModelChangeReply {
  return isRecord(value) && value['k'] === 'model-changed' && typeof value['ok'] === 'boolean';
}

export function isCentralStatusReply(value: unknown): value is CentralStatusReply {
  return isRecord(value) && value['k'] === 'central-status' && (value['link'] === null || isRecord(value['link'])) &&
    Array.isArray(value['requests']) && value['requests'].every((r) => isRecord(r) && typeof r['id'] === 'string' &&
      typeof r['modality'] === 'string' && typeof r['bodyPart'] === 'string' && typeof r['studiesPerSite'] === 'number');
}

export function isAckReply(value: unknown): value is AckReply {
  return isRecord(value) && value['k'] === 'ack' && typeof value['ok'] === 'boolean';
}
