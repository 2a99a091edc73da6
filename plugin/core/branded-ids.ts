/**
 * Identifiers as distinct types, so a PHI-zone UID cannot be passed where an
 * Orthanc id or a de-identified UID is expected. Brands exist only at compile
 * time; the `as` casts live here and nowhere else.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Orthanc's opaque resource id (SHA-1 based), e.g. `b1b5e3b0-...`. */
export type OrthancInstanceId = Brand<string, 'OrthancInstanceId'>;
/** (0008,0018) of an original, PHI-zone instance. */
export type SopInstanceUid = Brand<string, 'SopInstanceUid'>;
/** Id of a job: its work item's id in the work queue (kind 'instance'). */
export type JobId = Brand<number, 'JobId'>;

const ORTHANC_ID = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
// PS3.5 9.1: components of digits separated by '.', no leading zeros, ≤ 64 chars.
const DICOM_UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;

export function orthancInstanceId(value: string): OrthancInstanceId {
  if (!ORTHANC_ID.test(value)) throw new TypeError(`not an Orthanc resource id: ${JSON.stringify(value)}`);
  return value as OrthancInstanceId;
}

export function isDicomUid(value: string): boolean {
  return value.length <= 64 && DICOM_UID.test(value);
}

export function sopInstanceUid(value: string): SopInstanceUid {
  if (!isDicomUid(value)) throw new TypeError('not a valid DICOM UID');
  return value as SopInstanceUid;
}

export function jobId(value: number): JobId {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`not a job id: ${value}`);
  return value as JobId;
}
