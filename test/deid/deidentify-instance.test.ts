import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

import dcmjs from 'dcmjs';

import { patientIdentity, patientIdentityKey } from '../../plugin/core/patient-identity';
import { deidUid } from '../../plugin/core/uid';
import { deidentifyInstance, UID_NAMESPACE, type DeidEngine, type DeidentifiedInstance } from '../../plugin/deid/deidentify-instance';
import { createDeidEngine } from '../../plugin/deid/deid-engine';
import { loadPolicy } from '../../plugin/deid/policy';
import { dateShiftDays, patientPseudonyms, pseudonymFor, SiteKey } from '../../plugin/deid/pseudonyms';
import {
  buildPlantedCorpus,
  CORPUS_NAMES,
  PATIENT_1,
  PLANTED_UIDS,
  type CorpusName,
  type PlantedCorpus,
  type PlantedFile,
} from './corpus/planted-corpus';

dcmjs.log.setLevel('silent');

type Dataset = dcmjs.data.DicomDataset;
type Profile = 'research' | 'basic';
const PROFILES: readonly Profile[] = ['research', 'basic'];

/** PATIENT_1 as the pseudonyms are keyed (plugin/core/patient-identity.ts): no issuer in the corpus. */
const PATIENT_1_IDENTITY = patientIdentity({ issuer: '', id: PATIENT_1.id, name: PATIENT_1.name, birthDate: PATIENT_1.birthDate, studyInstanceUid: '' });

/** A fixed key: pseudonyms, shifts and UIDs are reproducible from run to run. */
const KEY = SiteKey.fromBytes(Buffer.alloc(32, 0x5a), 'test key');

function engineFor(profile: Profile): DeidEngine {
  return createDeidEngine(profile, KEY);
}

interface Output {
  readonly file: PlantedFile;
  readonly result: DeidentifiedInstance;
  readonly meta: Dataset;
  readonly dict: Dataset;
}

function parse(bytes: Buffer): dcmjs.data.DicomDict {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return dcmjs.data.DicomMessage.readFile(copy);
}

// ------------------------------------------------------------ reading values

/** The element at a path of raw tags ("00400275[0].00401002"), keys compared in upper case. */
function element(ds: Dataset, path: string): dcmjs.data.DicomElement | undefined {
  let current: Dataset | undefined = ds;
  let found: dcmjs.data.DicomElement | undefined;
  for (const step of path.split('.')) {
    if (current === undefined) return undefined;
    const match = /^([0-9A-Fa-f]{8})(?:\[(\d+)\])?$/.exec(step);
    assert.ok(match?.[1] !== undefined, `bad path ${path}`);
    found = current[match[1].toUpperCase()];
    if (match[2] !== undefined) {
      const item: unknown = found?.Value?.[Number(match[2])];
      current = item === undefined ? undefined : (item as Dataset);
      found = undefined;
    }
  }
  return found;
}

/** The values of an element as strings (PN: the whole name with its groups). */
function strings(el: dcmjs.data.DicomElement | undefined): string[] {
  return (el?.Value ?? []).map((v) => {
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (typeof v === 'object' && v !== null && 'Alphabetic' in v) {
      const name = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      return [name.Alphabetic ?? '', name.Ideographic ?? '', name.Phonetic ?? ''].join('=').replace(/=+$/, '');
    }
    return JSON.stringify(v);
  });
}

function value(ds: Dataset, path: string): string | undefined {
  const el = element(ds, path);
  if (el === undefined) return undefined;
  return strings(el).join('\\');
}

/** Every string reachable in a parsed dataset, at any depth, with where it is. */
function* allStrings(ds: Dataset, where = ''): Generator<{ path: string; text: string }> {
  for (const [tag, el] of Object.entries(ds)) {
    const path = where === '' ? tag : `${where}.${tag}`;
    if (el.vr === 'SQ') {
      let i = 0;
      for (const item of el.Value ?? []) yield* allStrings(item as Dataset, `${path}[${String(i++)}]`);
      continue;
    }
    if (tag === '7FE00010') continue;
    for (const v of el.Value ?? []) {
      if (v instanceof ArrayBuffer) {
        // Binary and UN values: look at them as text both ways.
        const bytes = Buffer.from(v);
        yield { path, text: bytes.toString('latin1') };
        yield { path, text: bytes.toString('utf8') };
      } else yield* strings({ vr: el.vr, Value: [v] }).map((text) => ({ path, text }));
    }
  }
}

function asciiOnly(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Where a planted string occurs in the bytes: UTF-8 (any case for ASCII), or -1. */
function findBytes(haystack: Buffer, lowerLatin1: string, needle: string): number {
  return asciiOnly(needle) ? lowerLatin1.indexOf(needle.toLowerCase()) : haystack.indexOf(Buffer.from(needle, 'utf8'));
}

// ------------------------------------------------------------ date arithmetic (independent of the engine)

function shiftDate(da: string, days: number): string {
  const t = Date.UTC(Number(da.slice(0, 4)), Number(da.slice(4, 6)) - 1, Number(da.slice(6, 8))) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10).replace(/-/g, '');
}

function daysBetween(a: string, b: string): number {
  const utc = (da: string): number => Date.UTC(Number(da.slice(0, 4)), Number(da.slice(4, 6)) - 1, Number(da.slice(6, 8)));
  return (utc(b) - utc(a)) / 86_400_000;
}

/** PS3.5 9.1: components of digits, no leading zero (except "0"), at most 64 characters. */
const VALID_UID = /^(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))*$/;

describe('deidentifyInstance on the planted-identifier corpus', function () {
  this.timeout(120_000);
  let corpus: PlantedCorpus;
  const outputs = new Map<string, Output>();
  const out = (profile: Profile, name: CorpusName): Output => {
    const o = outputs.get(`${profile}/${name}`);
    assert.ok(o !== undefined, `no output for ${profile}/${name}`);
    return o;
  };

  before(() => {
    corpus = buildPlantedCorpus();
    for (const profile of PROFILES) {
      const engine = engineFor(profile);
      for (const file of corpus.files) {
        const result = deidentifyInstance(engine, readFileSync(file.path), file.references);
        const parsed = parse(result.bytes);
        outputs.set(`${profile}/${file.name}`, { file, result, meta: parsed.meta, dict: parsed.dict });
      }
    }
  });
  after(() => {
    corpus.remove();
  });

  for (const profile of PROFILES) {
    describe(`${profile}: zero planted identifiers`, () => {
      for (const name of CORPUS_NAMES) {
        it(`${name}: no planted string (UTF-8, any ASCII case, the input's own charset bytes) and no original UID in the bytes`, () => {
          const { file, result } = out(profile, name);
          assert.ok(file.planted.length > 0 && file.originalUids.length > 0);
          const bytes = result.bytes;
          const lower = bytes.toString('latin1').toLowerCase();
          const leaks: string[] = [];
          for (const planted of file.planted) {
            const at = findBytes(bytes, lower, planted);
            if (at >= 0) leaks.push(`"${planted}" at byte ${String(at)}`);
          }
          for (const encoded of file.encoded) {
            const at = bytes.indexOf(encoded);
            if (at >= 0) leaks.push(`${file.charset} bytes ${encoded.toString('hex')} at byte ${String(at)}`);
          }
          for (const uid of file.originalUids) {
            const at = bytes.indexOf(Buffer.from(uid, 'latin1'));
            if (at >= 0) leaks.push(`UID ${uid} at byte ${String(at)}`);
          }
          assert.deepEqual(leaks, [], `${profile} ${name} leaked`);
        });

        it(`${name}: no planted string and no original UID in any value at any depth of the parsed output`, () => {
          const { file, meta, dict } = out(profile, name);
          const leaks: string[] = [];
          let seen = 0;
          for (const { path, text } of [...allStrings(meta), ...allStrings(dict)]) {
            seen++;
            const lower = text.toLowerCase();
            for (const planted of file.planted) if (lower.includes(planted.toLowerCase())) leaks.push(`${path}: "${planted}" in "${text}"`);
            for (const uid of file.originalUids) if (text.includes(uid)) leaks.push(`${path}: UID ${uid}`);
          }
          assert.ok(seen > 10, 'the walk saw the dataset');
          assert.deepEqual(leaks, [], `${profile} ${name} leaked`);
        });
      }
    });
  }

  describe('one test per Table E.1-1 action', () => {
    it('X: OtherPatientIDs, InstitutionAddress, PatientAddress, PatientTelephoneNumbers, PerformingPhysicianName, NameOfPhysiciansReadingStudy and private blocks are removed', () => {
      for (const profile of PROFILES) {
        const { dict } = out(profile, 'ct-a1');
        for (const [tag, keyword] of [
          ['00101000', 'OtherPatientIDs'], ['00080081', 'InstitutionAddress'], ['00101040', 'PatientAddress'],
          ['00102154', 'PatientTelephoneNumbers'], ['00081050', 'PerformingPhysicianName'], ['00081060', 'NameOfPhysiciansReadingStudy'],
        ] as const) {
          assert.equal(dict[tag], undefined, `${profile}: ${keyword} (${tag}) present`);
        }
        const privateTags = Object.keys(dict).filter((tag) => parseInt(tag.slice(0, 4), 16) % 2 === 1);
        assert.deepEqual(privateTags, [], `${profile}: private elements left`);
      }
      // Basic has no Clean Descriptors option: descriptions are X there.
      const basic = out('basic', 'ct-a1').dict;
      for (const tag of ['00081030', '0008103E', '00204000', '001021B0', '00400275']) assert.equal(basic[tag], undefined, `basic keeps ${tag}`);
    });

    it('Z: ReferringPhysicianName, StudyID and PatientBirthDate stay present and empty; ReferencedStudySequence keeps de-identified items', () => {
      for (const profile of PROFILES) {
        const { dict, result } = out(profile, 'ct-a1');
        for (const tag of ['00080090', '00200010', '00100030']) {
          assert.ok(dict[tag] !== undefined, `${profile}: ${tag} removed instead of emptied`);
          assert.deepEqual(strings(dict[tag]).filter((v) => v !== ''), [], `${profile}: ${tag} not empty`);
        }
        // PS3.15 E.1.1 Z on a sequence: items de-identified by the same table
        // (an empty Type 3 sequence is invalid); references are remapped UIDs.
        const sequence = dict['00081110'];
        assert.ok(sequence !== undefined, `${profile}: ReferencedStudySequence removed`);
        const referenced = strings(sequence).flatMap((item) => item.match(/2\.25\.\d+/g) ?? []);
        assert.ok(referenced.length > 0, `${profile}: no remapped reference kept`);
        for (const uid of referenced) assert.ok(Object.values(result.vault.uids).includes(uid), `${profile}: ${uid} is not a mapped UID`);
      }
    });

    it('D: PatientID, PatientName, AccessionNumber become the keyed pseudonyms; InstitutionName and OperatorsName a dummy', () => {
      const expected = patientPseudonyms(KEY, PATIENT_1_IDENTITY);
      assert.match(expected.patientId, /^PAT-[A-Z2-7]{16}$/);
      for (const profile of PROFILES) {
        const { dict, result } = out(profile, 'ct-a1');
        assert.equal(value(dict, '00100020'), expected.patientId, profile);
        assert.equal(value(dict, '00100010'), expected.patientName, profile);
        assert.equal(value(dict, '00080050'), pseudonymFor(KEY, 'accession', PATIENT_1.studyA.accession), profile);
        assert.equal(value(dict, '00080080'), 'ANONYMIZED', profile);
        assert.equal(value(dict, '00081070'), 'ANONYMIZED', profile);
        assert.deepEqual(result.vault.patient.identity, PATIENT_1_IDENTITY, 'the vault holds the identity (PHI zone only)');
      }
      // Code items are kept by the safe list elsewhere, but inside a D sequence they would name the institution or the operator.
      for (const profile of PROFILES) {
        const { dict } = out(profile, 'ct-a1');
        for (const path of ['00080082[0]', '00081072[0].00401101[0]']) {
          assert.ok(element(dict, path.replace(/\[0\]$/, '')) !== undefined, `${profile} keeps the dummy sequence ${path}`);
          for (const tag of ['00080100', '00080102', '00080104']) assert.equal(value(dict, `${path}.${tag}`), 'ANONYMIZED', `${profile} ${path}.${tag}`);
        }
      }
      // Basic: DA elements whose action is D get the dummy date.
      const basic = out('basic', 'ct-a1').dict;
      assert.equal(value(basic, '00080021'), '19000101', 'SeriesDate');
      assert.equal(value(basic, '00080023'), '19000101', 'ContentDate');
    });

    it('K: Modality, BodyPartExamined, Manufacturer and SOPClassUID are kept; PatientSex kept by research (Retain Patient Characteristics), emptied by basic', () => {
      for (const profile of PROFILES) {
        const { dict } = out(profile, 'ct-a1');
        assert.equal(value(dict, '00080060'), 'CT');
        assert.equal(value(dict, '00180015'), 'CHEST');
        assert.equal(value(dict, '00080070'), 'SIEMENS');
        assert.equal(value(dict, '00080016'), '1.2.840.10008.5.1.4.1.1.2');
      }
      assert.equal(value(out('research', 'ct-a1').dict, '00100040'), PATIENT_1.sex);
      assert.equal(value(out('basic', 'ct-a1').dict, '00100040'), '');
    });

    it('C (research): descriptions and text at depth 1 are cleaned with typed fiducials; kept dates move by the patient\'s shift', () => {
      const { dict, result } = out('research', 'ct-a1');
      assert.equal(value(dict, '00081030'), 'CT chest for % PATIENT NAME % % ID % seen on % DATE %');
      assert.equal(value(dict, '0008103E'), 'Thorax follow-up Dr % PERSON NAME % % ID %');
      assert.equal(value(dict, '00204000'), '% PATIENT NAME % seen on % DATE % by Dr % PERSON NAME % at % INSTITUTION %');
      assert.match(value(dict, '001021B0') ?? '', /^% PATIENT NAME % \(% ID %\), born % DATE %, lives at % ADDRESS %; phone % PHONE %\.$/);
      assert.equal(value(dict, '00400275[0].00401002'), 'Referred by Dr % PERSON NAME %, seen on % DATE %');
      assert.equal(value(dict, '00400275[0].00321060'), 'Follow-up for % PATIENT NAME % % ID %');
      // Inside the cleaned sequence, X still removes: the IDs, the scheduled physician, the protocol codes, the private block.
      for (const tag of ['00401001', '00400009', '00400006', '00400008', '00350010', '00351001']) {
        assert.equal(element(dict, `00400275[0].${tag}`), undefined, `RequestAttributesSequence item keeps ${tag}`);
      }
      const shift = dateShiftDays(KEY, patientIdentityKey(PATIENT_1_IDENTITY));
      assert.notEqual(shift, 0);
      assert.equal(result.vault.patient.dateShiftDays, shift);
      const shifted = shiftDate(PATIENT_1.studyA.date, shift);
      for (const tag of ['00080020', '00080021', '00080022', '00080023']) assert.equal(value(dict, tag), shifted, tag);
      assert.ok(Object.values(result.textHits).every((n) => n > 0));
    });

    it('U: UIDs become keyed 2.25 UIDs of at most 64 characters, the same for two instances of one series, nested references included', () => {
      for (const profile of PROFILES) {
        const a1 = out(profile, 'ct-a1');
        const a2 = out(profile, 'ct-a2');
        const mapped = (uid: string): string => deidUid(KEY.bytes(), UID_NAMESPACE, uid);
        for (const [tag, keyword] of [['00080018', 'SOPInstanceUID'], ['0020000D', 'StudyInstanceUID'], ['0020000E', 'SeriesInstanceUID'], ['00200052', 'FrameOfReferenceUID']] as const) {
          for (const o of [a1, a2]) {
            const v = value(o.dict, tag) ?? '';
            assert.match(v, /^2\.25\.\d+$/, `${profile} ${o.file.name} ${keyword}`);
            assert.ok(v.length <= 64 && VALID_UID.test(v), `${keyword} ${v} is not a valid UID`);
          }
        }
        assert.equal(value(a1.dict, '0020000D'), value(a2.dict, '0020000D'), 'study UID differs within a study');
        assert.equal(value(a1.dict, '0020000E'), value(a2.dict, '0020000E'), 'series UID differs within a series');
        assert.equal(value(a1.dict, '00200052'), value(a2.dict, '00200052'), 'frame of reference differs within a series');
        assert.notEqual(value(a1.dict, '00080018'), value(a2.dict, '00080018'), 'two instances got one SOP Instance UID');
        assert.equal(value(a1.dict, '00080018'), mapped(a1.file.references.sopInstanceUid));
        assert.equal(value(a1.dict, '0020000E'), mapped(a1.file.references.seriesInstanceUid));
        assert.equal(value(a1.meta, '00020003'), value(a1.dict, '00080018'), 'MediaStorageSOPInstanceUID = mapped SOP Instance UID');
        assert.equal(a1.result.vault.sopInstanceUid.deid, value(a1.dict, '00080018'));
        // Depth 1 references in walked sequences: remapped with the same function, so links between objects survive.
        assert.equal(value(a1.dict, '00081140[0].00081155'), mapped(PLANTED_UIDS.referencedImage));
        assert.equal(value(a1.dict, '00081140[0].00081150'), '1.2.840.10008.5.1.4.1.1.2', 'ReferencedSOPClassUID kept');
        // The second study of the patient has its own UIDs.
        const b = out(profile, 'ct-b');
        assert.equal(value(b.dict, '0020000D'), mapped(PLANTED_UIDS.studyB));
        assert.notEqual(value(b.dict, '0020000D'), value(a1.dict, '0020000D'));
      }
    });
  });

  describe('retained attributes', () => {
    const RETAINED = ['Modality', 'Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'PixelRepresentation', 'ImageType', 'BodyPartExamined', 'PixelSpacing'];
    for (const profile of PROFILES) {
      for (const name of ['ct-a1', 'mr-utf8'] as const) {
        it(`${profile} ${name}: ${RETAINED.join(', ')} and the pixel bytes are unchanged`, () => {
          const { file, dict } = out(profile, name);
          const before = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parse(readFileSync(file.path)).dict);
          const after = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict);
          for (const keyword of RETAINED) {
            if (before[keyword] === undefined) continue;
            assert.deepEqual(after[keyword], before[keyword], keyword);
          }
          assert.ok(before.Modality !== undefined && before.Rows !== undefined && before.ImageType !== undefined);
          const frames = (ds: Record<string, unknown>): Buffer[] => (ds.PixelData as ArrayBuffer[]).map((f) => Buffer.from(f));
          const original = frames(before);
          const kept = frames(after);
          assert.equal(kept.length, original.length);
          original.forEach((frame, i) => {
            assert.ok(frame.length > 0 && kept[i]?.equals(frame), `PixelData frame ${String(i)} changed`);
          });
        });
      }
    }
  });

  describe('ages and dates', () => {
    it('research caps ages over 89 at 090Y; basic removes PatientAge', () => {
      assert.equal(value(out('research', 'ct-a1').dict, '00101010'), '090Y');
      assert.equal(value(out('research', 'mr-utf8').dict, '00101010'), '090Y');
      assert.equal(out('basic', 'ct-a1').dict['00101010'], undefined);
    });

    it('research keeps the interval between two studies of one patient exactly', () => {
      const a = value(out('research', 'ct-a1').dict, '00080020') ?? '';
      const b = value(out('research', 'ct-b').dict, '00080020') ?? '';
      assert.match(a, /^\d{8}$/);
      assert.notEqual(a, PATIENT_1.studyA.date);
      assert.equal(daysBetween(a, b), daysBetween(PATIENT_1.studyA.date, PATIENT_1.studyB.date));
      assert.equal(out('research', 'ct-a1').result.vault.patient.dateShiftDays, out('research', 'ct-b').result.vault.patient.dateShiftDays);
    });

    it('basic empties Z dates, dummies D dates, and leaves no original date', () => {
      const { dict } = out('basic', 'ct-a1');
      assert.equal(value(dict, '00080020'), '', 'StudyDate (Z)');
      assert.equal(value(dict, '00080022'), '', 'AcquisitionDate (Z)');
      assert.equal(value(dict, '00100030'), '', 'PatientBirthDate (Z)');
      const dates = [...allStrings(dict)].filter(({ path }) => dict[path]?.vr === 'DA').map(({ text }) => text);
      assert.ok(dates.every((d) => d === '' || d === '19000101'), `basic left dates ${dates.join(',')}`);
    });
  });

  describe('de-identification markers', () => {
    const expected: Record<Profile, { codes: string[]; longitudinal: string }> = {
      research: { codes: ['113100', '113107', '113108', '113105', '113104', '113111'], longitudinal: 'MODIFIED' },
      basic: { codes: ['113100'], longitudinal: 'REMOVED' },
    };
    for (const profile of PROFILES) {
      it(`${profile}: PatientIdentityRemoved YES, the method codes of the profile, LongitudinalTemporalInformationModified ${expected[profile].longitudinal}`, () => {
        for (const name of CORPUS_NAMES) {
          const { dict } = out(profile, name);
          assert.equal(value(dict, '00120062'), 'YES', name);
          const items = (dict['00120064']?.Value ?? []) as Dataset[];
          assert.deepEqual(items.map((item) => value(item, '00080100')), expected[profile].codes, `${name}: method codes`);
          assert.ok(items.every((item) => value(item, '00080102') === 'DCM'));
          assert.equal(value(dict, '00280303'), expected[profile].longitudinal, name);
          assert.equal(value(dict, '00120063'), loadPolicy(profile).deidentificationMethod);
        }
      });
    }
  });
});
