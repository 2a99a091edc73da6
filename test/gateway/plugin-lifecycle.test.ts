import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';

import { startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { storescu } from '../../plugin/cli/storescu';
import {
  allJobs, eventually, health, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForHealth, waitForSettledJobs,
} from '../harness/bridge-orthanc';

const CT_SLICES = Array.from({ length: 6 }, (_, i) => sharedFile(`tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-0${i + 1}.dcm`));
// Distinct SOP Instance UIDs in other transfer syntaxes (the emri_small_* set
// shares one UID, so Orthanc would keep only one of them).
const OTHER_SYNTAXES = [
  'pydicom/test_files/JPEG-lossy.dcm', 'pydicom/test_files/image_dfl.dcm', 'pydicom-data/US1_J2KR.dcm',
  'pydicom-data/OBXXXX1A_rle.dcm', 'highdicom/sr_document.dcm',
].map(sharedFile);
const MR_SERIES = Array.from({ length: 4 }, (_, i) => sharedFile(`dcm_qa_nih/20180918GE/mr_0004/axial_epi_fmri_interleaved_i_to_s-0000${i + 1}.dcm`));

describe('plugin inside a real Orthanc', function () {
  this.timeout(180_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };

  before(async () => { orthanc = await startBridgeOrthanc(); });
  after(async () => { await orthanc.cleanup(); });

  it('loads, and health names the gateway, its version and an empty queue', async () => {
    const body = await health(orthanc);
    assert.equal(body.status, 'ok');
    assert.ok(Number.isInteger(body.gatewayPid) && body.gatewayPid > 0);
    assert.match(body.orthancVersion, /^1\.\d+\.\d+/);
    assert.equal(body.queueDepth, 0);
    const plugins = await orthanc.json<string[]>('GET', '/plugins');
    assert.ok(plugins.includes('ai-bridge'), `plugins: ${plugins.join(', ')}`);
  });

  it('turns each instance sent with storescu into one job that completes', async () => {
    const files = [...CT_SLICES, ...OTHER_SYNTAXES];
    const result = await storescu({ port: orthanc.dicomPort, files });
    assert.equal(result.failed, 0, result.stderr);
    const jobs = await waitForSettledJobs(orthanc, files.length);
    assert.equal(jobs.length, files.length);
    const instances = await orthanc.json<string[]>('GET', '/instances');
    assert.deepEqual(jobs.map((j) => j.instanceId).sort(), [...instances].sort(), 'one job per stored instance');
    for (const job of jobs) {
      assert.equal(job.state, 'done', `${job.instanceId}: ${JSON.stringify(job.error)}`);
      const tags = await orthanc.json<Record<string, string>>('GET', `/instances/${job.instanceId}/simplified-tags`);
      assert.equal(job.sopInstanceUid, tags['SOPInstanceUID']);
      assert.equal(job.modality, tags['Modality']);
      const file = (await orthanc.request('GET', `/instances/${job.instanceId}/file`)).body;
      assert.equal(job.sha256, createHash('sha256').update(file).digest('hex'), 'checksum of the stored bytes');
      assert.equal(job.sizeBytes, file.length);
    }
    const syntaxes = new Set(jobs.map((j) => j.transferSyntaxUid));
    assert.ok(syntaxes.size >= 3, `transfer syntaxes seen: ${[...syntaxes].join(' ')}`);
  });

  it('shows a job with its timeline and publishes metrics to Orthanc', async () => {
    const [job] = await allJobs(orthanc);
    assert.ok(job);
    const detail = await orthanc.json<{ events: { event: string; stage: string; detail: string | null }[] }>('GET', `/ai-bridge/jobs/${job.id}`);
    // One run, one transaction: its stages with their times in one event, then the end.
    assert.deepEqual(detail.events.map((e) => e.event), ['received', 'started', 'stages', 'done']);
    assert.match(detail.events.find((e) => e.event === 'stages')?.detail ?? '', /^fetch \d+ ms, deidentify \d+ ms$/);
    await eventually(async () => {
      const text = (await orthanc.request('GET', '/tools/metrics-prometheus')).body.toString('utf8');
      return /aibridge_jobs_done \d+/.test(text) && /aibridge_gateway_up 1/.test(text) ? text : undefined;
    }, 'aibridge metrics in /tools/metrics-prometheus');
  });

  it('survives kill -9 of the gateway: Orthanc answers, the gateway returns, instances stored meanwhile are handled once', async () => {
    const before = await health(orthanc);
    const jobsBefore = (await allJobs(orthanc)).length;
    process.kill(before.gatewayPid, 'SIGKILL');
    // Store right away, while the gateway is dead or restarting: no
    // notification reaches it, only the change log can tell it.
    const stored = [];
    for (const file of MR_SERIES) stored.push(await uploadFile(orthanc, file));
    assert.ok(stored.every((s) => s.status === 200));
    const system = await orthanc.json<{ Version: string }>('GET', '/system');
    assert.ok(system.Version, 'Orthanc keeps answering');
    const after = await waitForHealth(orthanc, before.gatewayPid);
    assert.notEqual(after.gatewayPid, before.gatewayPid);
    const jobs = await waitForSettledJobs(orthanc, jobsBefore + MR_SERIES.length);
    assert.equal(jobs.length, jobsBefore + MR_SERIES.length, 'exactly once');
    for (const s of stored) assert.equal(jobs.filter((j) => j.instanceId === s.id).length, 1);
    assert.match(orthanc.logText(), /gateway/i);
  });
});

describe('change-log cursor across Orthanc restarts', function () {
  this.timeout(240_000);
  const data = tempDir('cursor');
  after(() => { data.remove(); });

  it('handles instances stored while the plugin was not loaded, and nothing twice', async () => {
    const first = await startBridgeOrthanc({ dataDir: data.path });
    try {
      await storescu({ port: first.dicomPort, files: CT_SLICES.slice(0, 2) });
      await waitForSettledJobs(first, 2);
    } finally {
      await first.stop();
    }
    // Same storage, without the AI bridge: these instances reach Orthanc only.
    const without = await startBridgeOrthanc({ dataDir: data.path, aiBridge: false });
    try {
      await storescu({ port: without.dicomPort, files: CT_SLICES.slice(2, 5) });
      assert.equal((await without.json<string[]>('GET', '/instances')).length, 5);
    } finally {
      await without.stop();
    }
    const again = await startBridgeOrthanc({ dataDir: data.path });
    try {
      const jobs = await waitForSettledJobs(again, 5);
      assert.equal(jobs.length, 5);
      assert.equal(new Set(jobs.map((j) => j.instanceId)).size, 5, 'no instance twice');
      assert.ok(jobs.every((j) => j.state === 'done'));
      const h = await health(again);
      assert.ok((h.changeCursor ?? 0) > 0);
      await again.restart();
      await waitForHealth(again);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal((await allJobs(again)).length, 5, 'a plain restart replays nothing');
    } finally {
      await again.stop();
    }
  });
});

describe('first start of the plugin', function () {
  this.timeout(120_000);

  it('processes instances stored while the gateway was still starting', async () => {
    const data = tempDir('first-start');
    // No waiting for health: storescu races the gateway's start.
    const orthanc = await startOrthanc({ dataDir: data.path, aiBridge: { ChangesPollSeconds: 2, Annotate: false } });
    try {
      const sent = await storescu({ port: orthanc.dicomPort, files: MR_SERIES });
      assert.equal(sent.failed, 0, sent.stderr);
      await waitForHealth(orthanc);
      const jobs = await waitForSettledJobs(orthanc, MR_SERIES.length);
      assert.equal(jobs.length, MR_SERIES.length);
      assert.ok(jobs.every((j) => j.state === 'done'));
    } finally {
      await orthanc.stop();
      data.remove();
    }
  });
});
