import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { orthancInstanceId } from '../../plugin/core/branded-ids';
import { AuditLog } from '../../plugin/gateway/audit-log';
import { IngestYield } from '../../plugin/gateway/ingest-yield';
import type { InstanceFacts, Job } from '../../plugin/gateway/job';
import type { Logger } from '../../plugin/gateway/logger';
import { Pipeline, type PipelineStage } from '../../plugin/gateway/pipeline';
import { SqliteJobStore } from '../../plugin/gateway/sqlite-job-store';

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

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Pipeline during an ingest burst', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aib-burst-'));
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('runs one lane while instances arrive, full concurrency once the burst is quiet, and writes each run in one piece', async () => {
    const store = new SqliteJobStore(join(dir, 'state.sqlite'));
    store.recordChanges(Array.from({ length: 8 }, (_, i) => ({ seq: i + 1, instanceId: orthancInstanceId(instance(i)) })), 8);
    let now = 1_000_000;
    const ingest = new IngestYield(1000, 30_000, () => now);
    ingest.noteStore();
    now += 10;
    ingest.noteStore();
    const stage = new GatedStage();
    const pipeline = new Pipeline(store, [stage], { concurrency: 4, burstConcurrency: 1, maxAttempts: 3, retryBackoffMs: 1000, auditPrefix: 'job' },
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
      while (store.countsByState().done < 8) {
        stage.release();
        await settle();
      }
      const first = store.list({ limit: 1000, offset: 0 }).jobs.find((j) => j.instanceId === instance(0));
      assert.ok(first);
      assert.equal(first.modality, 'CT', 'facts recorded with the end of the run');
      assert.deepEqual(store.events(first.id).map((e) => e.event), ['received', 'started', 'stages', 'done']);
      assert.match(readFileSync(join(dir, 'audit.jsonl'), 'utf8'), /"event":"job-done"/);
    } finally {
      await pipeline.stop();
      store.close();
    }
  });
});
