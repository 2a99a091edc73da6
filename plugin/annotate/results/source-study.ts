import {
  requireDate,
  requireIntegerString,
  requireOptionalDate,
  requireOptionalTime,
  requireText,
  requireTime,
  requireUid,
} from './dicom-value-format';
import { InvalidResultObjectError } from './invalid-result-object-error';
import type { NaturalDataset } from './part10-writer';

/**
 * The Patient and General Study attributes a result object repeats from the
 * study it belongs to (PS3.3 C.7.1.1, C.7.2.1), keyed by DICOM keyword. Type 2
 * values may be empty strings; PatientName is in PS3.5 PN form (`Family^Given`).
 */
export interface SourceStudy {
  readonly PatientName: string;
  readonly PatientID: string;
  readonly PatientBirthDate: string;
  readonly PatientSex: '' | 'M' | 'F' | 'O';
  readonly StudyInstanceUID: string;
  readonly StudyDate: string;
  readonly StudyTime: string;
  readonly StudyID: string;
  readonly AccessionNumber: string;
  readonly ReferringPhysicianName: string;
}

/**
 * What the caller decides about the object being built: its UIDs (the relink
 * step makes them deterministic) and the numbers and times that would
 * otherwise come from a clock, so the same input always gives the same bytes.
 */
export interface ResultInstanceIdentity {
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly seriesNumber: number;
  readonly instanceNumber: number;
  /** DA, YYYYMMDD. */
  readonly contentDate: string;
  /** TM, HHMMSS[.FFFFFF]. */
  readonly contentTime: string;
  /** Default: made from the model id and version. */
  readonly seriesDescription?: string;
}

// PS3.5 6.2 PN: at most 64 characters per component group; '=' separates the groups.
function requirePersonName(field: string, value: string): string {
  for (const group of value.split('=')) {
    if (group.length > 64) throw new InvalidResultObjectError(field, 'a PN component group is longer than 64 characters');
  }
  return requireText(field, value, 64 * 3 + 2, true);
}

export function checkSourceStudy(source: SourceStudy): void {
  requirePersonName('source.PatientName', source.PatientName);
  requireText('source.PatientID', source.PatientID, 64, true);
  requireOptionalDate('source.PatientBirthDate', source.PatientBirthDate);
  if (!['', 'M', 'F', 'O'].includes(source.PatientSex)) throw new InvalidResultObjectError('source.PatientSex', 'must be M, F, O or empty');
  requireUid('source.StudyInstanceUID', source.StudyInstanceUID);
  requireOptionalDate('source.StudyDate', source.StudyDate);
  requireOptionalTime('source.StudyTime', source.StudyTime);
  requireText('source.StudyID', source.StudyID, 16, true);
  requireText('source.AccessionNumber', source.AccessionNumber, 16, true);
  requirePersonName('source.ReferringPhysicianName', source.ReferringPhysicianName);
}

export function checkInstanceIdentity(identity: ResultInstanceIdentity): void {
  requireUid('instance.seriesInstanceUid', identity.seriesInstanceUid);
  requireUid('instance.sopInstanceUid', identity.sopInstanceUid);
  requireIntegerString('instance.seriesNumber', identity.seriesNumber, 0);
  requireIntegerString('instance.instanceNumber', identity.instanceNumber, 1);
  requireDate('instance.contentDate', identity.contentDate);
  requireTime('instance.contentTime', identity.contentTime);
  if (identity.seriesDescription !== undefined) requireText('instance.seriesDescription', identity.seriesDescription, 64);
}

/** Patient Module and General Study Module attributes, as they are in the source study. */
export function patientAndStudyAttributes(source: SourceStudy): NaturalDataset {
  return {
    PatientName: source.PatientName,
    PatientID: source.PatientID,
    PatientBirthDate: source.PatientBirthDate,
    PatientSex: source.PatientSex,
    StudyInstanceUID: source.StudyInstanceUID,
    StudyDate: source.StudyDate,
    StudyTime: source.StudyTime,
    StudyID: source.StudyID,
    AccessionNumber: source.AccessionNumber,
    ReferringPhysicianName: source.ReferringPhysicianName,
  };
}
