/**
 * Stable pseudonyms for the three identifiers PS3.15 E.1 lets us replace with a
 * value (Patient ID, Patient's Name, Accession Number): keyed HMAC-SHA256 of
 * the original with the site key, so the same patient gets the same pseudonym
 * across studies, runs and restarts, nobody without the key can recompute one,
 * and 80-bit codes make a collision among a site's patients negligible
 * (birthday bound ~2^40 patients).
 */
import { createHmac } from 'node:crypto';

import { patientIdentityKey, type PatientIdentity } from '../../core/patient-identity';
import type { SiteKey } from './site-key';

export type PseudonymKind = 'patientId' | 'patientName' | 'accession';

// RFC 4648 base32 alphabet: upper-case letters and 2–7, valid in LO, SH and PN, no look-alike 0/1/8.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31] ?? '';
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31] ?? '';
  return out;
}

function keyBytes(key: SiteKey | Buffer): Buffer {
  return Buffer.isBuffer(key) ? key : key.bytes();
}

/** HMAC-SHA256(key, label ‖ 0x00 ‖ value): every derived value has its own label, so uses never collide. */
export function keyedDigest(key: SiteKey | Buffer, label: string, value: string): Buffer {
  return createHmac('sha256', keyBytes(key)).update(`${label}\0${value}`, 'utf8').digest();
}

/** 16 base32 characters (80 bits) of the keyed digest of a patient identity. */
function patientCode(key: SiteKey | Buffer, patientId: string): string {
  return base32(keyedDigest(key, 'pseudonym/patient', patientId).subarray(0, 10));
}

/**
 * - `patientId`: `PAT-` + 16 base32 characters (20 ≤ LO's 64).
 * - `patientName`: `ANON^` + the same 16 characters as the patient's `PAT-`
 *   code, a valid PN (family "ANON", given name the code). `value` is the
 *   patient's identity key (see `patientPseudonyms`), so two patients who
 *   share a name do not share a pseudonym.
 * - `accession`: 16 base32 characters (80 bits): Accession Number is SH, at
 *   most 16 characters, so there is no room for a prefix.
 */
export function pseudonymFor(key: SiteKey | Buffer, kind: PseudonymKind, value: string): string {
  switch (kind) {
    case 'patientId':
      return `PAT-${patientCode(key, value)}`;
    case 'patientName':
      return `ANON^${patientCode(key, value)}`;
    case 'accession':
      return base32(keyedDigest(key, 'pseudonym/accession', value).subarray(0, 10));
  }
}

/**
 * The Patient ID and Patient's Name pseudonyms of one patient, from the
 * patient's identity key (plugin/core/patient-identity.ts: issuer, ID,
 * normalized name, birth date): two people who share an ID, or have none,
 * get different pseudonyms; the same person always the same one.
 */
export function patientPseudonyms(key: SiteKey | Buffer, identity: PatientIdentity): { patientId: string; patientName: string } {
  const identityKey = patientIdentityKey(identity);
  return { patientId: pseudonymFor(key, 'patientId', identityKey), patientName: pseudonymFor(key, 'patientName', identityKey) };
}
