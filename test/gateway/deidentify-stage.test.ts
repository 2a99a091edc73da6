import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { storescu } from '../../plugin/cli/storescu';
import type { HealthResponse } from '../../plugin/core/admin-api';
import { eventually, health, sharedFile, startBridgeOrthanc, tempDir, waitForSettledJobs } from '../harness/bridge-orthanc';

/** Identifiers planted in real files by the test itself (never real patient data). */
const PLANTED = {
  name: 'Quimby^Josephine', id: 'MRN-778899', accession: 'ACC20240117', institution: 'Springfield General Hospital',
  physician: 'Hibbert^Julius',
};

function plant(source: string, target: string, extra: string[] = []): void {
  copyFileSync(source, target);
  execFileSync('dcmodify', ['-nb', '-gin',
    '-i', `(0010,0010)=${PLANTED.name}`, '-i', `(0010,0020)=${PLANTED.id}`, '-i', `(0008,0050)=${PLANTED.accession}`,
    '-i', `(0008,0080)=${PLANTED.institution}`, '-i', `(0008,0090)=${PLANTED.physician}`,
    '-i', '(0008,1030)=Chest CT for Josephine Quimby MRN-778899',
    '-i', `(0008,1110)[0].(0008,1150)=1.2.840.10008.3.1.2.3.1`, '-i', `(0008,1110)[0].(0008,1155)=1.2.3.4.5.6.7.8.9`,
    '-i', '(0040,0275)[0].(0040,0008)[0].(0008,0104)=Josephine Quimby',
    ...extra, target], { stdio: 'pipe' });
}

function findFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? findFiles(join(dir, entry.name)) : entry.name.endsWith('.dcm') ? [join(dir, entry.name)] : []);
}

describe('de-identification inside the pipeline', function () {
  this.timeout(180_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('planted');

  before(async () => { orthanc = await startBridgeOrthanc(); });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  it('writes a de-identified copy per instance with no planted identifier and no original UID in it', async () => {
    const files = [1, 2, 3].map((n) => {
      const target = join(work.path, `ct-${n}.dcm`);
      plant(sharedFile(`tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-0${n}.dcm`), target);
      return target;
    });
    const sent = await storescu({ port: orthanc.dicomPort, files });
    assert.equal(sent.failed, 0, sent.stderr);
    const jobs = await waitForSettledJobs(orthanc, files.length);
    const status = await health(orthanc);
    const store = join(status.dataDirectory, 'deid');
    const written = findFiles(store);
    assert.equal(written.length, files.length, 'one copy per instance');
    for (const job of jobs) {
      assert.equal(job.state, 'done', JSON.stringify(job.error));
      assert.ok(job.deidPath !== null && job.linkToken !== null);
      const copy = readFileSync(join(store, job.deidPath));
      const text = copy.toString('latin1');
      for (const value of [...Object.values(PLANTED), 'Quimby', 'Josephine', '778899', 'Springfield', 'Hibbert', 'Lung_Dx-A0002']) {
        assert.equal(text.toLowerCase().includes(value.toLowerCase()), false, `"${value}" leaked into ${job.deidPath}`);
      }
      for (const uid of [job.sopInstanceUid ?? '', job.seriesInstanceUid ?? '', '1.2.3.4.5.6.7.8.9']) {
        assert.equal(text.includes(uid), false, `original UID ${uid} leaked`);
      }
      const dump = execFileSync('dcmdump', ['+U8', join(store, job.deidPath)], { encoding: 'utf8' });
      assert.match(dump, /\(0012,0062\) CS \[YES\]/);
      assert.match(dump, /\(0010,0020\) LO \[PAT-[A-Z2-7]{16}\]/);
      assert.match(dump, /\(0008,0060\) CS \[CT\]/, 'Modality kept');
      assert.match(dump, /\(0028,0010\) US 512/, 'Rows kept');
      assert.match(dump, /113100/);
      // The input carries Siemens private blocks (0009, 0019, 0021, 0029); none is whitelisted for CT.
      assert.doesNotMatch(dump, /^\((00[0-9a-f][13579bdf]),/m, 'no private group left');
    }
  });

  it('gives one patient one pseudonym across instances, and links each copy back through the vault', async () => {
    const jobs = await waitForSettledJobs(orthanc, 3);
    const status = await health(orthanc);
    const ids = new Set(jobs.map((job) => {
      const dump = execFileSync('dcmdump', ['+U8', join(status.dataDirectory, 'deid', job.deidPath ?? '')], { encoding: 'utf8' });
      return /\(0010,0020\) LO \[([^\]]*)\]/.exec(dump)?.[1];
    }));
    assert.equal(ids.size, 1);
    assert.equal(new Set(jobs.map((j) => j.linkToken)).size, jobs.length, 'one link token per instance');
    const vault = join(status.dataDirectory, 'phi', 'vault.sqlite');
    const rows = execFileSync('python3', ['-c', `import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from link_tokens').fetchone()[0])`, vault], { encoding: 'utf8' });
    assert.equal(rows.trim(), '3');
  });

  it('runs the worker sealed: seccomp filter and no-new-privs on the live worker process', async () => {
    const status: HealthResponse = await health(orthanc);
    // DeidWorkers defaults to one worker per core.
    assert.equal(status.deid.workers, availableParallelism());
    assert.equal(status.deid.readyWorkers, status.deid.workers);
    assert.ok(status.deid.seals.every((s) => s.seccomp));
    const workers = execFileSync('pgrep', ['-f', 'plugin/deid/worker-main.js'], { encoding: 'utf8' }).trim().split('\n')
      .filter((pid) => readFileSync(`/proc/${pid}/status`, 'utf8').includes(`PPid:\t${status.gatewayPid}`));
    assert.equal(workers.length, status.deid.workers, 'the workers, children of this gateway');
    for (const worker of workers) {
      const procStatus = readFileSync(`/proc/${worker}/status`, 'utf8');
      assert.match(procStatus, /NoNewPrivs:\t1/);
      assert.match(procStatus, /Seccomp:\t2/, 'filter mode');
    }
  });
});

describe('a de-identification worker killed mid-file', function () {
  this.timeout(180_000);

  it('loses nothing: the instance is retried on a fresh sealed worker', async () => {
    // No yield to ingest: the kill must land while instances are being de-identified.
    // One worker: the one killed is the one handling the instances.
    const orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, RetryBackoffSeconds: 0.2, YieldToIngestMilliseconds: 0, Annotate: false, DeidWorkers: 1 } });
    try {
      const files = Array.from({ length: 30 }, (_, i) => sharedFile(`tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-${String(i + 1).padStart(2, '0')}.dcm`));
      const gatewayPid = (await health(orthanc)).gatewayPid;
      const workerPid = (): string => execFileSync('pgrep', ['-P', String(gatewayPid), '-f', 'worker-main.js'], { encoding: 'utf8' }).trim();
      const first = workerPid();
      const sending = storescu({ port: orthanc.dicomPort, files });
      // Kill while instances are flowing through it.
      await eventually(async () => ((await orthanc.json<{ jobs: { state: string }[] }>('GET', '/ai-bridge/jobs?state=done')).jobs.length >= 3 ? true : undefined), 'a few jobs done');
      process.kill(Number(first), 'SIGKILL');
      assert.equal((await sending).failed, 0);
      const jobs = await waitForSettledJobs(orthanc, files.length);
      assert.equal(jobs.length, files.length);
      assert.ok(jobs.every((j) => j.state === 'done'), JSON.stringify(jobs.filter((j) => j.state !== 'done').map((j) => j.error)));
      const second = await eventually(() => {
        const pid = workerPid();
        return Promise.resolve(pid !== '' && pid !== first ? pid : undefined);
      }, 'a new worker');
      assert.notEqual(second, first);
      // The new process exists before it has sealed and loaded its models: wait for its ready reply.
      await eventually(async () => ((await health(orthanc)).deid.readyWorkers === 1 ? true : undefined), 'the replacement to be sealed and ready');
    } finally {
      await orthanc.cleanup();
    }
  });
});
