import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { data as dcmjsData, log as dcmjsLog } from 'dcmjs';

import type { AnnotationResult, Finding, ImageReference } from '../../../plugin/core/findings';
import type { ResultInstanceIdentity, SourceStudy } from '../../../plugin/annotate/results/source-study';
import { sharedFile } from '../../harness/bridge-orthanc';

dcmjsLog.setLevel('error');

/** The first slices of a real TCIA chest CT (Lung-PET-CT-Dx, CC BY 4.0), read with dcmjs. */
export interface CtSlice {
  readonly path: string;
  readonly image: ImageReference;
  readonly header: Readonly<Record<string, unknown>>;
}

const SERIES_DIR = 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f';

function firstNumber(value: unknown): number | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  const number = typeof first === 'string' ? Number(first) : first;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? '' : text(value[0]);
  if (typeof value === 'object' && value !== null && 'Alphabetic' in value) return String(value.Alphabetic);
  return '';
}

export function readCtSlice(path: string): CtSlice {
  const bytes = readFileSync(path);
  const dict = dcmjsData.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { untilTag: '7FE00010' });
  const header = dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict);
  const intercept = firstNumber(header['RescaleIntercept']);
  const slope = firstNumber(header['RescaleSlope']);
  const center = firstNumber(header['WindowCenter']);
  const width = firstNumber(header['WindowWidth']);
  const image: ImageReference = {
    sopClassUid: text(header['SOPClassUID']),
    sopInstanceUid: text(header['SOPInstanceUID']),
    rows: firstNumber(header['Rows']) ?? 0,
    columns: firstNumber(header['Columns']) ?? 0,
    ...(intercept !== undefined && slope !== undefined ? { rescale: { intercept, slope, type: text(header['RescaleType']) || 'HU' } } : {}),
    ...(center !== undefined && width !== undefined ? { window: { center, width } } : {}),
  };
  return { path, image, header };
}

/** Slices 1..count of the series, in instance-number order. */
export function lungCtSlices(count = 5): CtSlice[] {
  const dir = sharedFile(SERIES_DIR);
  return readdirSync(dir).filter((name) => name.endsWith('.dcm')).sort().slice(0, count)
    .map((name) => readCtSlice(join(dir, name)))
    .sort((a, b) => (firstNumber(a.header['InstanceNumber']) ?? 0) - (firstNumber(b.header['InstanceNumber']) ?? 0));
}

export function sourceStudyOf(slice: CtSlice): SourceStudy {
  const h = slice.header;
  const sex = text(h['PatientSex']);
  return {
    PatientName: text(h['PatientName']),
    PatientID: text(h['PatientID']),
    PatientBirthDate: text(h['PatientBirthDate']),
    PatientSex: sex === 'M' || sex === 'F' || sex === 'O' ? sex : '',
    StudyInstanceUID: text(h['StudyInstanceUID']),
    StudyDate: text(h['StudyDate']),
    StudyTime: text(h['StudyTime']),
    StudyID: text(h['StudyID']),
    AccessionNumber: text(h['AccessionNumber']),
    ReferringPhysicianName: text(h['ReferringPhysicianName']),
  };
}

/** PS3.3 C.7.6.2.1.1 Pixel Spacing is row spacing\column spacing, in mm. */
function pixelArea(slice: CtSlice): number {
  const spacing = slice.header['PixelSpacing'];
  const [rowSpacing, columnSpacing] = Array.isArray(spacing) ? spacing.map(Number) : [1, 1];
  return (rowSpacing ?? 1) * (columnSpacing ?? 1);
}

/** Shoelace area of a closed polygon, in pixels². */
export function polygonPixelArea(points: readonly (readonly [number, number])[]): number {
  let twice = 0;
  points.forEach(([x1, y1], i) => {
    const [x2, y2] = points[(i + 1) % points.length] ?? [x1, y1];
    twice += x1 * y2 - x2 * y1;
  });
  return Math.abs(twice) / 2;
}

const SCT = (value: string, meaning: string): { value: string; scheme: string; meaning: string } => ({ value, scheme: 'SCT', meaning });
const UCUM = (value: string, meaning: string): { value: string; scheme: string; meaning: string } => ({ value, scheme: 'UCUM', meaning });

/** The right lung apex outlined on slice 3 of the series (rows 262–310, columns 168–225, lung density there). */
export const RIGHT_APEX_POLYGON: readonly (readonly [number, number])[] = [[175, 265], [215, 262], [225, 285], [210, 310], [180, 305], [168, 285]];

/**
 * A result as the CT lung model would give it: a polygon with its area on
 * slice 3, and (unless `polygonOnly`) an ellipse with two measurements on
 * slice 4 and a point without measurements (the trachea) on slice 2.
 */
export function lungAnnotationResult(slices: readonly CtSlice[], polygonOnly = false): AnnotationResult {
  const [s1, s2, s3, s4] = [slices[0], slices[1], slices[2], slices[3]];
  if (s1 === undefined || s2 === undefined || s3 === undefined || s4 === undefined) throw new Error('lungAnnotationResult needs at least 4 slices');
  const polygon: Finding = {
    trackingIdentifier: 'right lung apex',
    finding: SCT('39607008', 'Lung structure'),
    findingSite: SCT('3341006', 'Right lung structure'),
    image: s3.image,
    region: { kind: 'polygon', points: RIGHT_APEX_POLYGON },
    measurements: [{ concept: SCT('42798000', 'Area'), value: Math.round(polygonPixelArea(RIGHT_APEX_POLYGON) * pixelArea(s3) * 100) / 100, unit: UCUM('mm2', 'square millimeter') }],
    confidence: 0.91,
    label: 'Right lung',
  };
  const ellipse: Finding = {
    trackingIdentifier: 'left lung apex',
    finding: SCT('39607008', 'Lung structure'),
    findingSite: SCT('44029006', 'Left lung structure'),
    image: s4.image,
    region: { kind: 'ellipse', majorAxis: [[300, 285], [350, 285]], minorAxis: [[325, 270], [325, 300]] },
    measurements: [
      { concept: SCT('42798000', 'Area'), value: 761.6, unit: UCUM('mm2', 'square millimeter') },
      { concept: SCT('373098007', 'Mean'), value: -842.5, unit: UCUM('[hnsf\'U]', 'Hounsfield unit') },
    ],
    label: 'Left lung',
  };
  const point: Finding = {
    trackingIdentifier: 'trachea landmark',
    finding: SCT('44567001', 'Trachea structure'),
    image: s2.image,
    // The middle of the tracheal lumen on slice 2 (air from rows 243 to 260, columns 241 to 255).
    region: { kind: 'point', point: [248.5, 252.25] },
    measurements: [],
    label: 'Trachea',
  };
  return {
    model: { id: 'ct-lung-fields', version: '1.2.0', name: 'CT lung field segmentation', manufacturer: 'orthanc-ai-bridge' },
    series: {
      studyInstanceUid: text(s1.header['StudyInstanceUID']),
      seriesInstanceUid: text(s1.header['SeriesInstanceUID']),
      modality: 'CT',
      images: slices.map((slice) => slice.image),
    },
    findings: polygonOnly ? [polygon] : [polygon, ellipse, point],
    summary: polygonOnly ? 'Right lung apex outlined.' : 'Both lung apices outlined; trachea marked. Ünïcödé check: 肺.',
  };
}

export function resultIdentity(overrides: Partial<ResultInstanceIdentity> = {}): ResultInstanceIdentity {
  return {
    seriesInstanceUid: '2.25.311712406146476339232364853447806389511',
    sopInstanceUid: '2.25.187163457035427838716127093216356211374',
    seriesNumber: 9901,
    instanceNumber: 1,
    contentDate: '20240102',
    contentTime: '030405',
    ...overrides,
  };
}
