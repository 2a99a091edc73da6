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
