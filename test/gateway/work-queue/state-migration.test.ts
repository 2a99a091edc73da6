import { strict as assert } from 'node:assert';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { BulkStore } from '../../../plugin/gateway/bulk/bulk-store';
import { CategoryRequestStore } from '../../../plugin/gateway/category-requests/category-request-store';
import { InstanceJobs } from '../../../plugin/gateway/instance-jobs';
import { jobId } from '../../../plugin/core/branded-ids';
import { MIGRATIONS } from '../../../plugin/gateway/work-queue/migrations';
import { openWorkQueue } from '../../../plugin/gateway/work-queue/open-work-queue';
import { tempDir } from '../../harness/bridge-orthanc';

/** state.sqlite as the gateway before the work queue wrote it (fixtures/make-state-v3.cjs). */
const FIXTURE = join(__dirname, '..', '..', '..', '..', 'test', 'gateway', 'work-queue', 'fixtures', 'state-v3.sqlite');
const POLICY = { maxAttempts: 5, firstDelayMs: 1_000, maxDelayMs: 60_000 };

describe('work queue migration of a state.sqlite made before it (schema 3)', () => {
  const dir = tempDir('queue-migration');
  after(() => { dir.remove(); });

  it('keeps the jobs (same ids, states, events), the cursor and the bulk runs (query, user, members; ids after the jobs\')', async () => {
    const db = join(dir.path, 'state.sqlite');
    copyFileSync(FIXTURE, db);
    const { queue, sql } = await openWorkQueue({ Backend: 'sqlite' }, db, POLICY);
    try {
      const jobs = new InstanceJobs(queue, sql);
      assert.equal(await jobs.changeCursor(), 4);
      assert.deepEqual(await jobs.countsByState(), { queued: 2, running: 0, retrying: 0, done: 1, quarantined: 1 });
      const first = await jobs.get(jobId(1));
      assert.deepEqual([first?.instanceId, first?.state, first?.outcome, first?.changeSeq], ['00000001-00000000-00000000-00000000-00000000', 'done', 'de-identified', 1]);
      assert.deepEqual((await jobs.events(jobId(1))).map((e) => e.event), ['received', 'started', 'done']);
      assert.equal((await jobs.get(jobId(2)))?.errorCode, 'AIB_INGEST_NOT_DICOM');
      // A change replayed after the migration makes no second job.
      assert.equal(await jobs.recordChanges([{ seq: 3, instanceId: (await jobs.get(jobId(3)))?.instanceId ?? assert.fail() }], 4), 0);

      const bulk = new BulkStore(queue, sql);
      const runs = await bulk.list(10);
      // Job ids 1-4 are kept; the runs (1, 2 before) moved past them, in the same order.
      assert.deepEqual(runs.map((r) => [r.id, r.query, r.user, r.instances]), [
        [6, { Modality: 'MR' }, null, 1],
        [5, { Modality: 'CT' }, 'admin', 3],
      ]);
      const ct = runs[1];
      assert.ok(ct);
      assert.deepEqual(ct.jobs, { queued: 1, running: 0, retrying: 0, done: 1, quarantined: 1 }, 'progress still joins the instance jobs');
      assert.equal(ct.createdAt, 1_700_000_000_000);
      assert.deepEqual((await queue.events(5)).map((e) => e.event), ['migrated']);
      // A run made after the migration gets a fresh id and the same view.
      const third = await bulk.create({ Modality: 'CR' }, 'root', [4]);
      assert.equal(third, 8, 'after the jobs (1-4), the runs (5, 6) and the category request (7)');
      assert.equal((await bulk.get(third)).jobs.queued, 1);
    } finally {
      await queue.close();
    }

    const raw = new Database(db, { readonly: true });
    const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    const versions = (raw.prepare(`SELECT version FROM work_queue_migrations ORDER BY version`).all() as { version: number }[]).map((r) => r.version);
    raw.close();
    for (const gone of ['bulk_runs', 'bulk_members', 'jobs', 'job_events', 'meta', 'annotations', 'annotation_events', 'category_requests']) assert.ok(!tables.includes(gone), `the old table ${gone} is gone`);
    assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));

    // Opening again migrates nothing and keeps everything.
    const again = await openWorkQueue({ Backend: 'sqlite' }, db, POLICY);
    // The category request is kept, and (since the site approves each request) one left pending waits for an administrator.
    const requests = new CategoryRequestStore(again.queue, again.sql);
    assert.deepEqual((await requests.list()).map((r) => [r.id, r.state, r.modality, r.bodyPart, r.studiesWanted, r.open]), [['req-1', 'awaiting-approval', 'CT', 'CHEST', 2, true]]);
    assert.equal((await again.queue.find('category-request', 'req-1'))?.state, 'awaiting-approval', 'held, never claimed');
    assert.equal(await requests.decide('req-1', { approve: true, studiesGranted: 1 }, 'admin'), true);
    assert.equal((await requests.get('req-1'))?.state, 'pending');
    assert.equal((await again.queue.list('bulk', { limit: 10, offset: 0 })).total, 3);
    assert.equal((await again.queue.list('instance', { limit: 10, offset: 0 })).total, 4);
    await again.queue.close();
  });
});
