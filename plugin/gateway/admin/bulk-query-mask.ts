import { MASK } from './config-view';

/**
 * Query keys whose values describe the kind of scan, never the patient, the
 * study or the date (PS3.15 Annex E keeps them: Modality and Body Part
 * Examined route the pipeline, the rest name equipment). Every other value of
 * a bulk query (PatientName, PatientID, AccessionNumber, StudyDate, a UID, a
 * description...) is an identifier or may hold one.
 */
const SCAN_TYPE_KEYS: ReadonlySet<string> = new Set(['Modality', 'BodyPartExamined', 'SOPClassUID', 'ImageType', 'Manufacturer', 'ManufacturerModelName']);

/**
 * A bulk query as a user outside AiBridge.PhiViewers sees it (and as the audit
 * records it): the keys stay, so the run is recognisable; values that may
 * identify a patient are masked like the Quarantine page's identifiers.
 */
export function maskBulkQuery(query: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).map(([key, value]) => [key, SCAN_TYPE_KEYS.has(key) || value === '' ? value : MASK]));
}

/**
 * An audit line of a bulk run as a user outside PhiViewers reads it. Lines
 * written since the audit records the masked query are unchanged; a line an
 * earlier version wrote with the whole query is masked the same way.
 */
export function maskBulkAuditDetail<T extends { readonly event: string; readonly detail?: string }>(entry: T): T {
  if (entry.event !== 'bulk-started' || entry.detail === undefined) return entry;
  const match = /^(.* for )(\{.*\})$/.exec(entry.detail);
  if (match === null) return entry;
  try {
    const query = JSON.parse(match[2] ?? '') as Record<string, string>;
    return { ...entry, detail: `${match[1] ?? ''}${JSON.stringify(maskBulkQuery(query))}` };
  } catch {
    return { ...entry, detail: `${match[1] ?? ''}(query not readable)` };
  }
}
