import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { GatewayError } from '../../plugin/gateway/gateway-errors';
import { jobId, orthancInstanceId, type OrthancInstanceId } from '../../plugin/core/branded-ids';
import { AuditLog } from '../../plugin/gateway/audit-log';
import { IngestYield } from '../../plugin/gateway/ingest-yield';
import { INSTANCE_KIND, InstanceJobs, toJob } from '../../plugin/gateway/instance-jobs';
import type { InstanceFacts, Job } from '../../plugin/gateway/job';
import type { Logger } from '../../plugin/gateway/logger';
import { kindQueue, Pipeline, type PipelineStage } from '../../plugin/gateway/pipeline';
import { openWorkQueue, type DatabaseConfig } from '../../plugin/gateway/work-queue/open-work-queue';
import type { RetryPolicy } from '../../plugin/gateway/work-queue/retry-policy';
import type { SqlWorkQueue } from '../../plugin/gateway/work-queue/sql-work-queue';
import { eventually, tempDir } from '../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../harness/postgres-server';

const id = (n: number): OrthancInstanceId => orthancInstanceId(`${n.toString(16).padStart(8, '0')}-00000000-00000000-00000000-00000000`);
const POLICY: RetryPolicy = { maxAttempts: 3, firstDelayMs: 1_000, maxDelayMs: 60_000 };
const LEASE = 30_000;
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function code(expected: string): (error: unknown) => boolean {
  return (error) => error instanceof GatewayError && error.code === expected;
}

/** A stage that fails transiently `failures` times, then learns the modality. */
class FlakyStage implements PipelineStage<Job, object, InstanceFacts> {
  readonly name = 'fetch';
  runs = 0;
  constructor(readonly failures: number) {}
  run(): Promise<{ facts: InstanceFacts; outcome: string }> {
    this.runs++;
    if (this.runs <= this.failures) return Promise.reject(new GatewayError('AIB_INGEST_UNREADABLE', `busy (run ${this.runs})`, {}, true));
    return Promise.resolve({ facts: { modality: 'CT' }, outcome: 'fetched' });
  }
}

for (const backend of ['sqlite', 'postgresql'] as const) {
  describe(`instance jobs in the work queue on ${backend}`, () => {
    const dir = tempDir(`instance-jobs-${backend}`);
    let server: RunningPostgres | undefined;
    let n = 0;
    let database: DatabaseConfig;
    let stateDb: string;
    let clock: number;
    const now = (): number => clock;
    const open: SqlWorkQueue[] = [];

    before(async function () {
      if (backend === 'postgresql') server = await startPostgres();
    });
    after(async () => {
      await server?.stop();
      dir.remove();
    });
    beforeEach(() => {
      n++;
      stateDb = join(dir.path, `state-${n}.sqlite`);
      database = server === undefined ? { Backend: 'sqlite' } : { Backend: 'postgresql', ConnectionUri: server.uri, Schema: `j${n}` };
      clock = 1_700_000_000_000;
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    async function jobs(): Promise<InstanceJobs> {
      const { queue, sql } = await openWorkQueue(database, stateDb, POLICY, now);
      open.push(queue);
      return new InstanceJobs(queue, sql);
    }

    function pipeline(store: InstanceJobs, stage: PipelineStage<Job, object, InstanceFacts>, owner: string): Pipeline<Job, object, InstanceFacts> {
      return new Pipeline(kindQueue(store.queue, INSTANCE_KIND, toJob), [stage], { concurrency: 2, auditPrefix: 'job', owner, leaseMs: LEASE },
        quiet, new AuditLog(join(dir.path, `audit-${n}.jsonl`)), new IngestYield(0, 0), () => undefined, () => ({}),
        (job) => ({ label: `job ${job.id}`, audit: { jobId: job.id, instanceId: job.instanceId } }));
    }

    it('creates one job per instance however often its change is replayed, and keeps the cursor with them', async () => {
      const store = await jobs();
      assert.equal(await store.changeCursor(), undefined);
      assert.equal(await store.recordChanges([{ seq: 5, instanceId: id(1) }, { seq: 6, instanceId: id(2) }], 6), 2);
      assert.equal(await store.recordChanges([{ seq: 5, instanceId: id(1) }], 7), 0, 'replay after a crash');
      const again = await jobs();
      assert.equal(await again.changeCursor(), 7, 'another connection (a restart, another node) reads the cursor');
      const job = await again.byInstance(id(1));
      assert.deepEqual([job?.changeSeq, job?.state, job?.stage, job?.modality], [5, 'queued', 'received', null]);
      assert.deepEqual((await again.events(job?.id ?? jobId(0))).map((e) => [e.event, e.detail]), [['received', 'change 5']]);
    });

    it('runs a settled job again when Orthanc stores its instance again (a later change), not on a replay or for a job made outside the change log', async () => {
      const store = await jobs();
      await store.recordChanges([{ seq: 5, instanceId: id(1) }], 5);
      await store.tagForRequest(id(2), 'req-1');
      for (let item = await store.queue.claim('instance', 'node-a', LEASE); item !== undefined; item = await store.queue.claim('instance', 'node-a', LEASE)) {
        await store.queue.complete(item.id, 'node-a', 'de-identified');
      }
      assert.equal(await store.recordChanges([{ seq: 5, instanceId: id(1) }, { seq: 6, instanceId: id(2) }], 6), 0);
      assert.deepEqual([(await store.byInstance(id(1)))?.state, (await store.byInstance(id(2)))?.state], ['done', 'done'],
        'a replayed change, and the first change of a job a category request made, change nothing');
      assert.equal(await store.recordChanges([{ seq: 9, instanceId: id(1) }], 9), 0, 'no new job');
      const again = await store.byInstance(id(1)) ?? assert.fail();
      assert.deepEqual([again.state, again.changeSeq, again.attempts], ['queued', 9, 0]);
      assert.deepEqual((await store.events(again.id)).map((e) => e.detail).slice(-1), ['stored again (change 9), was done']);
    });

    it('forgets the settled job of a deleted instance with its places in annotations and unsent request members; a running job waits', async () => {
      const { queue, sql } = await openWorkQueue(database, stateDb, POLICY, now);
      open.push(queue);
      const store = new InstanceJobs(queue, sql);
      await store.recordChanges([{ seq: 1, instanceId: id(1) }, { seq: 2, instanceId: id(2) }], 2);
      const annotation = await queue.enqueue({ kind: 'annotation', key: 'series-1', payload: {}, stage: 'collecting', detail: 'test' });
      const request = await queue.enqueue({ kind: 'category-request', key: 'req-1', payload: {}, stage: 'pending', detail: 'test' });
      for (const n of [1, 2]) {
        const job = await store.byInstance(id(n)) ?? assert.fail();
        await sql.run(`INSERT INTO annotation_members (item_id, link_token, job_id, deid_path) VALUES (?, ?, ?, ?)`, [annotation.item.id, `token-${n}`, job.id, `${n}.dcm`]);
        await sql.run(`INSERT INTO category_request_members (item_id, instance_id, sent) VALUES (?, ?, 0)`, [request.item.id, id(n)]);
      }
      const running = await queue.claim('instance', 'node-a', LEASE) ?? assert.fail();
      assert.equal(running.key, id(1));
      assert.deepEqual(await store.forgetDeleted(id(1)), { state: 'in-flight' }, 'a running job may still write a copy');
      assert.deepEqual(await store.forgetDeleted(id(2)), { state: 'in-flight' }, 'a queued one too');
      await queue.complete(running.id, 'node-a', 'de-identified');
      const done = await store.forgetDeleted(id(1));
      assert.equal(done.state, 'forgotten');
      assert.equal(await store.byInstance(id(1)), undefined);
      assert.deepEqual(await store.forgetDeleted(id(1)), { state: 'absent' }, 'twice is harmless');
      assert.deepEqual((await sql.all<{ link_token: string }>(`SELECT link_token FROM annotation_members ORDER BY link_token`)).map((r) => r.link_token), ['token-2']);
      assert.deepEqual((await sql.all<{ instance_id: string }>(`SELECT instance_id FROM category_request_members`)).map((r) => r.instance_id), [id(2)]);
      assert.deepEqual((await store.settledAfter(0, 10)).map((j) => j.instanceId), [], 'the other job is not settled yet');
    });

    it('tags jobs for a category request, queues bulk re-runs, filters the list', async () => {
      const store = await jobs();
      await store.recordChanges([1, 2, 3].map((i) => ({ seq: i, instanceId: id(i) })), 3);
      const tagged = await store.tagForRequest(id(2), 'req-1');
      assert.deepEqual([tagged.created, tagged.job.categoryRequest], [false, 'req-1']);
      const fresh = await store.tagForRequest(id(9), 'req-1');
      assert.deepEqual([fresh.created, fresh.job.changeSeq, fresh.job.categoryRequest], [true, 0, 'req-1']);
      assert.equal((await store.byInstance(id(2)))?.categoryRequest, 'req-1');
      assert.ok((await store.events(tagged.job.id)).some((e) => e.event === 'tagged'));

      const item = await store.queue.claim('instance', 'node-a', LEASE);
      assert.ok(item);
      await store.queue.complete(item.id, 'node-a', 'de-identified', { stages: [{ stage: 'deidentify', ms: 3 }], payload: { modality: 'MR', sopInstanceUid: '1.2.840.99' } });
      assert.deepEqual((await store.list({ modality: 'MR', limit: 10, offset: 0 })).jobs.map((j) => j.id), [item.id]);
      assert.deepEqual((await store.list({ text: '840.99', limit: 10, offset: 0 })).jobs.map((j) => j.id), [item.id]);
      assert.deepEqual((await store.list({ text: '%', limit: 10, offset: 0 })).total, 0, 'LIKE wildcards are literal');
      const page = await store.list({ limit: 2, offset: 1 });
      assert.deepEqual([page.total, page.jobs.length], [4, 2]);
      assert.deepEqual(await store.countsByState(), { queued: 3, running: 0, retrying: 0, done: 1, quarantined: 0 });

      await assert.rejects(store.requeue(jobId(item.id + 1)), code('AIB_API_CONFLICT'), 'a queued job is not retried');
      await assert.rejects(store.requeue(jobId(9999)), code('AIB_API_NOT_FOUND'));
      const ids = await store.enqueueInstances([id(1), id(3), id(7)], 'bulk action');
      assert.equal(ids.length, 3);
      const rerun = await store.get(ids[0] ?? jobId(0));
      assert.deepEqual([rerun?.state, rerun?.attempts], ['queued', 0], 'the done job is queued again');
      assert.equal((await store.byInstance(id(7)))?.state, 'queued', 'an instance never seen gets a job');
      await assert.rejects(store.remove(ids[1] ?? jobId(0)), code('AIB_API_CONFLICT'), 'a queued job is not deleted');
    });

    it('takes over a job claimed by a dead owner once its lease has expired, and refuses the dead owner\'s late end', async () => {
      const store = await jobs();
      await store.recordChanges([{ seq: 1, instanceId: id(1) }], 1);
      const dead = await store.queue.claim('instance', 'dead-node:41', LEASE);
      assert.ok(dead);
      const stage = new FlakyStage(0);
      const alive = pipeline(await jobs(), stage, 'alive-node:42');
      try {
        alive.kick();
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(stage.runs, 0, 'a held lease is not taken');
        clock += LEASE + 1;
        alive.kick();
        await eventually(async () => ((await store.get(jobId(dead.id)))?.state === 'done' ? true : undefined), 'the job to be taken over and done');
      } finally {
        await alive.stop();
      }
      const job = await store.get(jobId(dead.id)) ?? assert.fail();
      assert.deepEqual([job.attempts, job.modality, job.outcome], [2, 'CT', 'fetched'], 'the dead attempt counts');
      const events = await store.events(job.id);
      assert.ok(events.some((e) => e.event === 'lease-expired' && (e.detail ?? '').startsWith('dead-node:41')));
      assert.ok(events.some((e) => e.event === 'started' && (e.detail ?? '').endsWith('by alive-node:42')));
      await assert.rejects(store.queue.complete(dead.id, 'dead-node:41', 'late'), code('AIB_QUEUE_LEASE_LOST'));
    });

    it('retries a failing stage with the one policy (1 s, then 2 s) and quarantines after MaxAttempts', async () => {
      const store = await jobs();
      await store.recordChanges([{ seq: 1, instanceId: id(1) }], 1);
      const stage = new FlakyStage(5);
      const run = pipeline(store, stage, 'node-a:1');
      const job = (await store.byInstance(id(1))) ?? assert.fail();
      try {
        for (const [attempt, delay] of [[1, 1_000], [2, 2_000]] as const) {
          run.kick();
          await eventually(async () => ((await store.get(job.id))?.state === 'retrying' && stage.runs === attempt ? true : undefined), `attempt ${attempt} to fail`);
          const retrying = await store.get(job.id) ?? assert.fail();
          assert.equal(retrying.nextAttemptAt, clock + delay, `retry after ${delay} ms`);
          assert.equal(retrying.errorCode, 'AIB_INGEST_UNREADABLE');
          clock += delay;
        }
        run.kick();
        await eventually(async () => ((await store.get(job.id))?.state === 'quarantined' ? true : undefined), 'the job to be quarantined');
      } finally {
        await run.stop();
      }
      const quarantined = await store.get(job.id) ?? assert.fail();
      assert.equal(quarantined.errorCode, 'AIB_JOB_ATTEMPTS_EXHAUSTED');
      assert.match(quarantined.errorMessage ?? '', /3 attempts failed; last: AIB_INGEST_UNREADABLE: busy \(run 3\)/);
      assert.equal(stage.runs, 3);
      assert.match(readFileSync(join(dir.path, `audit-${n}.jsonl`), 'utf8'), /"event":"job-quarantined"/);
      const requeued = await store.requeue(job.id);
      assert.deepEqual([requeued.state, requeued.attempts, requeued.errorCode], ['queued', 0, null]);
    });
  });
}
