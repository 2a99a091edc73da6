export { capAge } from './cap-age';
export { dateShiftDays, MAX_SHIFT_DAYS } from './date-shift';
export { base32, keyedDigest, patientPseudonyms, pseudonymFor, type PseudonymKind } from './pseudonym';
export { SITE_KEY_BYTES, SiteKey } from './site-key';
export { SiteKeyError, type SiteKeyErrorCode } from './site-key-error';
