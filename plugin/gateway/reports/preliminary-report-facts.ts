import dcmjs from 'dcmjs';

import { MeasurementReportConcept } from '../../core/codes';
import { ReportError } from './report-errors';

/** What the ORU^R01 to the report system says, read from the SR as delivered (original identifiers, after relink). */
export interface PreliminaryReportFacts {
  readonly srSopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly accessionNumber: string;
  readonly patientId: string;
  /** DICOM PN "Family^Given", the same components as HL7 XPN. */
  readonly patientName: string;
  readonly text: string;
}

type Item = Record<string, unknown>;

function asItems(value: unknown): Item[] {
  return Array.isArray(value) ? value.filter((v): v is Item => typeof v === 'object' && v !== null) : [];
}

function text(value: unknown): string {
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const alphabetic = (value as Item)['Alphabetic'];
    return typeof alphabetic === 'string' ? alphabetic : '';
  }
  return '';
}

/** Depth-first: the first TEXT item whose concept is the preliminary report's. */
function findReportText(items: readonly Item[]): string | undefined {
  const concept = MeasurementReportConcept.PreliminaryReport;
  for (const item of items) {
    const name = asItems(item['ConceptNameCodeSequence'])[0];
    if (item['ValueType'] === 'TEXT' && name?.['CodeValue'] === concept.value && name['CodingSchemeDesignator'] === concept.scheme) {
      return text(item['TextValue']);
    }
    const inner = findReportText(asItems(item['ContentSequence']));
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * Reads the delivered SR (after relink, so its patient and study modules are
 * the originals') for what the ORU^R01 carries: the same preliminary report
 * text as its TEXT item, so the report system and the PACS never disagree.
 */
export function preliminaryReportFacts(sr: Buffer, annotationId: number): PreliminaryReportFacts {
  const parsed = dcmjs.data.DicomMessage.readFile(sr.buffer.slice(sr.byteOffset, sr.byteOffset + sr.byteLength) as ArrayBuffer);
  const data = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict) as Item;
  const reportText = findReportText(asItems(data['ContentSequence']));
  const studyInstanceUid = text(data['StudyInstanceUID']);
  if (reportText === undefined || reportText.trim() === '' || studyInstanceUid === '') {
    throw new ReportError('AIB_REPORT_NO_TEXT', `annotation ${String(annotationId)}: the SR has no preliminary report TEXT item or no Study Instance UID`, { annotationId });
  }
  return {
    srSopInstanceUid: text(data['SOPInstanceUID']), studyInstanceUid, accessionNumber: text(data['AccessionNumber']),
    patientId: text(data['PatientID']), patientName: text(data['PatientName']), text: reportText,
  };
}
