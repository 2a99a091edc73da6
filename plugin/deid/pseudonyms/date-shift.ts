/**
 * One date shift per patient (PS3.15 E.3.6, Retain Longitudinal Temporal
 * Information with Modified Dates): derived from the site key and the
 * patient's identity key (plugin/core/patient-identity.ts), so every study of
 * a patient moves by the same number of days and the intervals between them
 * are preserved exactly, and two people who share a Patient ID do not share
 * a shift.
 */
import type { SiteKey } from './site-key';
import { keyedDigest } from './pseudonym';

/** The shift lies in [−365, −1] ∪ [1, 365] days: never zero (a zero shift would keep the real dates), at most a year. */
export const MAX_SHIFT_DAYS = 365;

export function dateShiftDays(key: SiteKey | Buffer, patientIdentityKey: string): number {
  // 48 bits of the digest modulo 730: the bias (2^48 mod 730 over 2^48) is below 10^-11.
  const n = keyedDigest(key, 'dateShift', patientIdentityKey).readUIntBE(0, 6) % (2 * MAX_SHIFT_DAYS);
  return n < MAX_SHIFT_DAYS ? -(n + 1) : n - MAX_SHIFT_DAYS + 1;
}
