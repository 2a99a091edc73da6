/**
 * A scrubbed text must still be a valid value of its element's VR: the text
 * pass inserts `% KIND %` fiducials, which can make a value longer than the VR
 * allows or, in a CS, use characters a Code String may not hold (PS3.5 6.2).
 * Applied only to values the scrubber changed, after scrubbing, so what a
 * truncation cuts off can no longer be an identifier.
 */
import { FIDUCIAL_KINDS } from './fiducial';

/** PS3.5 Table 6.2-1 maximum lengths, in characters (bytes for AE and CS, whose repertoire is single-byte). */
const MAX_LENGTH: Readonly<Record<string, number>> = { AE: 16, CS: 16, SH: 16, LO: 64, ST: 1024, LT: 10240 };

const FIDUCIAL = new RegExp(`% (${FIDUCIAL_KINDS.join('|')}) %`, 'g');

/** PS3.5 6.2 CS: upper-case letters, digits, space and underscore. A fiducial becomes its kind, e.g. PATIENT_NAME. */
function toCodeString(text: string): string {
  return text
    .replace(FIDUCIAL, (_m, kind: string) => kind.replace(/ /g, '_'))
    .toUpperCase()
    .replace(/[^A-Z0-9 _]/g, '_');
}

export function fitToVr(text: string, vr: string): string {
  const value = vr === 'CS' ? toCodeString(text) : text;
  const max = MAX_LENGTH[vr];
  if (max === undefined) return value;
  // Count code points, not UTF-16 units: PS3.5 limits LO/SH/ST/LT in characters.
  const chars = Array.from(value);
  return chars.length <= max ? value : chars.slice(0, max).join('').trimEnd();
}
