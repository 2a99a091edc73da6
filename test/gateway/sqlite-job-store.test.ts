import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jobId, orthancInstanceId } from '../../plugin/core/branded-ids';
import { GatewayError } from '../../plugin/gateway/gateway-errors';
import { SqliteJobStore } from '../../plugin/gateway/sqlite-job-store';

const id = (n: number): ReturnType<typeof orthancInstanceId> =>
  orthancInstanceId(`${n.toString(16).padStart(8, '0')}-00000000-00000000-00000000-00000000`);

describe('SqliteJobStore (state.sqlite)', () => {
  let dir: string;
  let clock: number;
  let store: SqliteJobStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aib-store-'));
    clock = 1_000_000;
    store = new SqliteJobStore(join(dir, 'state.sqlite'), () => clock);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates one job per instance however often its change is replayed', () => {
    assert.equal(store.changeCursor(), undefined);
    assert.equal(store.recordChanges([{ seq: 5, instanceId: id(1) }, { seq: 6, instanceId: id(2) }], 6), 2);
    assert.equal(store.recordChanges([{ seq: 5, instanceId: id(1) }], 6), 0, 'replay after a crash');
    assert.equal(store.changeCursor(), 6);
    assert.equal(store.list({ limit: 10, offset: 0 }).total, 2);
  });

  it('keeps the cursor and the jobs across a reopen', () => {
    store.recordChanges([{ seq: 9, instanceId: id(3) }], 12);
    store.close();
    store = new SqliteJobStore(join(dir, 'state.sqlite'), () => clock);
    assert.equal(store.changeCursor(), 12);
    assert.equal(store.countsByState().queued, 1);
  });

  it('claims due jobs in order, counts attempts, and honours the retry time', () => {
    store.recordChanges([{ seq: 1, instanceId: id(1) }, { seq: 2, instanceId: id(2) }], 2);
    const first = store.claimNext(clock);
    assert.equal(first?.instanceId, id(1));
    assert.equal(first.state, 'running');
    assert.equal(first.attempts, 1);
    store.scheduleRetry(first.id, clock + 5000, 'AIB_INGEST_UNREADABLE', 'busy');
    assert.equal(store.claimNext(clock)?.instanceId, id(2));
    assert.equal(store.claimNext(clock), undefined, 'the retry is not due yet');
    assert.equal(store.nextRetryAt(), clock + 5000);
    const again = store.claimNext(clock + 5000);
    assert.equal(again?.id, first.id);
    assert.equal(again.attempts, 2);
  });

  it('records the way through: facts, outcome, quarantine reason, events', () => {
    store.recordChanges([{ seq: 1, instanceId: id(1) }], 1);
    const job = store.claimNext(clock);
    assert.ok(job);
    store.setStage(job.id, 'fetch');
    store.recordFacts(job.id, { modality: 'CT', sha256: 'ab', sizeBytes: 10 });
    store.quarantine(job.id, 'AIB_INGEST_NOT_DICOM', 'instance x does not parse');
    const stored = store.get(job.id);
    assert.equal(stored?.state, 'quarantined');
    assert.equal(stored.modality, 'CT');
    assert.equal(stored.errorCode, 'AIB_INGEST_NOT_DICOM');
    assert.deepEqual(store.events(job.id).map((e) => e.event), ['received', 'started', 'stage', 'quarantined']);
  });

  it('requeues a quarantined job with fresh attempts, and refuses a queued one', () => {
    store.recordChanges([{ seq: 1, instanceId: id(1) }, { seq: 2, instanceId: id(2) }], 2);
    const job = store.claimNext(clock);
    assert.ok(job);
    store.quarantine(job.id, 'AIB_INGEST_NOT_DICOM', 'bad');
    const requeued = store.requeue(job.id);
    assert.equal(requeued.state, 'queued');
    assert.equal(requeued.attempts, 0);
    assert.equal(requeued.errorCode, null);
    assert.throws(() => store.requeue(jobId(2)), (e: unknown) => e instanceof GatewayError && e.code === 'AIB_API_CONFLICT');
    assert.throws(() => store.requeue(jobId(99)), (e: unknown) => e instanceof GatewayError && e.code === 'AIB_API_NOT_FOUND');
  });

  it('puts jobs left running by a dead process back in the queue', () => {
    store.recordChanges([{ seq: 1, instanceId: id(1) }], 1);
    assert.ok(store.claimNext(clock));
    assert.equal(store.recoverInterrupted(), 1);
    assert.equal(store.countsByState().queued, 1);
    assert.equal(store.countsByState().running, 0);
  });

  it('filters and pages the job list, newest first', () => {
    store.recordChanges([1, 2, 3, 4, 5].map((n) => ({ seq: n, instanceId: id(n) })), 5);
    const job = store.claimNext(clock);
    assert.ok(job);
    store.complete(job.id, 'fetched and checksummed');
    const page = store.list({ limit: 2, offset: 1 });
    assert.equal(page.total, 5);
    assert.deepEqual(page.jobs.map((j) => j.id), [4, 3]);
    assert.deepEqual(store.list({ state: 'done', limit: 10, offset: 0 }).jobs.map((j) => j.id), [1]);
  });
});
