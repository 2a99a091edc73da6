/**
 * Does an uploaded study report look de-identified by this project's engine
 * (plugin/deid/text/scrub-report.ts)? As for instances, every reason is
 * collected, and only what the text alone can show is checked: the patient
 * fields of an HL7 v2 report carry the pseudonyms the study's instances
 * carry, and every UID in it is a derived 2.25. UID. Names and IDs in free
 * text cannot be told from words, so the site's scrubbing is what removes
 * them; dates cannot be told from shifted ones.
 */
import { CentralError } from './central-error';

const PSEUDONYM_NAME = /^ANON\^[A-Z2-7]{16}$/;
const PSEUDONYM_ID = /^PAT-[A-Z2-7]{16}$/;
const DERIVED_UID = /^2\.25\.(0|[1-9][0-9]{0,38})$/;
const STANDARD_UID = /^1\.2\.840\.10008\./;
// A dotted number of four or more components: a UID, whatever field or line it is in.
const UID_LIKE = /(?<![0-9.])[0-9]+(?:\.[0-9]+){3,}(?![0-9.])/g;

export function checkDeidentifiedReport(studyInstanceUid: string, bytes: Buffer): string {
  if (!DERIVED_UID.test(studyInstanceUid)) throw new CentralError('CENTRAL_NOT_DEIDENTIFIED', 422, 'the study of a report is named by a 2.25. UID', ['the Study Instance UID of the path is not a 2.25. UID']);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes('\uFFFD') || text.includes('\0')) throw new CentralError('CENTRAL_BAD_REQUEST', 400, 'a study report is UTF-8 text');
  const reasons: string[] = [];
  for (const [line, segment] of text.split(/\r\n|\r|\n/).entries()) {
    if (!segment.startsWith('PID|')) continue;
    const fields = segment.split('|');
    const id = (fields[3] ?? '').split('^')[0] ?? '';
    if (!PSEUDONYM_ID.test(id)) reasons.push(`PID-3 on line ${String(line + 1)} is not a pseudonymous Patient ID (PAT- + 16 base32)`);
    if (!PSEUDONYM_NAME.test(fields[5] ?? '')) reasons.push(`PID-5 on line ${String(line + 1)} is not a pseudonymous name (ANON^ + 16 base32)`);
  }
  for (const match of text.matchAll(UID_LIKE)) {
    if (!DERIVED_UID.test(match[0]) && !STANDARD_UID.test(match[0])) reasons.push(`a UID that is not a 2.25. UID at character ${String(match.index)}`);
  }
  if (reasons.length > 0) throw new CentralError('CENTRAL_NOT_DEIDENTIFIED', 422, 'the report does not look de-identified', reasons);
  return text;
}
