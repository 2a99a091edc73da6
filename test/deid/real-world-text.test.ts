import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createDeidEngine } from '../../plugin/deid/deid-engine';
import { deidentifyInstance, type DeidentifiedInstance } from '../../plugin/deid/deidentify-instance';
import { DeidNativeError } from '../../plugin/deid/native-dicom';
import { SiteKey } from '../../plugin/deid/pseudonyms';
import { sharedFile, tempDir } from '../harness/bridge-orthanc';
import { CHARSET_FILES, encodings } from './corpus/charset-names';
import { encode, writeRealWorldFiles, type RealWorldFile } from './corpus/real-world-files';

const KEY = SiteKey.fromBytes(Buffer.alloc(32, 0x13), 'test key');

/** One attribute as DCMTK's dcmdump prints it ('' when absent). */
function dumpValue(file: string, keyword: string): string {
  const text = execFileSync('dcmdump', ['-q', '+P', keyword, file], { encoding: 'utf8' });
  return /\[([^\]]*)\]/.exec(text)?.[1] ?? '';
}

function references(file: string): { sopInstanceUid: string; seriesInstanceUid: string; studyInstanceUid: string } {
  return { sopInstanceUid: dumpValue(file, 'SOPInstanceUID'), seriesInstanceUid: dumpValue(file, 'SeriesInstanceUID'), studyInstanceUid: dumpValue(file, 'StudyInstanceUID') };
}

describe('deid: real-world text and identities (issue 13)', function () {
  this.timeout(120_000);
  const engine = createDeidEngine('research', KEY);
  const work = tempDir('real-world');
  let made: RealWorldFile[];
  const outputs = new Map<string, DeidentifiedInstance>();

  before(() => {
    made = writeRealWorldFiles(work.path);
    for (const file of made) {
      if (file.quarantine) continue;
      const result = deidentifyInstance(engine, readFileSync(file.path), references(file.path));
      outputs.set(file.name, result);
      writeFileSync(join(work.path, `${file.name}.out.dcm`), result.bytes);
    }
  });
  after(() => { work.remove(); });

  const out = (name: string): DeidentifiedInstance => {
    const result = outputs.get(name);
    assert.ok(result !== undefined, `${name} was de-identified`);
    return result;
  };
  const pseudonym = (name: string): string => out(name).vault.patient.pseudonymId;

  it('every charset file Orthanc stores goes through, and its copy holds no byte of the names in any encoding', () => {
    for (const { file, names } of CHARSET_FILES) {
      const path = sharedFile(`pydicom/charset_files/${file}`);
      const original = readFileSync(path);
      // The search can fail: every listed name is in the original in one of these encodings.
      for (const name of names) assert.ok(encodings(name).some((b) => original.includes(b)), `${file}: ${name} not found in the original`);
      const result = deidentifyInstance(engine, original, references(path));
      assert.equal(result.undecodableText.length, 0, `${file}: ${JSON.stringify(result.undecodableText)}`);
      for (const name of names) {
        for (const bytes of encodings(name)) {
          assert.equal(result.bytes.indexOf(bytes), -1, `${file}: the copy holds ${name} as ${bytes.toString('hex')}`);
        }
      }
    }
  });

  it('decodes GBK and ISO 2022 IR 58 text into the UTF-8 copy', () => {
    for (const name of ['gbk', 'ir58']) {
      const copy = join(work.path, `${name}.out.dcm`);
      assert.equal(dumpValue(copy, 'SpecificCharacterSet'), 'ISO_IR 192');
      assert.equal(dumpValue(copy, 'StudyDescription'), '胸部 CT', name);
      assert.equal(out(name).undecodableText.length, 0);
      for (const bytes of [...encodings('王'), ...encodings('张'), ...encodings('XiaoDong'), ...encodings('Zhang')]) {
        assert.equal(out(name).bytes.indexOf(bytes), -1, `${name} keeps a name byte sequence ${bytes.toString('hex')}`);
      }
    }
    assert.ok(encode('胸部', 'GBK').length === 4);
  });

  it('gives undecodable text its row\'s strictest action and records it, instead of refusing the instance', () => {
    const result = out('undecodable');
    assert.deepEqual(result.undecodableText.map((u) => u.keyword).sort(), ['InstitutionName', 'StudyDescription']);
    const copy = join(work.path, 'undecodable.out.dcm');
    // Study Description: C under Clean Descriptors, X in the Basic Profile → removed. Institution Name: D → dummy.
    assert.equal(dumpValue(copy, 'StudyDescription'), '');
    assert.equal(dumpValue(copy, 'InstitutionName'), 'ANONYMIZED');
    for (const text of ['J\xe9r\xf4me', 'H\xf4pital', '\xc9loi']) assert.equal(result.bytes.indexOf(Buffer.from(text, 'latin1')), -1, text);
    for (const text of ['Hale', 'Saint', 'Scan for']) assert.equal(result.bytes.indexOf(Buffer.from(text)), -1, text);
  });

  it('keys patients by issuer, ID, name and birth date: shared or empty IDs never merge, spellings of one person do', () => {
    assert.notEqual(pseudonym('empty-id-a'), pseudonym('empty-id-b'));
    assert.notEqual(pseudonym('shared-id-a'), pseudonym('shared-id-b'));
    assert.notEqual(pseudonym('issuer-a'), pseudonym('issuer-b'));
    assert.equal(pseudonym('same-person-1'), pseudonym('same-person-2'));
    assert.equal(out('same-person-1').vault.patient.dateShiftDays, out('same-person-2').vault.patient.dateShiftDays);
    assert.equal(out('issuer-a').vault.patient.identity.issuer, 'HOSP-A');
  });

  it('remaps a SOP Instance UID that is not a valid UID, as Orthanc indexes it, to a valid 2.25 UID', () => {
    const result = out('bad-sop-uid');
    assert.equal(result.vault.sopInstanceUid.original, '1.2.3.abc.4');
    assert.match(result.vault.sopInstanceUid.deid, /^2\.25\.\d+$/);
    assert.equal(dumpValue(join(work.path, 'bad-sop-uid.out.dcm'), 'SOPInstanceUID'), result.vault.sopInstanceUid.deid);
  });

  it('names a transfer syntax DCMTK 3.6.7 does not know (JPEG XL) instead of calling the pixel data corrupt', () => {
    const jxl = made.find((f) => f.name === 'jpeg-xl');
    assert.ok(jxl?.quarantine);
    assert.throws(() => deidentifyInstance(engine, readFileSync(jxl.path), references(jxl.path)),
      (e: unknown) => e instanceof DeidNativeError && e.code === 'AIB_DEID_UNKNOWN_TRANSFER_SYNTAX' && /1\.2\.840\.10008\.1\.2\.4\.110 \(JPEG XL Lossless\)/.test(e.message));
  });
});
