import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { isRoutingFacts } from '../../plugin/core/routing-facts';
import { openDicomFile, parseDicom } from '../../plugin/deid/native-dicom';

const DATA = join(__dirname, '..', '..', '..', '..', 'shared', 'data');
const CT = join(DATA, 'tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f', '1-01.dcm');
const NO_MODALITY = join(DATA, 'deid-data', 'dicom-cookies', 'image1.dcm');
const ISO_2022 = join(DATA, 'pydicom', 'charset_files', 'chrH32.dcm');

/** One element's value as DCMTK's dcmdump prints it (the independent reading the facts are checked against). */
function dumped(file: string, tag: string): string {
  const text = execFileSync('dcmdump', ['-q', '+P', tag, file], { encoding: 'latin1' });
  const match = /\[([^\]]*)\]/.exec(text);
  return match?.[1]?.trim() ?? '';
}

describe('routing facts from the worker\'s one DCMTK parse', function () {
  it('a CT slice: UIDs, class, modality, counts and geometry as dcmdump reads them; hash and size of the bytes', () => {
    const bytes = readFileSync(CT);
    const document = parseDicom(bytes);
    const facts = document.routing();
    document.dispose();
    assert.ok(isRoutingFacts(facts));
    assert.equal(facts.sopInstanceUid, dumped(CT, '0008,0018'));
    assert.equal(facts.seriesInstanceUid, dumped(CT, '0020,000e'));
    assert.equal(facts.studyInstanceUid, dumped(CT, '0020,000d'));
    assert.equal(facts.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(facts.modality, 'CT');
    assert.equal(facts.bodyPartExamined, dumped(CT, '0018,0015'));
    assert.equal(facts.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.deepEqual(facts.specificCharacterSet, ['ISO_IR 100']);
    assert.equal(facts.instanceNumber, Number(dumped(CT, '0020,0013')));
    assert.deepEqual(facts.imagePositionPatient, dumped(CT, '0020,0032').split('\\').map(Number));
    assert.deepEqual(facts.imageOrientationPatient, dumped(CT, '0020,0037').split('\\').map(Number));
    assert.equal(facts.sliceThickness, Number(dumped(CT, '0018,0050')));
    assert.equal(facts.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(facts.sizeBytes, bytes.length);
  });

  it('a file opened by path (pixel data left in the file) hashes the whole file as read', () => {
    const document = openDicomFile(CT);
    const facts = document.routing();
    document.dispose();
    const bytes = readFileSync(CT);
    assert.equal(facts.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(facts.sizeBytes, bytes.length);
    assert.equal(facts.modality, 'CT');
  });

  it('routing(false) reads the same facts from a file without hashing it (the deid command)', () => {
    const document = openDicomFile(CT);
    const facts = document.routing(false);
    document.dispose();
    assert.equal(facts.sha256, '');
    assert.equal(facts.sizeBytes, readFileSync(CT).length);
    assert.equal(facts.modality, 'CT');
  });

  it('an instance without Modality or Body Part reports them empty instead of failing', () => {
    assert.equal(dumped(NO_MODALITY, '0008,0060'), '', 'the fixture has no Modality');
    const document = openDicomFile(NO_MODALITY);
    const facts = document.routing();
    document.dispose();
    assert.equal(facts.modality, '');
    assert.equal(facts.bodyPartExamined, '');
    assert.equal(facts.sopClassUid, '1.2.840.10008.5.1.4.1.1.7');
    assert.notEqual(facts.sopInstanceUid, '');
  });

  it('a multi-valued ISO 2022 Specific Character Set is listed value by value, as read before conversion', () => {
    const document = openDicomFile(ISO_2022);
    const facts = document.routing();
    document.dispose();
    assert.deepEqual(facts.specificCharacterSet, ['ISO 2022 IR 13', 'ISO 2022 IR 87']);
    assert.equal(facts.sopInstanceUid, dumped(ISO_2022, '0008,0018'));
  });

  it('is read before apply: a consumed document refuses', () => {
    const document = parseDicom(readFileSync(NO_MODALITY));
    document.dispose();
    assert.throws(() => document.routing(), (error: unknown) => (error as { code?: string }).code === 'AIB_DEID_BAD_PLAN');
  });
});
