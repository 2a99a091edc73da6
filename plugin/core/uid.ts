import { createHmac } from 'node:crypto';

/**
 * The project's one UID function (STYLE.md "one UID function"): a keyed,
 * deterministic replacement UID in the PS3.5 B.2 form `2.25.<UUID as integer>`.
 *
 * HMAC-SHA256(key, namespace ‖ 0x00 ‖ original); the first 16 bytes are read as
 * an unsigned 128-bit integer (BigInt from hex, so there is no sign bit to lose,
 * unlike `new BigInteger(bytes)` without a leading zero byte). 2^128 − 1 has 39
 * decimal digits, so the result is at most 5 + 39 = 44 characters, well under
 * the 64 of PS3.5 9.1; BigInt's decimal form never has leading zeros and
 * writes zero as "0", which PS3.5 9.1 allows.
 *
 * The key is the site secret: without it nobody can compute the pseudonym of a
 * known original UID (dcm4che's `UUID.nameUUIDFromBytes` remap is unkeyed).
 * `namespace` separates uses (e.g. "deid" vs "result"), so the same original
 * gives unrelated UIDs in different roles.
 */
export function deidUid(key: Buffer, namespace: string, original: string): string {
  if (key.length < 16) throw new RangeError('deidUid: key must be at least 16 bytes');
  if (namespace.includes('\0')) throw new RangeError('deidUid: namespace must not contain NUL');
  const digest = createHmac('sha256', key).update(`${namespace}\0${original}`, 'utf8').digest();
  const value = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
  return `2.25.${value.toString(10)}`;
}

/** The fixed, public key of resultUid: its UIDs are stable across sites and restarts, and carry nothing secret. */
const RESULT_KEY = Buffer.from('orthanc-ai-bridge result objects', 'utf8');

/**
 * A deterministic UID for an object the bridge makes (a GSPS, an SR, a
 * tracking identifier): the same parts give the same UID, so a retry or a
 * re-run never duplicates a result. Unkeyed: use it only on values that may
 * be seen wherever the UID goes (original UIDs in the PHI zone, de-identified
 * ones in the de-identified zone).
 */
export function resultUid(namespace: string, ...parts: readonly string[]): string {
  return deidUid(RESULT_KEY, namespace, parts.join('\0'));
}
