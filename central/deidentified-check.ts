/**
 * Does an uploaded instance look de-identified by this project's engine?
 * Every reason is collected (not just the first), so a site sees all that is
 * wrong at once. The checks are what can be checked from the bytes alone:
 * shifted dates cannot be told from real ones, so dates are not checked.
 * The scan category is read from the header here, never taken from the client.
 */
import dcmjs from 'dcmjs';

import type { ScanCategoryRef } from '../plugin/core/central-api';
import { CentralError } from './central-error';

dcmjs.log.setLevel('silent');

type Dataset = dcmjs.data.DicomDataset;

// plugin/deid/pseudonyms/pseudonym.ts: `PAT-` / `ANON^` + 16 RFC 4648 base32 characters.
const PSEUDONYM_NAME = /^ANON\^[A-Z2-7]{16}$/;
const PSEUDONYM_ID = /^PAT-[A-Z2-7]{16}$/;
// PS3.5 B.2: a UUID-derived UID; the engine remaps every instance UID to this form.
const DERIVED_UID = /^2\.25\.(0|[1-9][0-9]{0,38})$/;
// UIDs the standard defines (SOP classes, transfer syntaxes, coding schemes) identify nothing.
const STANDARD_UID = /^1\.2\.840\.10008\./;

/** Body Part Examined, or a body part named by a word of the Study/Series Description. */
const DESCRIPTION_BODY_PARTS: readonly (readonly [RegExp, string])[] = [
  [/\b(head|brain|skull|cranial|cranium)/i, 'HEAD'],
  [/\b(chest|thorax|thoracic|lung)/i, 'CHEST'],
  [/\b(abdomen|abdominal|liver)/i, 'ABDOMEN'],
  [/\b(pelvis|pelvic)/i, 'PELVIS'],
];

function keyword(tag: string): string {
  const entry = dcmjs.data.DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`];
  return entry?.name ?? `(${tag.slice(0, 4)},${tag.slice(4)})`;
}

function exemptUid(tag: string): boolean {
  return keyword(tag).endsWith('ClassUID') || tag === '00020010';
}

function pnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string } | null;
  return [v?.Alphabetic, v?.Ideographic, v?.Phonetic].filter((p) => p !== undefined && p !== '').join('=');
}

function walk(ds: Dataset, path: string, reasons: string[]): void {
  for (const [tag, element] of Object.entries(ds)) {
    const where = `${path}${keyword(tag)}`;
    const group = parseInt(tag.slice(0, 4), 16);
    if (group % 2 === 1) {
      reasons.push(`private tag (${tag.slice(0, 4)},${tag.slice(4)}) left at ${path === '' ? 'top level' : path.slice(0, -1)}`);
      continue;
    }
    const values = element.Value ?? [];
    if (element.vr === 'SQ') {
      values.forEach((item, i) => { walk(item as Dataset, `${where}[${String(i)}].`, reasons); });
      continue;
    }
    if (element.vr === 'UI' && !exemptUid(tag)) {
      for (const v of values) {
        const uid = String(v).replace(/\0/g, '').trim();
        if (uid !== '' && !DERIVED_UID.test(uid) && !STANDARD_UID.test(uid)) reasons.push(`${where} is not a 2.25. UID`);
      }
    }
    if (element.vr === 'PN') {
      for (const v of values) {
        const text = pnText(v).trim();
        if (text !== '' && !PSEUDONYM_NAME.test(text)) reasons.push(`${where} is a name that is not a pseudonym (ANON^ + 16 base32)`);
      }
    }
  }
}

function first(ds: Dataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';
}

function categoryOf(ds: Dataset): ScanCategoryRef {
  const modality = first(ds, '00080060').toUpperCase();
  const stated = first(ds, '00180015').toUpperCase();
  if (stated !== '') return { modality, bodyPart: stated };
  const text = `${first(ds, '00081030')} ${first(ds, '0008103E')}`;
  return { modality, bodyPart: DESCRIPTION_BODY_PARTS.find(([re]) => re.test(text))?.[1] ?? 'UNKNOWN' };
}

export interface CheckedInstance {
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly category: ScanCategoryRef;
}

/** Throws CENTRAL_NOT_DICOM, or CENTRAL_NOT_DEIDENTIFIED with every reason; never echoes a header value. */
export function checkDeidentified(bytes: Buffer): CheckedInstance {
  let dict: dcmjs.data.DicomDict;
  try {
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    dict = dcmjs.data.DicomMessage.readFile(copy, { untilTag: '7FE00010', includeUntilTagValue: false });
  } catch {
    throw new CentralError('CENTRAL_NOT_DICOM', 400, 'the body is not a DICOM Part 10 file');
  }
  const ds = dict.dict;
  const reasons: string[] = [];
  if (first(ds, '00120062').toUpperCase() !== 'YES') reasons.push('PatientIdentityRemoved (0012,0062) is not YES');
  if ((ds['00120063']?.Value ?? []).length === 0 && (ds['00120064']?.Value ?? []).length === 0)
    reasons.push('DeidentificationMethod (0012,0063) and its code sequence (0012,0064) are missing');
  const patientId = first(ds, '00100020');
  if (patientId !== '' && !PSEUDONYM_ID.test(patientId)) reasons.push('PatientID is not a pseudonym (PAT- + 16 base32)');
  for (const tag of ['00080018', '0020000D', '0020000E']) {
    if (first(ds, tag) === '') reasons.push(`${keyword(tag)} is missing`);
  }
  walk(dict.meta, '', reasons);
  walk(ds, '', reasons);
  const unique = [...new Set(reasons)];
  if (unique.length > 0) throw new CentralError('CENTRAL_NOT_DEIDENTIFIED', 422, `the instance does not look de-identified (${String(unique.length)} reasons); nothing was stored`, unique);
  return { sopInstanceUid: first(ds, '00080018'), studyInstanceUid: first(ds, '0020000D'), category: categoryOf(ds) };
}
