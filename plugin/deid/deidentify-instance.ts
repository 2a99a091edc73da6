import { deidUid } from '../core/uid';
import type { UndecodableText, VaultEntry } from '../core/deid-messages';
import { patientIdentity, patientIdentityKey } from '../core/patient-identity';
import type { DeidEngine } from './deid-engine';
import { readFileSync } from 'node:fs';

import { AiBridgeError } from '../core/ai-bridge-error';
import { DeidentificationMethod } from '../core/codes';
import type { PixelCleaningRecord } from '../core/deid-messages';
import type { ScanCategory } from '../core/model-package/scan-category';
import type { RoutingFacts } from '../core/routing-facts';
import { cleanPixelData, findText, needsPixelCleaning, NeedsOcrWorkerError } from './burned-in/clean-pixel-data';
import { readStoredImage } from './burned-in/stored-image';
import { DeidNativeError, openDicomFile, parseDicom, type ApplyPlan, type DicomDocument, type InspectResult } from './native-dicom';
import { base32, dateShiftDays, keyedDigest, patientPseudonyms, pseudonymFor, type SiteKey } from './pseudonyms';
import { fitToVr, pseudonymizeReportPatient, pseudonymizeReportUids, scrubReport, scrubText, type TermSets } from './text';

export type { DeidEngine } from './deid-engine';

/**
 * The originals the result is linked on. Read from the instance's own parse
 * (its RoutingFacts); passed in only by tests and benches that de-identify one
 * file under several identities.
 */
export interface OriginalReferences {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
}

/** The decisions for one instance: what the native rewrite applies, what the vault records. */
interface InstancePlan {
  readonly found: InspectResult;
  readonly terms: TermSets;
  readonly plan: ApplyPlan;
  readonly vault: VaultEntry;
  readonly textHits: Readonly<Record<string, number>>;
  /** The study's report scrubbed with the same term sets (absent without a report). */
  readonly report?: ScrubbedReportText;
}

/** A report de-identified alongside an instance: its text with fiducials, and the fiducial kinds counted. */
export interface ScrubbedReportText {
  readonly text: string;
  readonly hits: Readonly<Record<string, number>>;
}

export interface DeidentifiedInstance {
  readonly bytes: Buffer;
  /** What model selection looks at, as written into the copy. */
  readonly scan: Required<ScanCategory>;
  /** What the pipeline routes on, read by this parse of the original. */
  readonly routing: RoutingFacts;
  readonly vault: VaultEntry;
  readonly textHits: Readonly<Record<string, number>>;
  /** Text not valid in its declared character set, given its row's strictest action (native-dicom.ts InspectResult). */
  readonly undecodableText: readonly UndecodableText[];
  /** Present when Clean Pixel Data searched the pixels. */
  readonly pixels?: PixelCleaningRecord;
  readonly report?: ScrubbedReportText;
}

export interface DeidentifiedFile {
  readonly sizeBytes: number;
  /** What the pipeline routes on, read by this parse of the original (hash and size of the file as read). */
  readonly routing: RoutingFacts;
  /** true when the pixel data went file to file without being parsed */
  readonly pixelDataSpliced: boolean;
  /** What model selection looks at, as written into the copy. */
  readonly scan: Required<ScanCategory>;
  readonly vault: VaultEntry;
  readonly textHits: Readonly<Record<string, number>>;
  readonly undecodableText: readonly UndecodableText[];
  readonly pixels?: PixelCleaningRecord;
  readonly report?: ScrubbedReportText;
}

/** The namespace of every UID this site remaps: one namespace, so references stay consistent across instances. */
export const UID_NAMESPACE = 'dicom-uid';

/**
 * One instance through the engine, bytes in and bytes out: native parse and
 * inspection, policy decisions here (pseudonyms, per-patient date shift,
 * keyed UIDs, the text second pass), native rewrite. Pure: no file system,
 * no network.
 */
export function deidentifyInstance(engine: DeidEngine, original: Buffer, references?: OriginalReferences): DeidentifiedInstance {
  const document = parseDicom(original);
  try {
    const routing = document.routing();
    const decided = planInstance(engine, document, references ?? referencesOf(routing));
    return { ...document.apply(engine.compiled, decided.plan), routing, vault: decided.vault, textHits: decided.textHits, undecodableText: decided.found.undecodable };
  } finally {
    document.dispose();
  }
}

/**
 * The same decisions, file to file: only the header of `inputPath` is parsed and
 * rewritten; its pixel data is copied into the output by the kernel (see
 * native-dicom.ts openDicomFile). `outputPath` names the output once the
 * de-identified UIDs are known; the output appears complete or not at all.
 */
export function deidentifyFile(
  engine: DeidEngine, inputPath: string, references: OriginalReferences | undefined, outputPath: (vault: VaultEntry) => string,
): DeidentifiedFile {
  const document = openDicomFile(inputPath);
  try {
    const routing = document.routing();
    const decided = planInstance(engine, document, references ?? referencesOf(routing));
    const written = document.applyToFile(engine.compiled, decided.plan, outputPath(decided.vault));
    return { ...written, routing, vault: decided.vault, textHits: decided.textHits, undecodableText: decided.found.undecodable };
  } finally {
    document.dispose();
  }
}

/**
 * deidentifyInstance with Clean Pixel Data when the engine has a pixel cleaner
 * and the instance needs it (burned-in/clean-pixel-data.ts): the pixels are
 * searched and the boxes filled before the header rewrite, and the option
 * code DCM 113101 joins the method codes. `label` names the input in errors
 * (an Orthanc instance id or a file path, never a patient value). Any pixel
 * failure (corrupt stream, frame of the wrong length, unsupported syntax, no
 * finder) is thrown: the caller quarantines, it never passes the pixels on.
 */
export async function deidentifyInstanceCleaningPixels(
  engine: DeidEngine, original: Buffer, references: OriginalReferences | undefined, label: string, reportText?: string,
): Promise<DeidentifiedInstance> {
  const document = parseDicom(original);
  try {
    const routing = document.routing();
    const decided = planInstance(engine, document, references ?? referencesOf(routing), undefined, reportText);
    const pixels = await cleanIfNeeded(engine, document, decided, label);
    return { ...document.apply(engine.compiled, pixels?.plan ?? decided.plan), routing, vault: decided.vault, textHits: decided.textHits, undecodableText: decided.found.undecodable, ...(pixels ? { pixels: pixels.record } : {}), ...reportOf(decided) };
  } finally {
    document.dispose();
  }
}

/**
 * deidentifyFile with Clean Pixel Data: an instance that needs no cleaning
 * keeps the splice (header parsed, pixel data copied by the kernel); one that
 * needs it is read whole and parsed again, since its pixels must be decoded.
 * `hashInput` false: the routing facts carry no SHA-256 (sha256 '').
 */
export async function deidentifyFileCleaningPixels(
  engine: DeidEngine, inputPath: string, references: OriginalReferences | undefined, outputPath: (vault: VaultEntry) => string, reportText?: string,
  hashInput = true,
): Promise<DeidentifiedFile> {
  const header = openDicomFile(inputPath);
  let routing: RoutingFacts;
  try {
    // Hashed here, from the file as it is read (the second read below, if any, is of the same bytes).
    routing = header.routing(hashInput);
    const found = header.inspect(engine.compiled);
    const cleaning = engine.pixels !== undefined && needsPixelCleaning(engine.pixels.settings, found);
    // Refused before the whole file is read: the OCR worker reads it again.
    if (cleaning && engine.pixels.ocrElsewhere === true) throw new NeedsOcrWorkerError(inputPath);
    if (!cleaning) {
      const decided = planInstance(engine, header, references ?? referencesOf(routing), found, reportText);
      const written = header.applyToFile(engine.compiled, decided.plan, outputPath(decided.vault));
      return { ...written, routing, vault: decided.vault, textHits: decided.textHits, undecodableText: decided.found.undecodable, ...reportOf(decided) };
    }
  } finally {
    header.dispose();
  }
  const document = parseDicom(readFileSync(inputPath));
  try {
    const decided = planInstance(engine, document, references ?? referencesOf(routing), undefined, reportText);
    const pixels = await cleanIfNeeded(engine, document, decided, inputPath);
    const written = document.applyToFile(engine.compiled, pixels?.plan ?? decided.plan, outputPath(decided.vault));
    return { ...written, routing, vault: decided.vault, textHits: decided.textHits, undecodableText: decided.found.undecodable, ...(pixels ? { pixels: pixels.record } : {}), ...reportOf(decided) };
  } finally {
    document.dispose();
  }
}

/** The vault links the copy on the original's own UIDs, as its parse read them. */
function referencesOf(routing: RoutingFacts): OriginalReferences {
  if (routing.sopInstanceUid === '') throw new DeidNativeError('AIB_DEID_NOT_DICOM', 'input has no SOP Instance UID (0008,0018)');
  return { sopInstanceUid: routing.sopInstanceUid, seriesInstanceUid: routing.seriesInstanceUid, studyInstanceUid: routing.studyInstanceUid };
}

async function cleanIfNeeded(
  engine: DeidEngine, document: DicomDocument, decided: InstancePlan, label: string,
): Promise<{ readonly record: PixelCleaningRecord; readonly plan: ApplyPlan } | undefined> {
  const cleaner = engine.pixels;
  // No Pixel Data (an encapsulated PDF, an SR): nothing can be burned in.
  if (cleaner === undefined || !decided.found.hasPixelData || !needsPixelCleaning(cleaner.settings, decided.found)) return undefined;
  if (cleaner.ocrElsewhere === true) throw new NeedsOcrWorkerError(label);
  let record: PixelCleaningRecord;
  try {
    const image = readStoredImage(document);
    const found = await findText(image, cleaner, decided.terms);
    record = cleanPixelData(document, image, found, cleaner.settings.mode);
  } catch (error) {
    // Same code (AIB_PIXELS_*, AIB_DEID_PIXELS_*), never transient, and the message names the input.
    if (error instanceof AiBridgeError) throw new AiBridgeError(error.code, `Clean Pixel Data of ${label}: ${error.message}`, error.details, false);
    throw error;
  }
  const markers = {
    ...decided.plan.markers,
    // PS3.15 E.1.1: each option applied is recorded in (0012,0064).
    methodCodes: [...decided.plan.markers.methodCodes, DeidentificationMethod.CleanPixelDataOption],
    burnedInAnnotation: record.burnedInAnnotation === 'NO' ? 'NO' as const : 'YES' as const,
  };
  return { record, plan: { ...decided.plan, markers } };
}

function reportOf(decided: InstancePlan): { report?: ScrubbedReportText } {
  return decided.report === undefined ? {} : { report: decided.report };
}

/**
 * `reportText`: the study's report (issue 16, claim 10). Its identifiers join
 * the header's in the term sets, so the header text pass below and the
 * burned-in text decisions (cleanIfNeeded, same `terms`) both look for them;
 * the report itself is scrubbed with those same sets, the way `deid --report`
 * does it (scrubReport over buildTermSets of header and report).
 */
function planInstance(engine: DeidEngine, document: DicomDocument, references: OriginalReferences, inspected?: InspectResult, reportText?: string): InstancePlan {
  const found = inspected ?? document.inspect(engine.compiled);
  const key = engine.key;
  const identity = patientIdentity({ ...found.patient, studyInstanceUid: references.studyInstanceUid });
  const pseudonyms = patientPseudonyms(key, identity);
  const accession = found.accessionNumber === '' ? '' : pseudonymFor(key, 'accession', found.accessionNumber);
  const shift = engine.policy.shiftDates ? dateShiftDays(key, patientIdentityKey(identity)) : 0;

  const uidMap: Record<string, string> = {};
  for (const uid of found.uids) uidMap[uid] = deidUid(key.bytes(), UID_NAMESPACE, uid);
  for (const uid of [references.sopInstanceUid, references.seriesInstanceUid, references.studyInstanceUid]) {
    uidMap[uid] ??= deidUid(key.bytes(), UID_NAMESPACE, uid);
  }

  const terms = engine.termSets.termSetsFor(found, reportText);
  const texts: Record<string, string> = {};
  const textHits: Record<string, number> = {};
  for (const text of found.texts) {
    const scrubbed = scrubText(text.value, terms);
    // Unchanged values are written back as they came; only a changed one must be refitted to its VR.
    texts[text.path] = scrubbed.hits.length === 0 ? scrubbed.text : fitToVr(scrubbed.text, text.vr);
    for (const hit of scrubbed.hits) textHits[hit.kind] = (textHits[hit.kind] ?? 0) + 1;
  }

  const plan: ApplyPlan = {
    replacements: { patientId: pseudonyms.patientId, patientName: pseudonyms.patientName, accessionNumber: accession },
    dateShiftDays: shift,
    uidMap,
    texts,
    markers: {
      patientIdentityRemoved: 'YES',
      deidentificationMethod: engine.policy.deidentificationMethod,
      methodCodes: engine.policy.methodCodes,
      longitudinalTemporalInformationModified: engine.policy.longitudinalTemporalInformationModified,
    },
  };
  const mapped = (uid: string): string => {
    const value = uidMap[uid];
    if (value === undefined) throw new DeidNativeError('AIB_DEID_BAD_PLAN', 'a reference UID has no mapping');
    return value;
  };
  let report: ScrubbedReportText | undefined;
  if (reportText !== undefined) {
    // The report's dates move with the images' dates (the same per-patient shift); a policy that does not shift dates leaves fiducials.
    const scrubbed = scrubReport(reportText, terms, engine.policy.shiftDates ? { dateShiftDays: shift } : {});
    const hits: Record<string, number> = {};
    for (const hit of scrubbed.hits) hits[hit.kind] = (hits[hit.kind] ?? 0) + 1;
    // UIDs the images do not carry get the UID the images would (the same keyed derivation), so none stays original.
    const uids = (uid: string): string => uidMap[uid] ?? deidUid(key.bytes(), UID_NAMESPACE, uid);
    report = { text: pseudonymizeReportUids(pseudonymizeReportPatient(scrubbed.text, pseudonyms), uids), hits };
  }
  return {
    found,
    terms,
    plan,
    textHits,
    ...(report === undefined ? {} : { report }),
    vault: {
      linkToken: linkToken(key, references.sopInstanceUid),
      patient: { identity, pseudonymId: pseudonyms.patientId, pseudonymName: pseudonyms.patientName, dateShiftDays: shift },
      accession: { original: found.accessionNumber, pseudonym: accession },
      uids: uidMap,
      sopInstanceUid: { original: references.sopInstanceUid, deid: mapped(references.sopInstanceUid) },
      seriesInstanceUid: { original: references.seriesInstanceUid, deid: mapped(references.seriesInstanceUid) },
      studyInstanceUid: { original: references.studyInstanceUid, deid: mapped(references.studyInstanceUid) },
    },
  };
}

/**
 * Opaque, stable per original instance (a retry gets the same token), and
 * meaningless without the vault: an HMAC, not an encoding of the UID.
 */
export function linkToken(key: SiteKey, originalSopInstanceUid: string): string {
  return `LT${base32(keyedDigest(key, 'link-token', originalSopInstanceUid).subarray(0, 15))}`;
}
