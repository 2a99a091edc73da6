import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { data as dcmjsData } from 'dcmjs';

import { lungCtSlices } from '../annotate/results/lung-ct-fixture';

/** Identifiers planted into a site's study: the egress proof searches for each. */
export interface PlantedIdentity {
  readonly familyName: string;
  readonly givenName: string;
  readonly patientId: string;
  readonly accession: string;
  readonly birthDate: string;
  readonly studyDate: string;
  readonly institution: string;
  readonly studyDescription: string;
}

export interface PlantedStudy {
  readonly files: readonly string[];
  readonly identity: PlantedIdentity;
  /** Original Study, Series and SOP Instance UIDs (new ones, made by dcmodify). */
  readonly uids: readonly string[];
}

/**
 * Copies `count` mid-chest TCIA slices into `dir`, gives them new UIDs (one
 * new study and series) and plants the identity in the header, with Body
 * Part Examined CHEST and Images in Acquisition so the series completes.
 */
export function plantedChestStudy(dir: string, identity: PlantedIdentity, count: number): PlantedStudy {
  const slices = lungCtSlices(30).slice(14, 14 + count);
  const files = slices.map((slice, index) => {
    const copy = join(dir, `slice-${String(index)}.dcm`);
    copyFileSync(slice.path, copy);
    return copy;
  });
  // One new study and series for all the files (dcmodify's -gst/-gse would make one per file); -gin gives each its own SOP Instance UID.
  const uidRoot = `1.2.826.0.1.3680043.8.498.${String(Date.now())}${String(Math.floor(Math.random() * 1e6))}`;
  const edits = [
    `(0020,000D)=${uidRoot}.1`, `(0020,000E)=${uidRoot}.2`,
    `(0010,0010)=${identity.familyName}^${identity.givenName}`, `(0010,0020)=${identity.patientId}`, `(0008,0050)=${identity.accession}`,
    `(0010,0030)=${identity.birthDate}`, `(0008,0020)=${identity.studyDate}`, `(0008,0021)=${identity.studyDate}`,
    `(0008,0080)=${identity.institution}`, `(0008,1030)=${identity.studyDescription}`, '(0018,0015)=CHEST', `(0020,1002)=${String(count)}`,
  ].flatMap((e) => ['-i', e]);
  const run = spawnSync('dcmodify', ['-nb', '-gin', ...edits, ...files], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const uids = new Set<string>();
  for (const file of files) {
    const bytes = readFileSync(file);
    const dict = dcmjsData.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { untilTag: '7FE00010' });
    const header = dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict);
    for (const key of ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'FrameOfReferenceUID']) {
      const value = header[key];
      if (typeof value === 'string' && value !== '') uids.add(value);
    }
  }
  return { files, identity, uids: [...uids] };
}

/** Each identifier in the forms a leak could take: as is, upper and lower case, PN with spaces, UTF-16LE, base64. */
export function searchForms(study: PlantedStudy): { label: string; bytes: Buffer }[] {
  const id = study.identity;
  const values = [
    id.familyName, id.givenName, `${id.familyName}^${id.givenName}`, `${id.givenName} ${id.familyName}`, id.patientId, id.accession,
    id.birthDate, `${id.birthDate.slice(0, 4)}-${id.birthDate.slice(4, 6)}-${id.birthDate.slice(6)}`,
    id.studyDate, `${id.studyDate.slice(0, 4)}-${id.studyDate.slice(4, 6)}-${id.studyDate.slice(6)}`, id.institution, id.studyDescription,
    ...study.uids,
  ];
  return values.flatMap((value) => [...new Set([value, value.toUpperCase(), value.toLowerCase()])].flatMap((v) => [
    { label: v, bytes: Buffer.from(v, 'utf8') },
    { label: `${v} (UTF-16LE)`, bytes: Buffer.from(v, 'utf16le') },
    { label: `${v} (base64)`, bytes: Buffer.from(Buffer.from(v, 'utf8').toString('base64').replace(/=+$/, ''), 'ascii') },
  ]));
}
