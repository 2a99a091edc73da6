import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { storescu } from '../../plugin/cli/storescu';
import type { JobDetailResponse, JobView } from '../../plugin/core/admin-api';
import { allJobs, eventually, health, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

describe('bad input: quarantined with its reason, never lost, never a crash', function () {
  this.timeout(180_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('bad-input');

  before(async () => { orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, RetryBackoffSeconds: 0.2, Annotate: false } }); });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  it('feeds truncated files: Orthanc refuses or the job settles; Orthanc and the gateway stay up', async () => {
    const pid = (await health(orthanc)).gatewayPid;
    const malformed = readdirSync(sharedFile('pydicom/malformed')).filter((f) => f.endsWith('.dcm'));
    assert.ok(malformed.length >= 2);
    const accepted: string[] = [];
    for (const name of malformed) {
      const result = await uploadFile(orthanc, sharedFile(join('pydicom/malformed', name)));
      if (result.id !== undefined) accepted.push(result.id);
      else assert.ok(result.status >= 400 && result.status < 500, `${name}: Orthanc answered ${result.status}`);
    }
    const jobs = await waitForSettledJobs(orthanc, accepted.length);
    for (const id of accepted) {
      const job = jobs.find((j) => j.instanceId === id);
      assert.ok(job, `a job for accepted instance ${id}`);
      if (job.state === 'quarantined') assert.ok(job.error?.code.startsWith('AIB_'), JSON.stringify(job.error));
    }
    assert.equal((await health(orthanc)).gatewayPid, pid, 'the gateway did not crash');
  });

  it('de-identifies an instance without Modality (a routing attribute, not a reason to refuse); retry reruns it', async () => {
    const file = join(work.path, 'no-modality.dcm');
    copyFileSync(sharedFile('pydicom/test_files/MR_small.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-ea', '(0008,0060)', file]);
    const before = (await allJobs(orthanc)).length;
    const sent = await storescu({ port: orthanc.dicomPort, files: [file] });
    assert.equal(sent.failed, 0, sent.stderr);
    const jobs = await waitForSettledJobs(orthanc, before + 1);
    const job = jobs.find((j) => j.modality === null && j.sopClassUid === '1.2.840.10008.5.1.4.1.1.4');
    assert.ok(job, JSON.stringify(jobs.map((j) => [j.state, j.modality, j.error])));
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    assert.match(job.outcome ?? '', /^de-identified/);
    assert.ok(job.deidPath !== null, 'a de-identified copy was written');
    assert.equal(job.attempts, 1);

    const retried = await orthanc.json<JobView>('POST', `/ai-bridge/jobs/${job.id}/retry`);
    assert.equal(retried.state, 'queued');
    const detail = await eventually(async () => {
      const d = await orthanc.json<JobDetailResponse>('GET', `/ai-bridge/jobs/${job.id}`);
      return d.events.filter((e) => e.event === 'done').length === 2 ? d : undefined;
    }, 'the retried job to settle again');
    assert.equal(detail.state, 'done');
    assert.ok(detail.events.some((e) => e.event === 'requeued'));
    assert.equal((await orthanc.json<string[]>('GET', '/instances')).includes(job.instanceId), true, 'the original stays in Orthanc');
  });
});
