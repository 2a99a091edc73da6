import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { orthancInstanceId } from '../../plugin/core/branded-ids';
import { AuditLog } from '../../plugin/gateway/audit-log';
import { IngestYield } from '../../plugin/gateway/ingest-yield';
import type { InstanceFacts, Job } from '../../plugin/gateway/job';
import type { Logger } from '../../plugin/gateway/logger';
import { INSTANCE_KIND, InstanceJobs, toJob } from '../../plugin/gateway/instance-jobs';
import { kindQueue, Pipeline, type PipelineStage } from '../../plugin/gateway/pipeline';
import { openWorkQueue } from '../../plugin/gateway/work-queue/open-work-queue';

/** An id in Orthanc's form (five groups of eight hex digits). */
const instance = (n: number): string => `${n.toString(16).padStart(8, '0')}-00000000-00000000-00000000-00000000`;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A stage that holds every job until released, counting how many run at once. */
class GatedStage implements PipelineStage<Job, object, InstanceFacts> {
  readonly name = 'gated';
  active = 0;
  most = 0;
  readonly #waiting: (() => void)[] = [];

  async run(): Promise<{ facts: InstanceFacts; outcome: string }> {
    this.active++;
    this.most = Math.max(this.most, this.active);
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.active--;
    return { facts: { modality: 'CT' }, outcome: 'passed the gate' };
  }

  release(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** Lets the claims and ends in flight (asynchronous database calls) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Pipeline during an ingest burst', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aib-burst-'));
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('runs one lane while instances arrive, full concurrency once the burst is quiet, and writes each run in one piece', async () => {
    const { queue, sql } = await openWorkQueue({ Backend: 'sqlite' }, join(dir, 'state.sqlite'), { maxAttempts: 3, firstDelayMs: 1000, maxDelayMs: 60_000 });
    const store = new InstanceJobs(queue, sql);
    await store.recordChanges(Array.from({ length: 8 }, (_, i) => ({ seq: i + 1, instanceId: orthancInstanceId(instance(i)) })), 8);
    let now = 1_000_000;
    const ingest = new IngestYield(1000, 30_000, () => now);
    ingest.noteStore();
    now += 10;
    ingest.noteStore();
    const stage = new GatedStage();
    const pipeline = new Pipeline(kindQueue(queue, INSTANCE_KIND, toJob), [stage],
      { concurrency: 4, burstConcurrency: 1, auditPrefix: 'job', owner: 'test:1', leaseMs: 30_000 },
      quiet, new AuditLog(join(dir, 'audit.jsonl')), ingest, () => undefined, () => ({}), (job) => ({ label: `job ${job.id}`, audit: { jobId: job.id } }));
    try {
      pipeline.kick();
      await settle();
      assert.equal(stage.active, 1, 'one lane during the burst');
      stage.release();
      await settle();
      assert.equal(stage.most, 1, 'the next job took the lane, no more');
      now += 1500;
      pipeline.kick();
      await settle();
      assert.equal(stage.active, 4, 'the burst is quiet: full concurrency');
      while ((await store.countsByState()).done < 8) {
        stage.release();
        await settle();
      }
      const first = (await store.list({ limit: 1000, offset: 0 })).jobs.find((j) => j.instanceId === instance(0));
      assert.ok(first);
      assert.equal(first.modality, 'CT', 'facts recorded with the end of the run');
      assert.deepEqual((await store.events(first.id)).map((e) => e.event), ['received', 'started', 'stages', 'done']);
      assert.match(readFileSync(join(dir, 'audit.jsonl'), 'utf8'), /"event":"job-done"/);
    } finally {
      await pipeline.stop();
      await queue.close();
    }
  });
});
