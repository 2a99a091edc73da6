/**
 * The planted-identifier corpus (issue 4, "Tests"): real files from
 * ../shared/data with identifiers written into them by this module, at test
 * time, into a temporary directory. Every value planted here is invented;
 * each file comes with the list of every string that must not survive
 * de-identification, the same strings in the input's own character set bytes
 * where those differ from UTF-8, and every instance UID of the input.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import dcmjs from 'dcmjs';

dcmjs.log.setLevel('silent');

type Dataset = dcmjs.data.DicomDataset;
type Element = dcmjs.data.DicomElement;

/** ../shared/data beside the clone, from dist/test/deid/corpus. */
export const SHARED_DATA = join(__dirname, '..', '..', '..', '..', '..', 'shared', 'data');

export function sharedFile(relative: string): string {
  return join(SHARED_DATA, relative);
}

/** The corpus, by name: the tests refer to these names before the files exist. */
export const CORPUS_NAMES = ['ct-a1', 'ct-a2', 'ct-b', 'mr-utf8', 'jp-h31', 'jp-multi', 'kr-i2'] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

export interface PlantedFile {
  readonly name: CorpusName;
  /** the file written into the corpus directory */
  readonly path: string;
  /** the file of ../shared/data it was made from */
  readonly source: string;
  /** SpecificCharacterSet of the written file */
  readonly charset: string;
  /** every planted string (Unicode) that must not be found in the output */
  readonly planted: readonly string[];
  /** the planted strings as the input encodes them, where that differs from UTF-8 (ISO 2022) */
  readonly encoded: readonly Buffer[];
  /** every instance UI value of the input dataset (any depth, meta header and class UIDs excluded) outside the DICOM root 1.2.840.10008 */
  readonly originalUids: readonly string[];
  /** the input's own SOP Instance, Series and Study UIDs */
  readonly references: { readonly sopInstanceUid: string; readonly seriesInstanceUid: string; readonly studyInstanceUid: string };
}

export interface PlantedCorpus {
  readonly dir: string;
  readonly files: readonly PlantedFile[];
  file(name: CorpusName): PlantedFile;
  remove(): void;
}

/** Patient 1: three CT files, two in study A (one series), one in study B. */
export const PATIENT_1 = {
  name: 'Quackenbush^Philomena^Anne',
  id: 'MRN-4417-2093',
  otherId: 'OTH-55120-7',
  birthDate: '19270315',
  age: '095Y',
  sex: 'F',
  address: '1742 Evergreenhollow Terrace, Shelbyvale',
  phone: '555-0199-3214',
  institution: 'Ravenwood Memorial Hospital',
  institutionAddress: '88 Larkspurrow Lane, Ravenwood Heights',
  referring: 'Thistlewaite^Bartholomew',
  performing: 'Okonkwo-Villanueva^Idris',
  operator: 'Pemberton^Gwendolyn',
  reading: 'Castellanos^Rufina',
  scheduled: 'Vandersloot^Marisol',
  observer: 'Featherstonehaugh^Cuthbert',
  studyA: { date: '20190304', accession: 'ACC77120934', studyId: 'STU4471A' },
  studyB: { date: '20190611', accession: 'ACC88231045', studyId: 'STU4471B' },
  privateCreator: 'PLANTED PHI BLOCK',
  nestedPrivateCreator: 'PLANTED NESTED PHI',
} as const;

/** Patient 2: a Siemens MR written in UTF-8 with accented and Japanese names. */
export const PATIENT_2 = {
  alphabetic: 'Ærøskøbing-Désirée^Zoë',
  ideographic: '山本^花子',
  phonetic: 'やまもと^はなこ',
  id: 'MRN-ÅÉ-66120',
  referring: 'Çelikkaya^Ayşegül',
  operator: 'Müller-Lüdenscheidt^Jörg',
  institution: 'Hôpital Sainte-Bérengère',
  studyDate: '20200229',
  accession: 'ACCÜ9931',
} as const;

/** A UID derived from a label: the same every run, under the 2.25 root. */
function plantedUid(label: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(label).digest('hex').slice(0, 30)}`).toString(10)}`;
}

export const PLANTED_UIDS = {
  studyB: plantedUid('planted study B'),
  seriesB: plantedUid('planted series B'),
  sopB: plantedUid('planted sop B'),
  referencedStudy: plantedUid('planted referenced study'),
  referencedImage: plantedUid('planted referenced image'),
  sourceImage: plantedUid('planted source image'),
  referencedPps: plantedUid('planted referenced pps'),
  privateUid: plantedUid('planted private uid'),
} as const;

// ---------------------------------------------------------------- elements

function text(vr: string, ...values: string[]): Element {
  return { vr, Value: values };
}

function pn(...names: (string | { Alphabetic: string; Ideographic?: string; Phonetic?: string })[]): Element {
  return { vr: 'PN', Value: names.map((n) => (typeof n === 'string' ? { Alphabetic: n } : n)) };
}

function sq(...items: Dataset[]): Element {
  return { vr: 'SQ', Value: items };
}

function readDict(file: string): dcmjs.data.DicomDict {
  const bytes = readFileSync(file);
  return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

function writeDict(dict: dcmjs.data.DicomDict, target: string): void {
  writeFileSync(target, Buffer.from(dict.write()));
}

/** Every (top-level) DA value becomes `date`: no original date survives unnoticed, and the shift is checkable. */
function setAllDates(ds: Dataset, date: string): void {
  for (const element of Object.values(ds)) if (element.vr === 'DA') element.Value = [date];
}

function dumpOf(file: string): string {
  return execFileSync('dcmdump', ['-q', file], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Every instance UI value of a Part 10 file at any depth, read with dcmdump
 * (which also reads ISO 2022 files): not the meta header, not SOP Class UIDs
 * (kept by the profiles), not UIDs of the DICOM root.
 */
export function instanceUids(file: string): string[] {
  const uids = new Set<string>();
  for (const match of dumpOf(file).matchAll(/^\s*\((\w{4}),\w{4}\) UI \[([^\]]*)\].*#.*?(\w+)$/gm)) {
    if (match[1] === '0002' || (match[3] ?? '').endsWith('ClassUID')) continue;
    for (const uid of (match[2] ?? '').split('\\')) if (uid !== '' && !uid.startsWith('1.2.840.10008.')) uids.add(uid);
  }
  return [...uids];
}

// ---------------------------------------------------------------- patient 1

function patient1Strings(study: { date: string; accession: string; studyId: string }): string[] {
  const p = PATIENT_1;
  return [
    p.name, 'Quackenbush', 'Philomena', 'Philomena Quackenbush', p.id, '4417-2093', p.otherId, '55120', p.birthDate, '1927-03-15',
    p.address, 'Evergreenhollow', 'Shelbyvale', p.phone, '0199-3214', p.institution, 'Ravenwood', p.institutionAddress, 'Larkspurrow',
    p.referring, 'Thistlewaite', 'Bartholomew', p.performing, 'Okonkwo', 'Villanueva', 'Idris', p.operator, 'Pemberton', 'Gwendolyn',
    p.reading, 'Castellanos', 'Rufina', p.scheduled, 'Vandersloot', 'Marisol', p.observer, 'Featherstonehaugh', 'Cuthbert',
    study.date, `${study.date.slice(0, 4)}-${study.date.slice(4, 6)}-${study.date.slice(6)}`, study.accession, study.studyId,
    'RPID-99812', 'SPS-4471-9', 'P-QUACK-1', 'GP-77', '99LOCAL', 'RMH-7731', '99RAVEN',
  ];
}

function plantPatient1(ds: Dataset, study: { date: string; accession: string; studyId: string }): void {
  const p = PATIENT_1;
  const isoDate = `${study.date.slice(0, 4)}-${study.date.slice(4, 6)}-${study.date.slice(6)}`;
  setAllDates(ds, study.date);
  Object.assign(ds, {
    '00080050': text('SH', study.accession),
    '00080080': text('LO', p.institution),
    '00080081': text('ST', p.institutionAddress),
    '00080090': pn(p.referring),
    '00081030': text('LO', `CT chest for Philomena Quackenbush ${p.id} seen on ${isoDate}`),
    '0008103E': text('LO', `Thorax follow-up Dr Thistlewaite ${study.accession}`),
    '00081050': pn(p.performing),
    '00081060': pn(p.reading),
    '00081070': pn(p.operator),
    '00100010': pn(p.name),
    '00100020': text('LO', p.id),
    '00100030': text('DA', p.birthDate),
    '00100040': text('CS', p.sex),
    '00101000': text('LO', p.otherId),
    '00101010': text('AS', p.age),
    '00101040': text('LO', p.address),
    '00102154': text('SH', p.phone),
    '001021B0': text('LT', `Philomena Quackenbush (${p.id}), born 1927-03-15, lives at ${p.address}; phone ${p.phone}.`),
    '00200010': text('SH', study.studyId),
    '00204000': text('LT', `Quackenbush, Philomena seen on ${isoDate} by Dr Thistlewaite at ${p.institution}`),
    // Two levels of nesting, kept (cleaned) under research, removed under basic.
    '00400275': sq({
      '00321060': text('LO', `Follow-up for Philomena Quackenbush ${p.id}`),
      '00400007': text('LO', `Scheduled by Castellanos on ${isoDate}`),
      '00401001': text('SH', 'RPID-99812'),
      '00400009': text('SH', 'SPS-4471-9'),
      '00400006': pn(p.scheduled),
      '00401002': text('LO', `Referred by Dr Thistlewaite, seen on ${isoDate}`),
      '00400008': sq({
        '00080100': text('SH', 'P-QUACK-1'),
        '00080102': text('SH', '99LOCAL'),
        '00080104': text('LO', 'Protocol of Philomena Quackenbush'),
        '0040A123': pn(p.observer),
      }),
      '00350010': text('LO', p.nestedPrivateCreator),
      '00351001': text('LO', `${p.name} ${p.id}`),
    }),
    // UIDs at depth 1 and 2: Z (emptied) and U/D (walked, remapped) sequences.
    '00081110': sq({ '00081150': text('UI', '1.2.840.10008.3.1.2.3.1'), '00081155': text('UI', PLANTED_UIDS.referencedStudy) }),
    '00081140': sq({ '00081150': text('UI', '1.2.840.10008.5.1.4.1.1.2'), '00081155': text('UI', PLANTED_UIDS.referencedImage) }),
    '00081111': sq({
      '00081150': text('UI', '1.2.840.10008.3.1.2.3.3'),
      '00081155': text('UI', PLANTED_UIDS.referencedPps),
      '00082112': sq({ '00081150': text('UI', '1.2.840.10008.5.1.4.1.1.2'), '00081155': text('UI', PLANTED_UIDS.sourceImage) }),
    }),
    // Institution Code Sequence (X/Z/D → D): its item is the dummy value, the institution's code must not survive in it.
    '00080082': sq({ '00080100': text('SH', 'RMH-7731'), '00080102': text('SH', '99RAVEN'), '00080104': text('LO', 'Local site code') }),
    // Operator identification: D on the sequences, so their items are walked; two levels deep.
    '00081072': sq({
      '00080080': text('LO', p.institution),
      '00080081': text('ST', p.institutionAddress),
      '00401103': text('LO', p.phone),
      '00401101': sq({
        '00080100': text('SH', 'GP-77'),
        '00080102': text('SH', '99LOCAL'),
        '00080104': text('LO', 'Gwendolyn Pemberton'),
      }),
    }),
    // A private block at top level, with the name, the MRN and a UID.
    '00330010': text('LO', p.privateCreator),
    '00331001': text('LO', p.name),
    '00331002': text('LO', p.id),
    '00331003': text('UI', PLANTED_UIDS.privateUid),
    '00331004': text('LT', `Patient Philomena Quackenbush ${p.phone}`),
  });
}

// ---------------------------------------------------------------- patient 2 (UTF-8)

function patient2Strings(): string[] {
  const p = PATIENT_2;
  return [
    p.alphabetic, 'Ærøskøbing', 'Désirée', p.ideographic, '山本', '花子', p.phonetic, 'やまもと', 'はなこ', p.id, 'ÅÉ-66120', p.referring,
    'Çelikkaya', 'Ayşegül', p.operator, 'Lüdenscheidt', p.institution, 'Sainte-Bérengère', p.studyDate, p.accession,
  ];
}

function plantPatient2(ds: Dataset): void {
  const p = PATIENT_2;
  setAllDates(ds, p.studyDate);
  Object.assign(ds, {
    '00080005': text('CS', 'ISO_IR 192'),
    '00080050': text('SH', p.accession),
    '00080080': text('LO', p.institution),
    '00080090': pn(p.referring),
    '00081070': pn(p.operator),
    '00100010': pn({ Alphabetic: p.alphabetic, Ideographic: p.ideographic, Phonetic: p.phonetic }),
    '00100020': text('LO', p.id),
    '00101010': text('AS', '097Y'),
    '00081030': text('LO', `IRM de Désirée Ærøskøbing ${p.id}`),
    '00204000': text('LT', `山本花子 さん、やまもと はなこ; référée par Ayşegül Çelikkaya`),
    // A planted element inside the Siemens block the research profile keeps partly: only 0C, 0D, 0E, 27 may stay.
    '001910F0': text('LO', `${p.alphabetic} ${p.id}`),
    '001910F1': text('LO', p.ideographic),
  });
}

// ---------------------------------------------------------------- ISO 2022 files, as they are

/** The escape-sequence form of each name group, as the file has it (PS3.5 6.1.2.5.3). */
function esc(designation: string, bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from(`\x1b${designation}`, 'latin1'), Buffer.from(bytes)]);
}

/**
 * The names of pydicom's charset test files, in Unicode. Checked against
 * `iconv -f ISO-2022-JP` (Japanese) and `iconv -f EUC-KR` on the G1 bytes
 * (Korean) of the files' own values.
 */
const ISO2022 = {
  'jp-h31': {
    source: 'pydicom/charset_files/chrH31.dcm',
    planted: ['Yamada^Tarou', 'Yamada', 'Tarou', '山田^太郎', '山田', '太郎', 'やまだ^たろう', 'やまだ', 'たろう', 'H31EXAMPLE'],
    encoded: [esc('$B', [0x3b, 0x33, 0x45, 0x44]), esc('$B', [0x42, 0x40, 0x4f, 0x3a]), esc('$B', [0x24, 0x64, 0x24, 0x5e, 0x24, 0x40]), esc('$B', [0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26])],
  },
  'jp-multi': {
    source: 'pydicom/charset_files/chrJapMulti.dcm',
    planted: ['やまだ^たろう', 'やまだ', 'たろう', '2008-4', '2008050417172310'],
    encoded: [esc('$B', [0x24, 0x64, 0x24, 0x5e, 0x24, 0x40]), esc('$B', [0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26])],
  },
  'kr-i2': {
    source: 'pydicom/charset_files/chrI2.dcm',
    planted: ['Hong^Gildong', 'Gildong', '洪^吉洞', '吉洞', '홍^길동', '길동', 'I2EXAMPLE'],
    encoded: [esc('$)C', [0xfb, 0xf3]), esc('$)C', [0xd1, 0xce, 0xd4, 0xd7]), esc('$)C', [0xc8, 0xab]), esc('$)C', [0xb1, 0xe6, 0xb5, 0xbf])],
  },
} as const;

// ---------------------------------------------------------------- the corpus

const CT_SOURCE = (n: number): string => `tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-0${n}.dcm`;
const MR_SOURCE = 'dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00001.dcm';
/** What the source files carried themselves (already pseudonymous, but still not to be passed on). */
const SOURCE_IDENTIFIERS = ['Lung_Dx-A0002', 'Test^Regression'];

export function buildPlantedCorpus(): PlantedCorpus {
  const dir = mkdtempSync(join(tmpdir(), 'aib-planted-corpus-'));
  const files: PlantedFile[] = [];
  const add = (name: CorpusName, source: string, planted: string[], encoded: readonly Buffer[] = []): void => {
    const path = join(dir, `${name}.dcm`);
    const dump = dumpOf(path);
    const top = (tag: string): string => new RegExp(`^\\(${tag}\\) \\w\\w \\[([^\\]]*)\\]`, 'm').exec(dump)?.[1] ?? '';
    const references = { sopInstanceUid: top('0008,0018'), seriesInstanceUid: top('0020,000e'), studyInstanceUid: top('0020,000d') };
    files.push({ name, path, source, charset: top('0008,0005'), planted, encoded, originalUids: instanceUids(path), references });
  };

  for (const [name, n, study] of [['ct-a1', 1, PATIENT_1.studyA], ['ct-a2', 2, PATIENT_1.studyA], ['ct-b', 3, PATIENT_1.studyB]] as const) {
    const dict = readDict(sharedFile(CT_SOURCE(n)));
    plantPatient1(dict.dict, study);
    if (name === 'ct-b') {
      // A second study of the same patient: its own study, series and instance.
      dict.dict['0020000D'] = text('UI', PLANTED_UIDS.studyB);
      dict.dict['0020000E'] = text('UI', PLANTED_UIDS.seriesB);
      dict.dict['00080018'] = text('UI', PLANTED_UIDS.sopB);
      dict.meta['00020003'] = text('UI', PLANTED_UIDS.sopB);
    }
    writeDict(dict, join(dir, `${name}.dcm`));
    add(name, CT_SOURCE(n), [...patient1Strings(study), ...SOURCE_IDENTIFIERS]);
  }

  const mr = readDict(sharedFile(MR_SOURCE));
  plantPatient2(mr.dict);
  writeDict(mr, join(dir, 'mr-utf8.dcm'));
  add('mr-utf8', MR_SOURCE, [...patient2Strings(), ...SOURCE_IDENTIFIERS]);

  for (const name of ['jp-h31', 'jp-multi', 'kr-i2'] as const) {
    const spec = ISO2022[name];
    copyFileSync(sharedFile(spec.source), join(dir, `${name}.dcm`));
    add(name, spec.source, [...spec.planted], spec.encoded);
  }

  return {
    dir,
    files,
    file(name: CorpusName): PlantedFile {
      const found = files.find((f) => f.name === name);
      if (found === undefined) throw new Error(`no corpus file ${name}`);
      return found;
    },
    remove(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
