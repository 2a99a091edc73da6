import type { SealReport } from './seal-report';

// Messages between the gateway (PHI zone) and the sealed de-identification
// worker, checked on arrival: a worker is another process, its frames are data.
import type { PatientIdentity } from './patient-identity';

import { isRoutingFacts, type RoutingFacts } from './routing-facts';
import { isScanCategory, type ScanCategory } from './model-package/scan-category';

/**
 * Gateway → worker, once, before any PHI. The worker loads (or creates) the
 * site key itself, before it seals: the gateway never holds the key.
 */
export interface DeidInitRequest {
  readonly k: 'init';
  readonly profile: string;
  /** Folder of the de-identified store; the only place the worker may write once sealed. */
  readonly deidDirectory: string;
  /** phi/site.key: keyed HMAC secret, mode 0600. */
  readonly siteKeyFile: string;
  /** Absent: 'never'. */
  readonly cleanPixels?: CleanPixelsSettings;
  /**
   * false: a plain worker that loads no OCR models and answers an image that
   * needs Clean Pixel Data with AIB_DEID_NEEDS_OCR_WORKER. Absent: true (the
   * OCR worker).
   */
  readonly ocr?: boolean;
  /** Folders whose files `inputPath` may name (phi/spool/; the CLI's inputs): the only data the sealed worker can read. */
  readonly inputDirectories: readonly string[];
}

/** Worker → gateway: ready to take instances, sealed as reported. */
export interface DeidReady {
  readonly k: 'ready';
  readonly seal: SealReport;
  readonly profile: string;
  /** true when this worker loaded the OCR models. */
  readonly ocr?: boolean;
}

/**
 * Gateway → worker, per instance: the original as `inputPath` (the gateway's
 * spool file, the `deid` command's input), parsed only up to its pixel data,
 * which is copied file to file. The worker reads every fact it needs, the
 * original UIDs included, from its own parse. (Without `inputPath` the frame's
 * body is the original; only benches hand bytes over.)
 */
export interface DeidRequest {
  readonly k: 'deid';
  /** Names the instance in errors: an Orthanc instance id, or the command line's input path. */
  readonly instanceId: string;
  /** Absolute path of the original Part 10 file (phi/spool/…, or a `deid` command input). */
  readonly inputPath?: string;
  /**
   * One folder name under the worker's output folder to write into instead of its root
   * (the `deid` command: each input its own, so two inputs with one SOP Instance UID
   * never share a staged file). The output is then <outputFolder>/<sop>.dcm, without the
   * study and series folders the gateway's readers expect.
   */
  readonly outputFolder?: string;
  /**
   * The study's newest radiology report (HL7 v2 or plain text, PHI), when the
   * report system sent one (issue 16, claim 10): its identifiers join the term
   * sets of the header text pass and the burned-in text decisions, and its
   * de-identified copy is written beside the study in the de-identified store.
   */
  readonly report?: { readonly id: number; readonly text: string };
  /** false: the worker does not hash the input (its routing facts carry sha256 ''); the `deid` command records no hash. */
  readonly hashInput?: boolean;
}

/** What the gateway records in the vault (PHI zone) for one instance. */
export interface VaultEntry {
  readonly linkToken: string;
  /** `identity` is the key the pseudonyms and the date shift were derived from (plugin/core/patient-identity.ts). */
  readonly patient: { readonly identity: PatientIdentity; readonly pseudonymId: string; readonly pseudonymName: string; readonly dateShiftDays: number };
  readonly accession: { readonly original: string; readonly pseudonym: string };
  /** original UID → de-identified UID, for every UID remapped in this instance */
  readonly uids: Readonly<Record<string, string>>;
  readonly sopInstanceUid: { readonly original: string; readonly deid: string };
  readonly studyInstanceUid: { readonly original: string; readonly deid: string };
  readonly seriesInstanceUid: { readonly original: string; readonly deid: string };
}

/** Clean Pixel Data settings the gateway hands to each worker (AiBridge.CleanPixels*). */
export interface CleanPixelsSettings {
  /** 'auto': images of `modalities` and any image with BurnedInAnnotation YES; 'always': every image; 'never'. */
  readonly apply: 'auto' | 'always' | 'never';
  readonly modalities: readonly string[];
  /** 'all-text': cover every text region found; 'identifiers-only': keep text that matches no identifier rule. */
  readonly mode: 'all-text' | 'identifiers-only';
}

/** One filled box, for the audit log: where and why, never the text read. */
export interface PixelBoxRecord {
  /** 0-based frame index. */
  readonly frame: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly reason: 'identifier' | 'text' | 'device-rule';
  readonly rule: string;
}

/** What Clean Pixel Data did to one instance (audit.jsonl, PHI zone). */
export interface PixelCleaningRecord {
  /** Transfer syntax of the original and of the de-identified copy (Explicit VR LE once a box was filled). */
  readonly transferSyntaxUid: string;
  readonly outputTransferSyntaxUid: string;
  readonly photometricInterpretation: string;
  readonly outputPhotometricInterpretation: string;
  readonly frames: number;
  readonly mode: 'all-text' | 'identifiers-only';
  /** Which finders searched the frames: 'ocr', 'device-rules'. */
  readonly finders: readonly string[];
  readonly boxes: readonly PixelBoxRecord[];
  /** Text regions left visible (identifiers-only mode). */
  readonly keptTextRegions: number;
  /** (0028,0301) as written. */
  readonly burnedInAnnotation: string;
}

export interface DeidSuccess {
  readonly k: 'deidResult';
  readonly ok: true;
  /** Relative to the de-identified store. */
  readonly outputPath: string;
  /** Read from the original by the worker's parse: what the pipeline routes on (PHI: original UIDs). */
  readonly routing: RoutingFacts;
  /** What model selection looks at, as the worker wrote it into the copy (de-identified values). */
  readonly scan: Required<ScanCategory>;
  readonly sizeBytes: number;
  readonly vault: VaultEntry;
  /** Kinds and counts of text hits replaced by fiducials (never the values). */
  readonly textHits: Readonly<Record<string, number>>;
  /** Present when Clean Pixel Data searched the instance's pixels. */
  readonly pixels?: PixelCleaningRecord;
  /** Text elements not valid in their declared character set, each given its row's strictest action (never the value). */
  readonly undecodableText?: readonly UndecodableText[];
  /** Present when the request carried a report: its de-identified copy (relative to the store) and its fiducial counts. */
  readonly report?: { readonly id: number; readonly path: string; readonly hits: Readonly<Record<string, number>> };
}

/** A text element the worker could not decode: where it was and what was done, for audit.jsonl. */
export interface UndecodableText {
  /** Location syntax of docs/deid-engine.md, e.g. "00400275[0].00321060". */
  readonly path: string;
  readonly keyword: string;
  readonly vr: string;
}

export interface DeidFailure {
  readonly k: 'deidResult';
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  /** false: the input itself is bad; retrying cannot help. */
  readonly transient: boolean;
}

export type DeidResult = DeidSuccess | DeidFailure;

export function isDeidResult(value: unknown): value is DeidResult {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v['k'] !== 'deidResult') return false;
  if (v['ok'] === true) return typeof v['outputPath'] === 'string' && typeof v['vault'] === 'object' && v['vault'] !== null && isRoutingFacts(v['routing']) && isScanCategory(v['scan']);
  return v['ok'] === false && typeof v['code'] === 'string' && typeof v['message'] === 'string';
}

export function isDeidReady(value: unknown): value is DeidReady {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['k'] === 'ready' && typeof v['seal'] === 'object' && v['seal'] !== null;
}
