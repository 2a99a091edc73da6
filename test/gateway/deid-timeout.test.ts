import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { eventually, health, sharedFile, startBridgeOrthanc, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

/** Live (not zombie) children of `parent` whose command line holds `needle`. */
function children(parent: number, needle: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent || fields[0] === 'Z') return [];
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle) ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}

describe('a de-identification worker that never answers (real Orthanc, live plugin, workers stopped with SIGSTOP)', function () {
  this.timeout(240_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };

  before(async () => {
    orthanc = await startBridgeOrthanc({ aiBridge: {
      DeidWorkers: 1, DeidTimeoutSeconds: 1, MaxAttempts: 2, RetryBackoffSeconds: 1, Annotate: false, YieldToIngestMilliseconds: 0, ChangesPollSeconds: 2,
    } });
  });
  after(async () => { await orthanc.cleanup(); });

  it('is killed after DeidTimeoutSeconds, the instance retried on a fresh worker, then quarantined; a retry with a live worker succeeds', async () => {
    const status = await eventually(async () => {
      const h = await health(orthanc);
      return h.deid.readyWorkers === 1 ? h : undefined;
    }, 'a ready de-identification worker');
    const stopped = new Set<number>();
    // Every worker the gateway starts, the stuck one and its replacements, is stopped as soon as it appears.
    const freezer = setInterval(() => {
      for (const pid of children(status.gatewayPid, 'worker-main.js')) {
        if (stopped.has(pid)) continue;
        stopped.add(pid);
        process.kill(pid, 'SIGSTOP');
      }
    }, 20);
    let jobId = '';
    try {
      const uploaded = await uploadFile(orthanc, sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm'));
      assert.equal(uploaded.status, 200);
      const [job] = await waitForSettledJobs(orthanc, 1);
      assert.ok(job);
      jobId = String(job.id);
      assert.equal(job.state, 'quarantined');
      assert.equal(job.attempts, 2);
      assert.equal(job.error?.code, 'AIB_JOB_ATTEMPTS_EXHAUSTED');
      // The second attempt finds only the stopped replacement, which never became ready: it times out waiting.
      assert.match(job.error.message, /2 attempts failed; last: AIB_DEID_WORKER_TIMEOUT: /);
      const [first] = stopped;
      assert.ok(first !== undefined && !children(status.gatewayPid, 'worker-main.js').includes(first), 'the worker that took the instance and never answered was killed');
      assert.ok(stopped.size >= 2, `a replacement was started (${stopped.size} workers seen)`);
    } finally {
      clearInterval(freezer);
    }
    // The stopped replacement is this test's doing: end it, so the pool starts a live one.
    for (const pid of children(status.gatewayPid, 'worker-main.js')) process.kill(pid, 'SIGKILL');
    // Workers started from now on run: the administrator's retry goes through.
    await eventually(async () => ((await health(orthanc)).deid.readyWorkers === 1 ? true : undefined), 'a live replacement worker');
    const retry = await orthanc.request('POST', `/ai-bridge/jobs/${jobId}/retry`);
    assert.ok(retry.status === 200 || retry.status === 202, retry.body.toString('utf8'));
    const [done] = await waitForSettledJobs(orthanc, 1);
    assert.equal(done?.state, 'done', JSON.stringify(done?.error));
  });
});
