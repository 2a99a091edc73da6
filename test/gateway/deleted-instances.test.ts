import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type { AuditResponse, JobView } from '../../plugin/core/admin-api';
import { allJobs, eventually, health, sharedFile, startBridgeOrthanc, storeAndSettle, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

type Bridge = RunningOrthanc & { cleanup: () => Promise<void> };

const AI_BRIDGE = { ChangesPollSeconds: 2, Annotate: false, YieldToIngestMilliseconds: 0 };
/** Three slices of one series, one patient (GE head CT), and a slice of another patient. */
const HEAD = ['01', '02', '03'].map((n) => sharedFile(`dcm_qa_ct/GE_head/${n}.dcm`));
const OTHER_PATIENT = sharedFile('deid-data/dicom-cookies/image1.dcm');

/** Stores the files and waits for their jobs, each done with a de-identified copy. */
async function store(orthanc: RunningOrthanc, files: readonly string[]): Promise<JobView[]> {
  const jobs = await storeAndSettle(orthanc, files);
  for (const job of jobs) {
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    assert.ok(job.deidPath !== null, `${job.instanceId} has a de-identified copy`);
  }
  return jobs;
}

async function copyOf(orthanc: RunningOrthanc, job: JobView): Promise<string> {
  return join((await health(orthanc)).dataDirectory, 'deid', job.deidPath ?? '');
}

async function auditLines(orthanc: RunningOrthanc, event: string): Promise<AuditResponse['entries']> {
  return (await orthanc.json<AuditResponse>('GET', '/ai-bridge/audit?limit=10000')).entries.filter((e) => e.event === event);
}

/** Waits until none of `jobs` is listed any more. */
async function forgotten(orthanc: RunningOrthanc, jobs: readonly JobView[]): Promise<void> {
  await eventually(async () => {
    const listed = new Set((await allJobs(orthanc)).map((j) => j.id));
    return jobs.every((j) => !listed.has(j.id)) ? true : undefined;
  }, `jobs ${jobs.map((j) => j.id).join(', ')} to be forgotten`);
}

describe('an instance deleted from Orthanc takes its de-identified copy and its job with it (real Orthanc + plugin)', function () {
  this.timeout(240_000);
  const temp = tempDir('deleted-instances');
  let orthanc: Bridge | undefined;

  afterEach(async () => { await orthanc?.cleanup(); orthanc = undefined; });
  after(() => { temp.remove(); });

  it('deleted in Orthanc: copy and job go, the audit log names them, the rest stays; sent again, it is processed anew', async () => {
    orthanc = await startBridgeOrthanc({ dataDir: join(temp.path, 'rest'), aiBridge: AI_BRIDGE });
    const jobs = await store(orthanc, HEAD);
    const [gone, ...kept] = jobs;
    assert.ok(gone);
    const copies = await Promise.all(jobs.map((j) => copyOf(orthanc as RunningOrthanc, j)));
    for (const copy of copies) assert.ok(existsSync(copy), `${copy} exists before the deletion`);

    await orthanc.json('DELETE', `/instances/${gone.instanceId}`);
    await forgotten(orthanc, [gone]);
    assert.equal(existsSync(copies[0] ?? ''), false, 'the copy of the deleted instance is removed');
    for (const copy of copies.slice(1)) assert.ok(existsSync(copy), `${copy} of an instance still in Orthanc stays`);
    assert.deepEqual((await allJobs(orthanc)).map((j) => j.id).sort(), kept.map((j) => j.id).sort());
    const [line, ...more] = await auditLines(orthanc, 'instance-deleted');
    assert.ok(line !== undefined && more.length === 0, 'one audit line');
    assert.equal(line.jobId, gone.id);
    assert.equal(line.instanceId, gone.instanceId);
    assert.match(line.detail ?? '', new RegExp(`deleted from Orthanc \\(signal\\): de-identified copy ${gone.deidPath ?? ''} removed, job forgotten`));
    const seen = (await health(orthanc)).deletedInstances;
    assert.deepEqual([seen.forgotten, seen.waiting, seen.startupCheck.state, seen.startupCheck.forgotten], [1, 0, 'done', 0]);

    // The same file again: Orthanc gives it the same id, and a job that was kept would have stopped it here.
    const [again] = await store(orthanc, [HEAD[0] ?? '']);
    assert.ok(again);
    assert.equal(again.instanceId, gone.instanceId);
    assert.notEqual(again.id, gone.id);
    assert.ok(existsSync(await copyOf(orthanc, again)), 'sent again, it has a copy again');
  });

  it('a study deleted while the plugin was not loaded is found by the check at start', async () => {
    const dataDir = join(temp.path, 'offline');
    orthanc = await startBridgeOrthanc({ dataDir, aiBridge: AI_BRIDGE });
    const jobs = await store(orthanc, HEAD);
    const copies = await Promise.all(jobs.map((j) => copyOf(orthanc as RunningOrthanc, j)));
    const study = (await orthanc.json<{ ParentStudy: string }>('GET', `/series/${(await orthanc.json<{ ParentSeries: string }>('GET', `/instances/${jobs[0]?.instanceId ?? ''}`)).ParentSeries}`)).ParentStudy;
    await orthanc.cleanup();
    orthanc = undefined;

    // The administrator runs Orthanc without the plugin for a while and deletes the study there.
    const plain = await startOrthanc({ dataDir, aiBridge: false, dicomWeb: false });
    try {
      await plain.json('DELETE', `/studies/${study}`);
    } finally {
      await plain.stop();
    }
    for (const copy of copies) assert.ok(existsSync(copy), 'nothing told the plugin yet');

    orthanc = await startBridgeOrthanc({ dataDir, aiBridge: AI_BRIDGE });
    await forgotten(orthanc, jobs);
    for (const copy of copies) assert.equal(existsSync(copy), false, `${copy} is removed by the check at start`);
    const lines = await auditLines(orthanc, 'instance-deleted');
    assert.deepEqual(lines.map((l) => l.jobId).sort(), jobs.map((j) => j.id).sort());
    for (const line of lines) assert.match(line.detail ?? '', /deleted from Orthanc \(start-up check\)/);
    const running = orthanc;
    const check = await eventually(async () => {
      const now = (await health(running)).deletedInstances.startupCheck;
      return now.state === 'running' ? undefined : now;
    }, 'the check at start to end');
    assert.deepEqual([check.state, check.checked, check.forgotten, check.finishedAt !== null], ['done', 3, 3, true], 'health shows what the check at start did');
  });

  it('Orthanc recycling the oldest patient (MaximumPatientCount) frees the copies too', async () => {
    orthanc = await startBridgeOrthanc({ dataDir: join(temp.path, 'recycle'), aiBridge: AI_BRIDGE, extraConfig: { MaximumPatientCount: 1 } });
    const first = await store(orthanc, HEAD.slice(0, 2));
    const copies = await Promise.all(first.map((j) => copyOf(orthanc as RunningOrthanc, j)));
    const sent = await uploadFile(orthanc, OTHER_PATIENT);
    assert.ok(sent.id !== undefined, `Orthanc stored ${OTHER_PATIENT} by recycling the first patient (${String(sent.status)})`);
    assert.deepEqual(await orthanc.json<string[]>('GET', '/instances'), [sent.id]);
    await forgotten(orthanc, first);
    for (const copy of copies) assert.equal(existsSync(copy), false, `${copy} of a recycled patient is removed`);
    const [other] = await waitForSettledJobs(orthanc, 1);
    assert.equal(other?.instanceId, sent.id);
    assert.equal(other.state, 'done', JSON.stringify(other.error));
    assert.ok(existsSync(await copyOf(orthanc, other)));
  });
});
