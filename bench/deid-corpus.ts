import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import dcmjs from 'dcmjs';

import { validSharedFiles } from './shared-data.js';

dcmjs.log.setLevel('silent');

/** The shared data's CT series the benches copy into unique slices (0.5 MB each, uncompressed). */
const SOURCE_SERIES = ['tcia-lung-pet-ct-dx/', 'dcm_qa_ct/GE_head/'];

/** The CT slices of SOURCE_SERIES in `dataDir`, sorted; an error naming them when there are none. */
export function ctSliceSources(dataDir: string): string[] {
  const sources = validSharedFiles(dataDir)
    .filter((f) => SOURCE_SERIES.some((s) => path.relative(dataDir, f).startsWith(s)))
    .sort();
  if (sources.length === 0) throw new Error(`no CT slices of ${SOURCE_SERIES.join(', ')} in ${dataDir}`);
  return sources;
}

/** One corpus file and the UIDs written into it (what the gateway would hand a worker). */
export interface CorpusFile {
  readonly file: string;
  readonly sizeBytes: number;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly patientName: string;
}

/** A fresh UID in the 2.25 form (PS3.5 B.2): the decimal of 128 random bits. */
export function uid225(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

const SOP_INSTANCE = '00080018';
const STUDY_INSTANCE = '0020000D';
const SERIES_INSTANCE = '0020000E';
const MEDIA_SOP_INSTANCE = '00020003';
const PATIENT_NAME = '00100010';

function firstString(dataset: dcmjs.data.DicomDataset, tag: string): string {
  const value = dataset[tag]?.Value?.[0];
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'Alphabetic' in value) return String(value.Alphabetic);
  return '';
}

function setUid(dataset: dcmjs.data.DicomDataset, tag: string, value: string): void {
  // dcmjs keeps the value as read in _rawValue too; a fresh element writes what we set.
  dataset[tag] = { vr: 'UI', Value: [value] };
}

/**
 * count unique instances from the sources, in the corpus directory as
 * NNNNN.dcm: copy k of source s gets a new SOP Instance UID, and one new
 * Study and Series Instance UID per (copy, original study/series), so each
 * copy of a series is a new series of a new study. Parsed with dcmjs once per
 * source, written (and fsynced) once per copy; nothing else in the file changes.
 */
export function buildCorpus(sources: readonly string[], count: number, dir: string): CorpusFile[] {
  const parsed = sources.map((file) => {
    const bytes = fs.readFileSync(file);
    return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  });
  const originals = parsed.map((p) => ({
    study: firstString(p.dict, STUDY_INSTANCE),
    series: firstString(p.dict, SERIES_INSTANCE),
    patientName: firstString(p.dict, PATIENT_NAME),
  }));
  const remapped = new Map<string, string>();
  const newUid = (copy: number, original: string): string => {
    const key = `${copy}\u0000${original}`;
    let value = remapped.get(key);
    if (value === undefined) {
      value = uid225();
      remapped.set(key, value);
    }
    return value;
  };
  const files: CorpusFile[] = [];
  for (let i = 0; i < count; i++) {
    const source = i % parsed.length;
    const copy = Math.floor(i / parsed.length);
    const dicom = parsed[source];
    const original = originals[source];
    if (dicom === undefined || original === undefined) throw new Error('no corpus sources');
    const sop = uid225();
    const study = newUid(copy, original.study);
    const series = newUid(copy, original.series);
    setUid(dicom.dict, SOP_INSTANCE, sop);
    setUid(dicom.dict, STUDY_INSTANCE, study);
    setUid(dicom.dict, SERIES_INSTANCE, series);
    setUid(dicom.meta, MEDIA_SOP_INSTANCE, sop);
    const bytes = Buffer.from(dicom.write());
    const file = path.join(dir, `${String(i).padStart(5, '0')}.dcm`);
    // On disk before any timing: cp's first round must not share the disk with the corpus's writeback.
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    files.push({ file, sizeBytes: bytes.length, sopInstanceUid: sop, seriesInstanceUid: series, studyInstanceUid: study,
      patientName: original.patientName });
  }
  return files;
}
