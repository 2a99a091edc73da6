import { readFileSync } from 'node:fs';

import dcmjs from 'dcmjs';

import type { ScanCategory } from './models/scan-category';

dcmjs.log.setLevel('silent');

/** What the annotator reads from a de-identified header before it decides anything. */
export interface DeidHeader extends ScanCategory {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  /** Images in Acquisition (0020,1002) or Number of Slices (0054,0081), when stated. */
  readonly expectedInstances?: number;
  readonly patientName: string;
  readonly patientId: string;
  readonly patientBirthDate: string;
  readonly patientSex: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyId: string;
  readonly accessionNumber: string;
  readonly referringPhysicianName: string;
}

function text(dict: dcmjs.data.DicomDataset, tag: string): string {
  const first = dict[tag]?.Value?.[0];
  if (typeof first === 'string') return first.trim();
  if (typeof first === 'number') return String(first);
  if (typeof first === 'object' && first !== null && 'Alphabetic' in first) {
    const alphabetic = (first as { Alphabetic?: unknown }).Alphabetic;
    return typeof alphabetic === 'string' ? alphabetic.trim() : '';
  }
  return '';
}

function positiveInteger(raw: string): number | undefined {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Reads the header of a de-identified instance, up to its pixel data. */
export function readDeidHeader(path: string): DeidHeader {
  const bytes = readFileSync(path);
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  const { dict } = dcmjs.data.DicomMessage.readFile(copy, { untilTag: '7FE00010', includeUntilTagValue: false });
  const expected = positiveInteger(text(dict, '00201002')) ?? positiveInteger(text(dict, '00540081'));
  return {
    modality: text(dict, '00080060'),
    bodyPartExamined: text(dict, '00180015'),
    studyDescription: text(dict, '00081030'),
    seriesDescription: text(dict, '0008103E'),
    viewPosition: text(dict, '00185101'),
    studyInstanceUid: text(dict, '0020000D'),
    seriesInstanceUid: text(dict, '0020000E'),
    sopInstanceUid: text(dict, '00080018'),
    ...(expected === undefined ? {} : { expectedInstances: expected }),
    patientName: text(dict, '00100010'),
    patientId: text(dict, '00100020'),
    patientBirthDate: text(dict, '00100030'),
    patientSex: text(dict, '00100040'),
    studyDate: text(dict, '00080020'),
    studyTime: text(dict, '00080030'),
    studyId: text(dict, '00200010'),
    accessionNumber: text(dict, '00080050'),
    referringPhysicianName: text(dict, '00080090'),
  };
}
