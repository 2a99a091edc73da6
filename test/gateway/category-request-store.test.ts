import { strict as assert } from 'node:assert';
import { join } from 'node:path';

import { orthancInstanceId } from '../../plugin/core/branded-ids';
import { CategoryRequestStore } from '../../plugin/gateway/category-requests/category-request-store';
import { InstanceJobs } from '../../plugin/gateway/instance-jobs';
import { openWorkQueue, type DatabaseConfig } from '../../plugin/gateway/work-queue/open-work-queue';
import type { SqlWorkQueue } from '../../plugin/gateway/work-queue/sql-work-queue';
import { tempDir } from '../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../harness/postgres-server';

const POLICY = { maxAttempts: 2, firstDelayMs: 1_000, maxDelayMs: 60_000 };
const LEASE = 60_000;
const ask = (id: string, open = true): { id: string; modality: string; bodyPart: string; studiesWanted: number; reason: string; open: boolean } =>
  ({ id, modality: 'CT', bodyPart: 'CHEST', studiesWanted: 3, reason: 'lung nodules', open });

for (const backend of ['sqlite', 'postgresql'] as const) {
  describe(`category requests in the work queue on ${backend}`, () => {
    const dir = tempDir(`category-requests-${backend}`);
    let server: RunningPostgres | undefined;
    let n = 0;
    let clock = 1_700_000_000_000;
    const open: SqlWorkQueue[] = [];
    before(async () => { if (backend === 'postgresql') server = await startPostgres(); });
    after(async () => {
      await server?.stop();
      dir.remove();
    });
    afterEach(async () => { await Promise.all(open.splice(0).map((q) => q.close())); });

    async function stores(): Promise<{ requests: CategoryRequestStore; jobs: InstanceJobs }> {
      n++;
      const database: DatabaseConfig = server === undefined ? { Backend: 'sqlite' } : { Backend: 'postgresql', ConnectionUri: server.uri, Schema: `c${n}` };
      const { queue, sql } = await openWorkQueue(database, join(dir.path, `c${n}.sqlite`), POLICY, () => clock);
      open.push(queue);
      return { requests: new CategoryRequestStore(queue, sql), jobs: new InstanceJobs(queue, sql) };
    }

    it('holds a request for approval, never claims it before, searches it once after, and hands its members over', async () => {
      const { requests, jobs } = await stores();
      await requests.upsert(ask('req-1'), null);
      await requests.upsert(ask('req-2'), 'CT/HEAD is not in Categories');
      await requests.upsert(ask('req-1', false), null);
      assert.deepEqual((await requests.list()).map((r) => [r.id, r.state, r.open, r.decision?.by ?? null]),
        [['req-1', 'awaiting-approval', false, null], ['req-2', 'declined', true, 'policy']]);
      assert.equal(await requests.claimSearch('node-a:1', LEASE), undefined, 'nothing is searched before approval');
      assert.equal(await requests.decide('req-2', { approve: true, studiesGranted: 1 }, 'admin'), false, 'a declined request stays declined');
      assert.equal(await requests.decide('req-1', { approve: true, studiesGranted: 2 }, 'admin'), true);
      assert.equal(await requests.decide('req-1', { approve: false, reason: 'changed my mind' }, 'admin'), false, 'decided once');
      assert.equal((await requests.get('req-1'))?.state, 'pending');

      const claimed = await requests.claimSearch('node-a:1', LEASE) ?? assert.fail('the approved request is due');
      assert.equal(await requests.claimSearch('node-b:1', LEASE), undefined, 'another node does not search it too');
      assert.deepEqual([claimed.request.state, claimed.request.decision?.studiesGranted], ['searching', 2]);
      const instances = ['0000000a-00000000-00000000-00000000-00000000', '0000000b-00000000-00000000-00000000-00000000'];
      for (const id of instances) await jobs.tagForRequest(orthancInstanceId(id), 'req-1');
      await requests.searched(claimed.itemId, 'node-a:1', instances, { sources: ['dicomweb'], studiesFound: 1 });
      const searched = await requests.get('req-1') ?? assert.fail();
      assert.deepEqual([searched.state, searched.sources, searched.studiesFound], ['uploading', ['dicomweb'], 1]);
      assert.ok(searched.searchedAt !== null, 'the search counts against the month from when it ran');
      assert.equal(await requests.studiesSearchedSince(searched.searchedAt), 1);
      assert.equal(await requests.studiesSearchedSince(searched.searchedAt + 1), 0);

      // One member's job is de-identified: it can be handed over.
      const job = await jobs.queue.claim('instance', 'node-a:1', LEASE) ?? assert.fail();
      await jobs.queue.complete(job.id, 'node-a:1', 'de-identified', { stages: [{ stage: 'deidentify', ms: 1 }], payload: { deidPath: 'a/b/c.dcm' } });
      const members = await requests.members('req-1');
      assert.deepEqual(members.map((m) => [m.instanceId, m.jobState, m.deidPath, m.sent]), [
        [instances[0], 'done', 'a/b/c.dcm', false], [instances[1], 'queued', null, false]]);
      await requests.markSent('req-1', instances[0] ?? '');
      assert.deepEqual((await requests.members('req-1')).map((m) => m.sent), [true, false]);
      await requests.handedOver('req-1');
      assert.equal((await requests.get('req-1'))?.state, 'done');
    });

    it('retries a failed search with the one retry policy, then marks the request failed', async () => {
      const { requests } = await stores();
      await requests.upsert(ask('req-3'), null);
      await requests.decide('req-3', { approve: true, studiesGranted: 1 }, null);
      const first = await requests.claimSearch('node-a:1', LEASE) ?? assert.fail();
      await requests.searchFailed(first.itemId, 'node-a:1', 'AIB_CATEGORY_SEARCH_FAILED', 'QIDO-RS answered 503');
      const waiting = await requests.get('req-3') ?? assert.fail();
      assert.deepEqual([waiting.state, waiting.error], ['pending', 'QIDO-RS answered 503']);
      assert.equal(await requests.claimSearch('node-a:1', LEASE), undefined, 'not before the backoff');
      clock += POLICY.firstDelayMs;
      const second = await requests.claimSearch('node-a:1', LEASE) ?? assert.fail('due after the backoff');
      await requests.searchFailed(second.itemId, 'node-a:1', 'AIB_CATEGORY_SEARCH_FAILED', 'QIDO-RS answered 503');
      const failed = await requests.get('req-3') ?? assert.fail();
      assert.equal(failed.state, 'failed');
      assert.match(failed.error ?? '', /2 attempts failed; last: AIB_CATEGORY_SEARCH_FAILED: QIDO-RS answered 503/);
    });
  });
}
