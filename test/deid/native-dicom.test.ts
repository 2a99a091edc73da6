import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type ApplyPlan,
  type AppliedInstance,
  type CompiledPolicy,
  DeidNativeError,
  type InspectResult,
  type PolicyTable,
  compilePolicy,
  parseDicom,
  shiftDicomDate,
} from '../../plugin/deid/native-dicom';

const DATA = join(__dirname, '..', '..', '..', '..', 'shared', 'data');
const CT = join(DATA, 'tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f', '1-01.dcm');

const TABLE: PolicyTable = {
  actions: {
    '00100010': 'D', // PatientName
    '00100020': 'D', // PatientID
    '00080050': 'Z', // AccessionNumber
    '00080020': 'K', // StudyDate
    '00081030': 'C', // StudyDescription
    '00080018': 'U', // SOPInstanceUID
    '0020000d': 'U', // StudyInstanceUID
    '0020000e': 'U', // SeriesInstanceUID
    '00200052': 'U', // FrameOfReferenceUID
    '00081155': 'U', // ReferencedSOPInstanceUID
    '00080080': 'X', // InstitutionName
    '00101010': 'K', // PatientAge
  },
  defaultPublic: 'K',
  privateCreatorsKept: [],
  privateKept: [],
  maxAgeYears: 89,
};

function planFor(result: InspectResult, overrides: Partial<ApplyPlan> = {}): ApplyPlan {
  return {
    replacements: { patientId: 'PSEUDO-ID-1', patientName: 'PSEUDO^NAME', accessionNumber: 'PSEUDOACC' },
    dateShiftDays: 10,
    uidMap: Object.fromEntries(result.uids.map((uid, i) => [uid, `2.25.${String(100000 + i)}`])),
    texts: Object.fromEntries(result.texts.map((t) => [t.path, 'CLEANED TEXT'])),
    markers: {
      patientIdentityRemoved: 'YES',
      deidentificationMethod: 'orthanc-ai-bridge test',
      methodCodes: [
        { value: '113100', scheme: 'DCM', meaning: 'Basic Application Confidentiality Profile' },
        { value: '113107', scheme: 'DCM', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
      ],
      longitudinalTemporalInformationModified: 'MODIFIED',
    },
    ...overrides,
  };
}

function deidentify(bytes: Buffer, policy: CompiledPolicy): { result: InspectResult; out: Buffer; scan: AppliedInstance['scan'] } {
  const doc = parseDicom(bytes);
  const result = doc.inspect(policy);
  const applied = doc.apply(policy, planFor(result));
  return { result, out: applied.bytes, scan: applied.scan };
}

let tmp = '';
function dump(bytes: Buffer, name: string, ...options: string[]): string {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  return execFileSync('dcmdump', [...options, file], { encoding: 'utf8' });
}

function dumpValue(dumpText: string, tag: string): string | undefined {
  const line = dumpText.split('\n').find((l) => l.startsWith(`(${tag})`));
  const match = line ? /\[([^\]]*)\]/.exec(line) : null;
  return match?.[1];
}

/** The value bytes of the last (7FE0,0010); encapsulated: all fragments up to the sequence delimiter. */
function pixelBytes(bytes: Buffer): Buffer {
  const at = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  assert.ok(at > 0, 'no PixelData tag');
  const vr = bytes.toString('latin1', at + 4, at + 6);
  assert.ok(vr === 'OW' || vr === 'OB', `PixelData VR ${vr}`);
  const length = bytes.readUInt32LE(at + 8);
  if (length !== 0xffffffff) return bytes.subarray(at + 12, at + 12 + length);
  const end = bytes.indexOf(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]), at + 12);
  assert.ok(end > 0, 'no sequence delimiter');
  return bytes.subarray(at + 12, end + 8);
}

function dciodvfyErrors(bytes: Buffer, name: string): Set<string> {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
  return new Set(lines);
}

function expectCode(code: string, call: () => unknown): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof DeidNativeError, `not a DeidNativeError: ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe('native DICOM de-identification (DCMTK addon)', () => {
  let policy: CompiledPolicy;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'aib-native-dicom-'));
    policy = compilePolicy(TABLE);
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('date arithmetic', () => {
    it('shifts DA across month, year and leap-day boundaries', () => {
      assert.equal(shiftDicomDate('20071225', 'DA', 10), '20080104');
      assert.equal(shiftDicomDate('20080220', 'DA', 10), '20080301');
      assert.equal(shiftDicomDate('20070220', 'DA', 10), '20070302');
      assert.equal(shiftDicomDate('20000301', 'DA', -1), '20000229');
      assert.equal(shiftDicomDate('19000301', 'DA', -1), '19000228');
      assert.equal(shiftDicomDate('20070131', 'DA', 1), '20070201');
      assert.equal(shiftDicomDate('20070425', 'DA', -3650), '19970427');
      assert.equal(shiftDicomDate('2007.04.25', 'DA', 10), '20070505');
      assert.equal(shiftDicomDate('20070425\\20071231', 'DA', 1), '20070426\\20080101');
    });

    it('shifts the date part of DT and keeps time, fraction and offset', () => {
      assert.equal(shiftDicomDate('20071225120000.123456+0100', 'DT', 10), '20080104120000.123456+0100');
      assert.equal(shiftDicomDate('2007122523', 'DT', 7), '2008010123');
      assert.equal(shiftDicomDate('200712', 'DT', 31), '200801');
      assert.equal(shiftDicomDate('2007', 'DT', 10), '2007');
    });

    it('answers null for invalid dates', () => {
      assert.equal(shiftDicomDate('20071332', 'DA', 1), null);
      assert.equal(shiftDicomDate('20070230', 'DA', 1), null);
      assert.equal(shiftDicomDate('2007-04-25', 'DA', 1), null);
    });
  });

  describe('compilePolicy', () => {
    it('rejects an unknown action letter, naming the key', () => {
      const bad = { ...TABLE, actions: { ...TABLE.actions, '00100030': 'Q' } } as unknown as PolicyTable;
      assert.throws(() => compilePolicy(bad), (e: unknown) => e instanceof DeidNativeError && e.code === 'AIB_DEID_BAD_PLAN' && e.message.includes('00100030'));
    });

    it('rejects malformed keys', () => {
      expectCode('AIB_DEID_BAD_PLAN', () => compilePolicy({ ...TABLE, actions: { '0010,0010': 'X' } }));
      expectCode('AIB_DEID_BAD_PLAN', () => compilePolicy({ ...TABLE, privateKept: ['0010,X,10'] }));
    });
  });

  describe('CT slice (Explicit VR LE, ISO_IR 100, private tags)', () => {
    const input = readFileSync(CT);
    let result: InspectResult;
    let out: Buffer;
    let scan: AppliedInstance['scan'];

    before(() => {
      ({ result, out, scan } = deidentify(input, policy));
    });

    it('apply answers what model selection looks at, as written into the copy (the cleaned text, not the original)', () => {
      const text = dump(out, 'ct-scan.dcm');
      assert.deepEqual(scan, {
        modality: 'CT', bodyPartExamined: dumpValue(text, '0018,0015') ?? '', studyDescription: 'CLEANED TEXT',
        seriesDescription: dumpValue(text, '0008,103e') ?? '', viewPosition: '',
      });
      assert.notEqual(scan.studyDescription, 'Thorax^AThoraxRoutine (Adult)');
    });

    it('inspect returns the patient block and the UIDs to map', () => {
      assert.equal(result.specificCharacterSet, 'ISO_IR 100');
      assert.equal(result.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
      assert.equal(result.modality, 'CT');
      assert.deepEqual(result.patient, { id: 'Lung_Dx-A0002', issuer: '', name: 'Lung_Dx-A0002', birthDate: '', sex: 'F', age: '053Y', otherIds: [] });
      assert.deepEqual(result.undecodable, []);
      assert.equal(result.studyDate, '20070425');
      assert.ok(result.uids.includes('1.3.6.1.4.1.14519.5.2.1.6655.2359.104855313699639828167809534834'), 'study UID');
      assert.ok(result.uids.includes('1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983'), 'series UID');
      assert.ok(!result.uids.includes('1.2.840.10008.5.1.4.1.1.2'), 'SOP Class UIDs are not mapped');
      assert.equal(result.uids.length, new Set(result.uids).size, 'distinct');
      // ReferencedSOPInstanceUID inside ReferencedImageSequence / SourceImageSequence (kept by default)
      assert.ok(result.uids.length >= 6);
      assert.deepEqual(result.texts, [{ path: '00081030', vr: 'LO', value: 'Thorax^AThoraxRoutine (Adult)' }]);
      const names = result.identifiers.map((i) => i.keyword);
      assert.ok(names.includes('PatientName') && names.includes('PatientID'));
    });

    it('apply writes pseudonyms, shifted dates, mapped UIDs and the markers', () => {
      const text = dump(out, 'ct.dcm');
      assert.equal(dumpValue(text, '0010,0010'), 'PSEUDO^NAME');
      assert.equal(dumpValue(text, '0010,0020'), 'PSEUDO-ID-1');
      assert.equal(dumpValue(text, '0008,0020'), '20070505');
      assert.equal(dumpValue(text, '0008,1030'), 'CLEANED TEXT');
      assert.equal(dumpValue(text, '0010,1010'), '053Y');
      assert.equal(dumpValue(text, '0012,0062'), 'YES');
      assert.equal(dumpValue(text, '0028,0303'), 'MODIFIED');
      assert.equal(dumpValue(text, '0008,0005'), 'ISO_IR 192');
      assert.equal(dumpValue(text, '0008,0050'), 'PSEUDOACC', 'Z on AccessionNumber writes the pseudonym');
      assert.ok(!text.includes('(0008,0080)'), 'InstitutionName removed');
      assert.match(text, /\(0012,0064\) SQ[\s\S]*\(0008,0100\) SH \[113100\]/);
      const sop = result.uids.indexOf(dumpValue(dump(input, 'ct-in.dcm'), '0008,0018') ?? '');
      assert.equal(dumpValue(text, '0002,0003'), `2.25.${String(100000 + sop)}`, 'MediaStorageSOPInstanceUID = mapped SOP UID');
      assert.equal(dumpValue(text, '0002,0003'), dumpValue(text, '0008,0018'));
      assert.match(text, /TransferSyntaxUID/);
    });

    it('leaves no original UID, no private tag and no group length in the output', () => {
      for (const uid of result.uids) assert.equal(out.indexOf(uid), -1, 'an original UID is in the output');
      const text = dump(out, 'ct2.dcm');
      const privateLines = text.split('\n').filter((l) => /^\s*\([0-9a-f]{3}[13579bdf],/.test(l));
      assert.deepEqual(privateLines, []);
      assert.ok(!/^\((?!0002)[0-9a-f]{4},0000\)/m.test(text), 'group length');
    });

    it('keeps the pixel data bytes identical', () => {
      assert.ok(pixelBytes(input).equals(pixelBytes(out)));
      assert.equal(pixelBytes(out).length, 512 * 512 * 2);
    });

    it('passes dciodvfy with no new errors', () => {
      const before = dciodvfyErrors(input, 'ct-vfy-in.dcm');
      const after = dciodvfyErrors(out, 'ct-vfy-out.dcm');
      assert.deepEqual([...after].filter((l) => !before.has(l)), []);
    });

    it('is single use', () => {
      const doc = parseDicom(input);
      const r = doc.inspect(policy);
      doc.apply(policy, planFor(r));
      expectCode('AIB_DEID_BAD_PLAN', () => doc.inspect(policy));
      expectCode('AIB_DEID_BAD_PLAN', () => doc.apply(policy, planFor(r)));
    });

    it('throws AIB_DEID_BAD_PLAN for a UID missing from uidMap, a missing text or a bad plan', () => {
      const doc = parseDicom(input);
      const r = doc.inspect(policy);
      const uidMap = planFor(r).uidMap;
      const [first] = r.uids;
      assert.ok(first !== undefined);
      const partial = Object.fromEntries(Object.entries(uidMap).filter(([k]) => k !== first));
      expectCode('AIB_DEID_BAD_PLAN', () => doc.apply(policy, planFor(r, { uidMap: partial })));
      expectCode('AIB_DEID_BAD_PLAN', () => parseDicom(input).apply(policy, planFor(r, { texts: {} })));
      expectCode('AIB_DEID_BAD_PLAN', () => parseDicom(input).apply(policy, planFor(r, { uidMap: { ...uidMap, [first]: 'not a uid' } })));
      expectCode('AIB_DEID_BAD_PLAN', () => parseDicom(input).apply(policy, planFor(r, { dateShiftDays: 1.5 })));
    });

    it('caps ages over maxAgeYears', () => {
      const capped = compilePolicy({ ...TABLE, maxAgeYears: 50 });
      const { out: o } = deidentify(input, capped);
      assert.equal(dumpValue(dump(o, 'age.dcm'), '0010,1010'), '051Y');
    });

    it('with defaultPublic X keeps only the listed elements', () => {
      const strict = compilePolicy({ ...TABLE, defaultPublic: 'X', actions: { ...TABLE.actions, '7fe00010': 'K', '00080016': 'K' } });
      const text = dump(deidentify(input, strict).out, 'strict.dcm');
      assert.ok(!text.includes('(0008,0070)'), 'Manufacturer removed');
      assert.ok(!text.includes('(0008,1140)'), 'ReferencedImageSequence removed');
      assert.ok(text.includes('(7fe0,0010)'));
    });
  });

  describe('encapsulated pixel data passes through', () => {
    for (const [name, syntax] of [
      ['MR_small_jpeg_ls_lossless.dcm', '1.2.840.10008.1.2.4.80'],
      ['MR_small_jp2klossless.dcm', '1.2.840.10008.1.2.4.90'],
    ] as const) {
      it(`${name} keeps ${syntax} and its fragments`, () => {
        const input = readFileSync(join(DATA, 'pydicom', 'test_files', name));
        const { result, out } = deidentify(input, policy);
        const text = dump(out, name, '-Un');
        assert.equal(dumpValue(text, '0002,0010'), syntax);
        assert.ok(pixelBytes(input).equals(pixelBytes(out)));
        for (const uid of result.uids) assert.equal(out.indexOf(uid), -1);
      });
    }
  });

  describe('character sets', () => {
    const keepNames = compilePolicy({ ...TABLE, actions: { ...TABLE.actions, '00100010': 'K' } });

    for (const [file, charset, name] of [
      ['chrH31.dcm', '\\ISO 2022 IR 87', 'Yamada^Tarou=山田^太郎=やまだ^たろう'],
      ['chrH32.dcm', 'ISO 2022 IR 13\\ISO 2022 IR 87', 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう'],
      ['chrJapMulti.dcm', '\\ISO 2022 IR 87', 'やまだ^たろう'],
      ['chrI2.dcm', '\\ISO 2022 IR 149', 'Hong^Gildong=洪^吉洞=홍^길동'],
      ['chrGerm.dcm', 'ISO_IR 100', 'Äneas^Rüdiger'],
      ['chrRuss.dcm', 'ISO_IR 144', 'Люкceмбypг'],
    ] as const) {
      it(`${file} (${charset}) comes out as ISO_IR 192 with the name in UTF-8`, () => {
        const input = readFileSync(join(DATA, 'pydicom', 'charset_files', file));
        const { result, out } = deidentify(input, keepNames);
        assert.equal(result.specificCharacterSet, charset);
        assert.equal(result.patient.name, name);
        const text = dump(out, file, '+U8');
        assert.equal(dumpValue(text, '0008,0005'), 'ISO_IR 192');
        assert.ok(out.includes(Buffer.from(name, 'utf8')), 'UTF-8 name in the output bytes');
        assert.ok(!out.includes(Buffer.from([0x1b])), 'no escape sequence left');
      });
    }
  });

  describe('hostile input', () => {
    it('truncated files throw AIB_DEID_TRUNCATED', () => {
      for (const file of ['MR_truncated.dcm', 'rtplan_truncated.dcm']) {
        expectCode('AIB_DEID_TRUNCATED', () => parseDicom(readFileSync(join(DATA, 'pydicom', 'malformed', file))));
      }
      const ct = readFileSync(CT);
      expectCode('AIB_DEID_TRUNCATED', () => parseDicom(ct.subarray(0, 1000)));
      expectCode('AIB_DEID_TRUNCATED', () => parseDicom(ct.subarray(0, ct.length - 7)));
    });

    it('random bytes and empty input throw AIB_DEID_NOT_DICOM', () => {
      for (const size of [0, 7, 132, 1000, 100000]) expectCode('AIB_DEID_NOT_DICOM', () => parseDicom(randomBytes(size)));
    });

    it('deep nesting and huge lengths throw instead of crashing', () => {
      const element = (group: number, elem: number, vr: string, value: Buffer): Buffer => {
        const head = Buffer.alloc(8);
        head.writeUInt16LE(group, 0);
        head.writeUInt16LE(elem, 2);
        head.write(vr, 4, 'latin1');
        head.writeUInt16LE(value.length, 6);
        return Buffer.concat([head, value]);
      };
      const meta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(2, 0x10, 'UI', Buffer.from('1.2.840.10008.1.2.1\0'))]);
      const sop = element(8, 0x18, 'UI', Buffer.from('1.2.3\0'));
      const level = Buffer.from([0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
      const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
      for (const depth of [65, 20000]) {
        const bytes = Buffer.concat([meta, sop, ...Array<Buffer>(depth).fill(level), ...Array<Buffer>(depth).fill(close)]);
        expectCode('AIB_DEID_NOT_DICOM', () => parseDicom(bytes));
      }
      const unclosed = Buffer.concat([meta, sop, ...Array<Buffer>(50000).fill(level)]);
      expectCode('AIB_DEID_TRUNCATED', () => parseDicom(unclosed));
      const huge = Buffer.from([0x10, 0x00, 0x00, 0x40, 0x4f, 0x42, 0, 0, 0xf0, 0xff, 0xff, 0xff]);
      expectCode('AIB_DEID_TRUNCATED', () => parseDicom(Buffer.concat([meta, sop, huge, Buffer.alloc(100)])));
    });
  });
});
