import { InvalidResultObjectError } from './invalid-result-object-error';

// PS3.5 9.1: UID components are digits without leading zeros, at most 64 characters in all.
const UID_FORM = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;
// PS3.5 6.2 DA (YYYYMMDD) and TM (HH[MM[SS[.F{1,6}]]]).
const DATE_FORM = /^[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$/;
const TIME_FORM = /^([01][0-9]|2[0-3])([0-5][0-9]([0-5][0-9](\.[0-9]{1,6})?)?)?$/;

export function requireUid(field: string, value: string): string {
  if (value.length > 64 || !UID_FORM.test(value)) throw new InvalidResultObjectError(field, 'not a valid UID (PS3.5 9.1)');
  return value;
}

export function isUid(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && UID_FORM.test(value);
}

export function requireDate(field: string, value: string): string {
  if (!DATE_FORM.test(value)) throw new InvalidResultObjectError(field, 'not a DA value YYYYMMDD');
  return value;
}

/** Type 2 dates of the source study may be empty. */
export function requireOptionalDate(field: string, value: string): string {
  return value === '' ? value : requireDate(field, value);
}

export function requireTime(field: string, value: string): string {
  if (!TIME_FORM.test(value)) throw new InvalidResultObjectError(field, 'not a TM value HHMMSS[.FFFFFF]');
  return value;
}

export function requireOptionalTime(field: string, value: string): string {
  return value === '' ? value : requireTime(field, value);
}

/** IS (PS3.5 6.2): a signed 32-bit integer. */
export function requireIntegerString(field: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > 2 ** 31 - 1) {
    throw new InvalidResultObjectError(field, `must be an integer from ${minimum} to 2^31-1`);
  }
  return value;
}

/** Values that become LO, SH, CS or ST: the VR's length limit and no backslash (the value delimiter). */
export function requireText(field: string, value: string, maxLength: number, allowEmpty = false): string {
  if (!allowEmpty && value.trim() === '') throw new InvalidResultObjectError(field, 'must not be empty');
  if (value.length > maxLength) throw new InvalidResultObjectError(field, `longer than ${maxLength} characters`);
  if (value.includes('\\')) throw new InvalidResultObjectError(field, 'must not contain a backslash (the DICOM value delimiter)');
  // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
  if (/[\u0000-\u0008\u000b-\u001f]/.test(value)) throw new InvalidResultObjectError(field, 'contains a control character');
  return value;
}

export function requireFinite(field: string, value: number): number {
  if (!Number.isFinite(value)) throw new InvalidResultObjectError(field, 'must be a finite number');
  return value;
}

/**
 * DS (PS3.5 6.2) holds at most 16 characters. The shortest round-trip form
 * is used when it fits, else the most significant digits that do, so the same
 * number always gives the same string.
 */
export function decimalString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError('decimalString: not a finite number');
  const plain = Object.is(value, -0) ? '0' : String(value);
  if (plain.length <= 16) return plain;
  for (let precision = 15; precision >= 1; precision--) {
    const text = value.toPrecision(precision).replace(/\.?0+(e|$)/, '$1');
    if (text.length <= 16) return text;
  }
  throw new RangeError(`decimalString: ${value} does not fit in 16 characters`);
}
