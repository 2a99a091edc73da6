/**
 * A report, de-identified with the same term sets as the header text
 * (`deid --report FILE`): plain text goes through scrubText whole; an HL7 v2
 * message keeps its segment structure (terminators, field and component
 * separators), replaces each identifying PID field with one fiducial, and runs
 * every other field — OBX-5 observation values first of all — through
 * scrubText. MSH-1/MSH-2 (the encoding characters) are left alone.
 */
import { fiducial, type FiducialKind } from './fiducial';
import { isHl7 } from './report-identifiers';
import { scrubText, type ScrubHit, type ScrubOptions, type ScrubResult } from './scrub-text';
import type { TermSets } from './term-sets';

/** PID fields that identify the patient (HL7 v2.5 PID), with the fiducial that replaces each. */
const PID_FIELDS: ReadonlyMap<number, FiducialKind> = new Map<number, FiducialKind>([
  [2, 'ID'], // patient ID (external)
  [3, 'ID'], // patient identifier list
  [4, 'ID'], // alternate patient ID
  [5, 'PATIENT NAME'],
  [6, 'PERSON NAME'], // mother's maiden name
  [7, 'DATE'], // date/time of birth
  [9, 'PATIENT NAME'], // patient alias
  [11, 'ADDRESS'],
  [12, 'ADDRESS'], // county code
  [13, 'PHONE'], // home
  [14, 'PHONE'], // business
  [18, 'ID'], // account number
  [19, 'ID'], // SSN
  [20, 'ID'], // driver's licence
  [21, 'ID'], // mother's identifier
  [23, 'ADDRESS'], // birth place
  [29, 'DATE'], // death date/time
]);

function scrubHl7(text: string, terms: TermSets, options: ScrubOptions): ScrubResult {
  const pieces = text.split(/(\r\n|\r|\n)/);
  const hits: ScrubHit[] = [];
  let offset = 0;
  const out = pieces.map((piece, i) => {
    const pieceOffset = offset;
    offset += piece.length;
    if (i % 2 === 1 || piece === '') return piece; // a terminator
    const fields = piece.split('|');
    const id = fields[0] ?? '';
    let fieldOffset = pieceOffset;
    return fields
      .map((field, n) => {
        const at = fieldOffset;
        fieldOffset += field.length + 1;
        if (n === 0 || field === '' || (id === 'MSH' && n === 1)) return field;
        const pidKind = id === 'PID' ? PID_FIELDS.get(n) : undefined;
        if (pidKind !== undefined) {
          hits.push({ kind: pidKind, offset: at, length: field.length });
          return fiducial(pidKind);
        }
        const r = scrubText(field, terms, options);
        for (const h of r.hits) hits.push({ ...h, offset: h.offset + at });
        return r.text;
      })
      .join('|');
  });
  return { text: out.join(''), hits };
}

/** `options.dateShiftDays`: the study's patient date shift, applied to the dates that name a day (PID-7, the birth date, stays a fiducial). */
export function scrubReport(text: string, terms: TermSets, options: ScrubOptions = {}): ScrubResult {
  return isHl7(text) ? scrubHl7(text, terms, options) : scrubText(text, terms, options);
}

/**
 * The patient of a scrubbed HL7 v2 report under the same pseudonyms as the
 * images of its study (issue 16): PID-3 (identifier list) and PID-5 (name)
 * carry the pseudonymous Patient ID and Patient's Name the de-identified
 * instances carry, so the report's copy and the study's copies name one
 * pseudonymous patient; every other identifier stays a typed fiducial. Plain
 * text reports have no such fields and are returned as they are.
 */
export function pseudonymizeReportPatient(scrubbed: string, pseudonyms: { readonly patientId: string; readonly patientName: string }): string {
  if (!isHl7(scrubbed)) return scrubbed;
  return scrubbed.split(/(\r\n|\r|\n)/).map((piece) => {
    if (!piece.startsWith('PID|')) return piece;
    const fields = piece.split('|');
    const put = (n: number, value: string): void => {
      while (fields.length <= n) fields.push('');
      fields[n] = value.replace(/[|~\\&\r\n]/g, ' ');
    };
    put(3, pseudonyms.patientId);
    put(5, pseudonyms.patientName);
    return fields.join('|');
  }).join('');
}
