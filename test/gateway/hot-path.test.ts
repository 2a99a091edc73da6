import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type { JobDetailResponse, JobView } from '../../plugin/core/admin-api';
import { health, sharedFile, startBridgeOrthanc, storeAndSettle, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

/** SOP Instance UID as DCMTK reads it: the reference the job's own facts are checked against. */
function sopInstanceUid(file: string): string {
  return /\[([0-9.]+)\]/.exec(execFileSync('dcmdump', ['-q', '+P', '0008,0018', file], { encoding: 'latin1' }))?.[1] ?? '';
}

describe('the hot path: the worker reads Orthanc\'s stored file (or a spooled copy) and parses it once, the gateway routes on its facts', function () {
  this.timeout(180_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };

  before(async () => { orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, YieldToIngestMilliseconds: 0 } }); });
  after(async () => { await orthanc.cleanup(); });

  const store = (files: readonly string[]): Promise<JobView[]> => storeAndSettle(orthanc, files);

  it('an instance without Modality is de-identified and ends done: no applicable model, with the reason', async () => {
    const file = sharedFile('deid-data/dicom-cookies/image1.dcm');
    const [job] = await store([file]);
    assert.ok(job);
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    assert.match(job.outcome ?? '', /^de-identified.*; no applicable model for \?\/.*\(the instance has no Modality/);
    assert.ok(job.deidPath !== null, 'a de-identified copy exists');
    assert.equal(job.modality, null);
    assert.equal(job.sopInstanceUid, sopInstanceUid(file));
  });

  it('ISO 2022 multi-valued character sets are no longer refused: the worker\'s DCMTK parse routes them', async () => {
    const files = ['pydicom/charset_files/chrH32.dcm', 'pydicom/charset_files/chrI2.dcm', 'pydicom/charset_files/chrJapMultiExplicitIR6.dcm'].map(sharedFile);
    const jobs = await store(files);
    const status = await health(orthanc);
    for (const [index, job] of jobs.entries()) {
      const file = files[index] ?? '';
      assert.equal(job.state, 'done', `${file}: ${JSON.stringify(job.error)}`);
      assert.equal(job.sopInstanceUid, sopInstanceUid(file));
      const copy = readFileSync(join(status.dataDirectory, 'deid', job.deidPath ?? ''));
      for (const name of ['Yamada', 'Hong^Gildong', '山田', 'やまだ', '홍^길동', '洪^吉洞']) {
        assert.equal(copy.includes(Buffer.from(name, 'utf8')), false, `${name} leaked into the copy of ${file}`);
      }
    }
  });

  it('records the hash and size of the file Orthanc hands over, leaves the spool empty, and writes few events per job', async () => {
    const file = sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-05.dcm');
    const [job] = await store([file]);
    assert.ok(job);
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    const stored = (await orthanc.request('GET', `/instances/${job.instanceId}/file`)).body;
    assert.equal(job.sha256, createHash('sha256').update(stored).digest('hex'));
    assert.equal(job.sizeBytes, stored.length);
    const status = await health(orthanc);
    assert.deepEqual(readdirSync(join(status.dataDirectory, 'phi', 'spool')), [], 'no original left in phi/spool');
    // Orthanc keeps its files uncompressed on its own storage here: the worker read the stored file, nothing was copied.
    assert.equal(job.originalRead, 'orthanc-storage');
    // The worker read Orthanc's own file through a link in phi/spool, now gone: the file is Orthanc's alone again, untouched.
    const attachment = await orthanc.json<{ Uuid: string }>('GET', `/instances/${job.instanceId}/attachments/dicom/info`);
    const storedFile = join(orthanc.dataDir, 'orthanc', 'storage', attachment.Uuid.slice(0, 2), attachment.Uuid.slice(2, 4), attachment.Uuid);
    assert.equal(statSync(storedFile).nlink, 1);
    assert.ok(readFileSync(storedFile).equals(stored));
    const detail = await orthanc.json<JobDetailResponse>('GET', `/ai-bridge/jobs/${job.id}`);
    assert.deepEqual(detail.events.map((e) => e.event), ['received', 'started', 'stages', 'done']);
    const stages = detail.events.find((e) => e.event === 'stages');
    assert.match(stages?.detail ?? '', /^fetch \d+ ms, deidentify \d+ ms, queue-annotation \d+ ms$/);
  });

  it('spools a copy when Orthanc compresses its files, and removes it once the job settles', async () => {
    const compressed = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, YieldToIngestMilliseconds: 0, Annotate: false }, extraConfig: { StorageCompression: true } });
    try {
      const file = sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-05.dcm');
      const sent = await uploadFile(compressed, file);
      const [job] = await waitForSettledJobs(compressed, 1);
      assert.ok(job && job.instanceId === sent.id);
      assert.equal(job.state, 'done', JSON.stringify(job.error));
      assert.equal(job.originalRead, 'spool');
      const stored = (await compressed.request('GET', `/instances/${job.instanceId}/file`)).body;
      assert.equal(job.sha256, createHash('sha256').update(stored).digest('hex'), 'the worker read the whole instance, uncompressed by Orthanc');
      assert.deepEqual(readdirSync(join((await health(compressed)).dataDirectory, 'phi', 'spool')), []);
    } finally {
      await compressed.cleanup();
    }
  });
});
