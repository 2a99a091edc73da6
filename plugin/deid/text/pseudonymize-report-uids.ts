/**
 * The UIDs a report names (ZDS-1, an OBX reference, a UID quoted in the
 * body) under the same pseudonymous UIDs as the images: the term sets know
 * names, IDs and dates, not UIDs, so an original Study Instance UID would
 * otherwise stay in the de-identified copy (issue 16). Any dotted number of
 * four or more components is taken for a UID; UIDs the DICOM standard
 * defines (1.2.840.10008.*) identify nothing and stay.
 */
const UID_LIKE = /(?<![0-9.])[0-9]+(?:\.[0-9]+){3,}(?![0-9.])/g;
const STANDARD_UID = /^1\.2\.840\.10008\./;

export function pseudonymizeReportUids(text: string, mapUid: (uid: string) => string): string {
  return text.replace(UID_LIKE, (uid) => (STANDARD_UID.test(uid) ? uid : mapUid(uid)));
}
