import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../../plugin/core/ai-bridge-error';
import { Tid1500MeasurementReport } from '../../plugin/annotate/results/tid1500-measurement-report';
import { readPart10 } from '../../plugin/annotate/results/part10-writer';
import { checkTid1500Structure } from '../../plugin/annotate/results/tid1500-structure-check';
import { relinkResult, type OriginalStudy } from '../../plugin/relink/relink-result';
import { lungAnnotationResult, lungCtSlices, resultIdentity, sourceStudyOf } from '../annotate/results/lung-ct-fixture';

/** The de-identified side of the test: every image UID of the fixture gets a "de-identified" stand-in. */
const deidOf = (uid: string): string => `2.25.${BigInt(`0x${createHash('sha256').update(uid).digest('hex').slice(0, 30)}`).toString(10)}`;

const ORIGINAL: OriginalStudy = {
  patientName: 'Müller^Jörg', patientId: 'MRN-0042', issuerOfPatientId: 'HOSP', patientBirthDate: '19500101', patientSex: 'M',
  studyInstanceUid: '1.2.826.0.1.3680043.10.1', studyDate: '20240102', studyTime: '101500', studyId: 'S1',
  accessionNumber: 'ACC42', referringPhysicianName: 'Smith^Anne',
};

function dump(bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'aib-relink-'));
  try {
    writeFileSync(join(dir, 'r.dcm'), bytes);
    const run = spawnSync('dcmdump', ['+U8', '+L', join(dir, 'r.dcm')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('relink: a result built on de-identified UIDs goes back to the original study', () => {
  const slices = lungCtSlices(5);
  const original = lungAnnotationResult(slices);
  // The annotator's view: the same result, on de-identified UIDs.
  const deidImages = original.series.images.map((image) => ({ ...image, sopInstanceUid: deidOf(image.sopInstanceUid) }));
  const deidResult = {
    ...original,
    series: { ...original.series, studyInstanceUid: deidOf(original.series.studyInstanceUid), images: deidImages },
    findings: original.findings.map((f) => ({ ...f, image: { ...f.image, sopInstanceUid: deidOf(f.image.sopInstanceUid) } })),
  };
  const source = { ...sourceStudyOf(slices[0] ?? assert.fail()), PatientName: 'ANON^X7Q', PatientID: 'PSEUDO-1', StudyInstanceUID: deidOf(original.series.studyInstanceUid) };
  const built = new Tid1500MeasurementReport({ result: deidResult, source, instance: resultIdentity() }).toPart10();
  const vault = new Map(slices.map((s) => [deidOf(s.image.sopInstanceUid), s.image.sopInstanceUid]));
  vault.set(deidOf(original.series.studyInstanceUid), original.series.studyInstanceUid);

  it('maps every referenced image back, takes the original patient and study, and sets the given UIDs', () => {
    const relinked = relinkResult(built, {
      originalUid: (uid) => vault.get(uid), study: ORIGINAL, seriesInstanceUid: '2.25.1001', sopInstanceUid: '2.25.1002',
    });
    assert.ok(relinked.referencesRelinked >= slices.length);
    const { meta, dataset } = readPart10(relinked.bytes);
    assert.equal(dataset['SOPInstanceUID'], '2.25.1002');
    assert.equal(meta['MediaStorageSOPInstanceUID'], '2.25.1002');
    assert.equal(dataset['SeriesInstanceUID'], '2.25.1001');
    assert.equal(dataset['StudyInstanceUID'], ORIGINAL.studyInstanceUid);
    assert.equal(dataset['PatientID'], 'MRN-0042');
    assert.deepEqual(checkTid1500Structure(dataset, slices.map((s) => s.image)), [], 'the references now resolve to the original images');
    const text = relinked.bytes.toString('latin1');
    assert.ok(!text.includes('ANON^X7Q') && !text.includes('PSEUDO-1'), 'a pseudonym survived the relink');
    for (const deid of vault.keys()) assert.ok(!text.includes(deid), `de-identified UID ${deid} survived the relink`);
  });

  it('keeps non-ASCII text intact, at the top level and inside the content tree (dcmjs reads sequence text as Latin-1)', () => {
    const relinked = relinkResult(built, {
      originalUid: (uid) => vault.get(uid), study: ORIGINAL, seriesInstanceUid: '2.25.1001', sopInstanceUid: '2.25.1002',
    });
    const dumped = dump(relinked.bytes);
    assert.match(dumped, /Müller\^Jörg/);
    assert.match(dumped, /Ünïcödé check: 肺/, 'the impression text was encoded twice');
    assert.ok(!dumped.includes('Ã'), 'double-encoded UTF-8 in the output');
  });

  it('refuses a result that references nothing the vault knows only by counting it, and unreadable bytes with a coded error', () => {
    const relinked = relinkResult(built, { originalUid: () => undefined, study: ORIGINAL, seriesInstanceUid: '2.25.1', sopInstanceUid: '2.25.2' });
    assert.equal(relinked.referencesRelinked, 0, 'the gateway refuses a result with 0 references (RelinkStage)');
    assert.throws(() => relinkResult(Buffer.from('not dicom'), { originalUid: () => undefined, study: ORIGINAL, seriesInstanceUid: '2.25.1', sopInstanceUid: '2.25.2' }),
      (error: unknown) => error instanceof AiBridgeError && error.code === 'AIB_RELINK_FAILED');
  });
});
