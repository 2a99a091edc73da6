import dcmjs from 'dcmjs';

import { AiBridgeError } from '../core/ai-bridge-error';

dcmjs.log.setLevel('silent');

/** The patient and study a result goes back to, as Orthanc holds the original (PHI zone). */
export interface OriginalStudy {
  readonly patientName: string;
  readonly patientId: string;
  readonly issuerOfPatientId: string;
  readonly patientBirthDate: string;
  readonly patientSex: string;
  readonly studyInstanceUid: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyId: string;
  readonly accessionNumber: string;
  readonly referringPhysicianName: string;
}

export interface RelinkPlan {
  /** The original of a de-identified UID, from the vault; undefined for a UID the de-identification never made. */
  readonly originalUid: (deidUid: string) => string | undefined;
  readonly study: OriginalStudy;
  /** Deterministic UIDs of the relinked object (same source + same model version → same UIDs). */
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

export interface RelinkedResult {
  readonly bytes: Buffer;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** How many references were turned back into original UIDs. */
  readonly referencesRelinked: number;
}

type Element = dcmjs.data.DicomElement;
type Dict = Record<string, Element>;

/** Patient/study module tags taken from the original, never from the de-identified copy. */
const STUDY_TAGS: readonly (readonly [string, string, keyof OriginalStudy])[] = [
  ['00100010', 'PN', 'patientName'],
  ['00100020', 'LO', 'patientId'],
  ['00100021', 'LO', 'issuerOfPatientId'],
  ['00100030', 'DA', 'patientBirthDate'],
  ['00100040', 'CS', 'patientSex'],
  ['0020000D', 'UI', 'studyInstanceUid'],
  ['00080020', 'DA', 'studyDate'],
  ['00080030', 'TM', 'studyTime'],
  ['00200010', 'SH', 'studyId'],
  ['00080050', 'SH', 'accessionNumber'],
  ['00080090', 'PN', 'referringPhysicianName'],
];

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function value(vr: string, text: string): Element {
  if (text === '') return { vr, Value: [] };
  return { vr, Value: [vr === 'PN' ? { Alphabetic: text } : text] };
}

const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);

/**
 * dcmjs 0.51 decodes text inside sequence items as Latin-1 whatever the
 * Specific Character Set says, so a read and write would encode UTF-8 twice
 * (e.g. "mm²" in an SR TEXT item). Our results are ISO_IR 192: such a string is
 * the UTF-8 bytes seen as Latin-1, and turning it back is exact.
 */
function utf8FromLatin1Misread(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text) || /[^\x00-\xff]/.test(text)) return text;
  return Buffer.from(text, 'latin1').toString('utf8');
}

function repairText(value: unknown): unknown {
  if (typeof value === 'string') return utf8FromLatin1Misread(value);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? utf8FromLatin1Misread(v) : v]));
  }
  return value;
}

/** Rewrites every UI value found in the vault, at any depth; returns how many. */
function relinkUids(dict: Dict, originalUid: (uid: string) => string | undefined, depth: number): number {
  if (depth > 64) throw new AiBridgeError('AIB_RELINK_FAILED', 'result nests sequences deeper than 64 levels', {}, false);
  let count = 0;
  for (const element of Object.values(dict)) {
    const values = element.Value;
    if (values === undefined) continue;
    if (depth > 0 && TEXT_VRS.has(element.vr)) element.Value = values.map(repairText);
    if (element.vr === 'SQ') {
      for (const item of values) count += relinkUids(item as Dict, originalUid, depth + 1);
    } else if (element.vr === 'UI') {
      element.Value = values.map((v) => {
        if (typeof v !== 'string') return v;
        const original = originalUid(v);
        if (original === undefined) return v;
        count++;
        return original;
      });
    }
  }
  return count;
}

function collectUids(dict: Dict, into: Set<string>, depth: number): void {
  if (depth > 64) throw new AiBridgeError('AIB_RELINK_FAILED', 'result nests sequences deeper than 64 levels', {}, false);
  for (const element of Object.values(dict)) {
    const values = element.Value ?? [];
    if (element.vr === 'SQ') for (const item of values) collectUids(item as Dict, into, depth + 1);
    else if (element.vr === 'UI') for (const v of values) if (typeof v === 'string') into.add(v);
  }
}

/**
 * Every UI value of a result, at any depth: what relinkResult may ask the
 * vault about, looked up in one query beforehand (the vault answers
 * asynchronously, relinkResult's lookup is synchronous).
 */
export function uidValues(bytes: Buffer): string[] {
  const into = new Set<string>();
  try {
    collectUids(dcmjs.data.DicomMessage.readFile(toArrayBuffer(bytes)).dict, into, 0);
  } catch (error) {
    if (error instanceof AiBridgeError) throw error;
    // Unreadable: relinkResult says so with its own message.
  }
  return [...into];
}

/**
 * Puts a result built on the de-identified copy back on the original study:
 * every de-identified UID it references becomes the original (the vault's
 * mapping), the patient and study modules are the original's, and the
 * object gets its deterministic Series and SOP Instance UIDs. PHI zone only.
 */
export function relinkResult(bytes: Buffer, plan: RelinkPlan): RelinkedResult {
  let parsed: dcmjs.data.DicomDict;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(toArrayBuffer(bytes));
  } catch (error) {
    throw new AiBridgeError('AIB_RELINK_FAILED', `the result is not readable DICOM: ${error instanceof Error ? error.message : String(error)}`, {}, false);
  }
  const dict = parsed.dict;
  const sopClass = dict['00080016']?.Value?.[0];
  if (typeof sopClass !== 'string') throw new AiBridgeError('AIB_RELINK_FAILED', 'the result has no SOP Class UID', {}, false);
  const relinked = relinkUids(dict, plan.originalUid, 0);
  for (const [tag, vr, key] of STUDY_TAGS) dict[tag] = value(vr, plan.study[key]);
  dict['0020000E'] = value('UI', plan.seriesInstanceUid);
  dict['00080018'] = value('UI', plan.sopInstanceUid);
  const meta = parsed.meta;
  meta['00020003'] = value('UI', plan.sopInstanceUid);
  // The study is the original's, in UTF-8 as Orthanc returns it.
  dict['00080005'] = value('CS', 'ISO_IR 192');
  const out = Buffer.from(parsed.write());
  return { bytes: out, sopClassUid: sopClass, sopInstanceUid: plan.sopInstanceUid, referencesRelinked: relinked };
}

/** OriginalStudy from Orthanc's `/instances/{id}/tags?short` answer of the original instance. */
export function originalStudyFromTags(tags: Readonly<Record<string, unknown>>): OriginalStudy {
  const text = (tag: string): string => {
    const v = tags[tag];
    return typeof v === 'string' ? v.trim() : '';
  };
  const study: OriginalStudy = {
    patientName: text('0010,0010'), patientId: text('0010,0020'), issuerOfPatientId: text('0010,0021'),
    patientBirthDate: text('0010,0030'), patientSex: text('0010,0040'), studyInstanceUid: text('0020,000d'),
    studyDate: text('0008,0020'), studyTime: text('0008,0030'), studyId: text('0020,0010'),
    accessionNumber: text('0008,0050'), referringPhysicianName: text('0008,0090'),
  };
  if (study.studyInstanceUid === '') throw new AiBridgeError('AIB_RELINK_FAILED', 'the original instance has no Study Instance UID', {}, false);
  return study;
}
