import * as fs from 'node:fs';

import dcmjs from 'dcmjs';

import { decodeReport } from '../core/decode-report';
import { buildTermSets, scrubReport, type InspectIdentifiers } from '../deid/text/index.js';

// dcmjs writes recoverable oddities to stdout through its own logger: stdout carries the report.
dcmjs.log.setLevel('silent');
// Its validation logger ("Invalid vr type ...") is a separate loglevel logger, not silenced by the line above.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

/** Identifying attributes whose values (any depth) go to the blacklist, besides every PN. */
const IDENTIFYING_KEYWORDS = new Set([
  'PatientID', 'OtherPatientIDs', 'IssuerOfPatientID', 'AccessionNumber', 'MedicalRecordLocator',
  'InstitutionName', 'InstitutionAddress', 'InstitutionalDepartmentName', 'StationName',
  'ReferringPhysicianAddress', 'ReferringPhysicianTelephoneNumbers', 'PatientAddress', 'PatientTelephoneNumbers',
  'PersonAddress', 'PersonTelephoneNumbers', 'ResponsibleOrganization', 'RegionOfResidence', 'CountryOfResidence',
  'MilitaryRank', 'BranchOfService', 'AdmissionID', 'ServiceEpisodeID', 'StudyID', 'RequestedProcedureID',
  'PlacerOrderNumberImagingServiceRequest', 'FillerOrderNumberImagingServiceRequest', 'PerformedProcedureStepID',
  'ScheduledProcedureStepID', 'DeviceSerialNumber', 'PlateID', 'DetectorID',
]);

const PIXEL_DATA = '7FE00010';

type Identifier = InspectIdentifiers['identifiers'][number];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** dcmjs' naturalized PN: { Alphabetic, Ideographic, Phonetic } → "alphabetic=ideographic=phonetic". */
function personName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!isRecord(value)) return undefined;
  const groups = ['Alphabetic', 'Ideographic', 'Phonetic'].map((g) => value[g]);
  if (groups.every((g) => g === undefined)) return undefined;
  return groups.map((g) => (typeof g === 'string' ? g : '')).join('=').replace(/=+$/, '');
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.flatMap((v) => (typeof v === 'string' && v.trim() !== '' ? [v.trim()] : []));
}

function walk(dataset: Record<string, unknown>, prefix: string, out: Identifier[]): void {
  for (const [keyword, value] of Object.entries(dataset)) {
    if (keyword.startsWith('_')) continue; // dcmjs bookkeeping (_vrMap)
    const location = `${prefix}${keyword}`;
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    list.forEach((item, i) => {
      if (isRecord(item)) {
        const pn = personName(item);
        if (pn !== undefined) {
          if (pn.replace(/[=^\s]/g, '') !== '') out.push({ path: location, keyword, vr: 'PN', value: pn });
        } else {
          walk(item, `${location}[${i}].`, out);
        }
      }
    });
    if (IDENTIFYING_KEYWORDS.has(keyword)) for (const s of strings(value)) out.push({ path: location, keyword, vr: 'LO', value: s });
  }
}

/**
 * The identifying values of a DICOM file's header, shaped like the addon's
 * InspectResult so buildTermSets takes them: every person name at any depth
 * and the identifying LO/SH values (IDs, institution, addresses, phones…).
 * Read with dcmjs in this process: report mode never starts the sealed worker.
 */
export function headerIdentifiers(file: string): InspectIdentifiers {
  const bytes = fs.readFileSync(file);
  const view = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const parsed = dcmjs.data.DicomMessage.readFile(view, { untilTag: PIXEL_DATA, includeUntilTagValue: false });
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  const identifiers: Identifier[] = [];
  walk(dataset, '', identifiers);
  const first = (keyword: string): string => strings(dataset[keyword])[0] ?? '';
  const names = strings(Array.isArray(dataset['PatientName']) ? (dataset['PatientName'] as unknown[]).map(personName) : personName(dataset['PatientName']));
  const otherIds = [
    ...strings(dataset['OtherPatientIDs']),
    ...(Array.isArray(dataset['OtherPatientIDsSequence']) ? (dataset['OtherPatientIDsSequence'] as unknown[]) : [])
      .flatMap((item) => (isRecord(item) ? strings(item['PatientID']) : [])),
  ];
  return {
    patient: { id: first('PatientID'), name: names[0] ?? '', birthDate: first('PatientBirthDate'), otherIds },
    accessionNumber: first('AccessionNumber'),
    identifiers,
  };
}

const NO_IDENTIFIERS: InspectIdentifiers = { patient: { id: '', name: '', birthDate: '', otherIds: [] }, accessionNumber: '', identifiers: [] };

export { decodeReport };

export interface ScrubbedReport {
  readonly text: string;
  /** fiducial kind → replacements (never the values) */
  readonly hits: Readonly<Record<string, number>>;
}

/** `deid --report FILE [--header DICOMFILE]`: the report with every identifier replaced by its fiducial. */
export function deidentifyReport(reportFile: string, headerFile: string | undefined): ScrubbedReport {
  const text = decodeReport(fs.readFileSync(reportFile));
  const identifiers = headerFile === undefined ? NO_IDENTIFIERS : headerIdentifiers(headerFile);
  const result = scrubReport(text, buildTermSets(identifiers, text));
  const hits: Record<string, number> = {};
  for (const hit of result.hits) hits[hit.kind] = (hits[hit.kind] ?? 0) + 1;
  return { text: result.text, hits };
}
