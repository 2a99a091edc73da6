import { strict as assert } from 'node:assert';
import { join } from 'node:path';

import { orthancInstanceId } from '../../../plugin/core/branded-ids';
import { statsReport, summarize } from '../../../plugin/gateway/admin/stats-report';
import { AnnotationStore, type Enrolment } from '../../../plugin/gateway/annotation/annotation-store';
import { BulkStore } from '../../../plugin/gateway/bulk/bulk-store';
import { InstanceJobs } from '../../../plugin/gateway/instance-jobs';
import { openWorkQueue } from '../../../plugin/gateway/work-queue/open-work-queue';
import { tempDir } from '../../harness/bridge-orthanc';

const MINUTE = 60_000;

describe('dashboard statistics from the stores (state.sqlite)', () => {
  const dir = tempDir('stats');
  after(() => { dir.remove(); });

  it('counts per minute, depth per stage, store → result latency and progress of running work', async () => {
    let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
    const now = (): number => clock;
    const db = join(dir.path, 'state.sqlite');
    const { queue, sql } = await openWorkQueue({ Backend: 'sqlite' }, db, { maxAttempts: 5, firstDelayMs: 1000, maxDelayMs: 60_000 }, now);
    const jobs = new InstanceJobs(queue, sql);
    const annotations = new AnnotationStore(queue, sql, now);
    const bulk = new BulkStore(queue, sql);

    await jobs.recordChanges([1, 2, 3].map((n) => ({ seq: n, instanceId: orthancInstanceId(`0000000${n}-00000000-00000000-00000000-00000000`) })), 3);
    const first = await queue.claim('instance', 'node-a', 30_000);
    assert.ok(first);
    clock += 2_000;
    await queue.complete(first.id, 'node-a', 'de-identified');
    const second = await queue.claim('instance', 'node-a', 30_000);
    assert.ok(second);
    await queue.fail(second.id, 'node-a', { code: 'AIB_DEID_TRUNCATED', message: 'ends inside an element', transient: false },
      { stages: [{ stage: 'fetch', ms: 1 }, { stage: 'deidentify', ms: 1 }] });

    const enrol = (jobId: number, series: string, expected: number | undefined): Enrolment => ({
      unit: 'series', studyInstanceUid: '1.2.3', seriesInstanceUid: series, sopInstanceUid: `${series}.${jobId}`, orthancSeriesId: `s-${series}`,
      model: { id: 'lung', version: '1.0.0' }, expectedInstances: expected, member: { jobId, linkToken: `t${jobId}`, deidPath: `d/${jobId}.dcm`, arrivedAt: clock, geometry: null },
    });
    // A one-instance series runs through annotate → relink → deliver.
    assert.equal((await annotations.enrol(enrol(first.id, '9.1', 1))).due, true);
    clock += MINUTE;
    const run = await annotations.pipelineQueue().claim('node-a', 30_000);
    assert.ok(run);
    clock += 3_000;
    await annotations.pipelineQueue().complete(run, 'node-a', 'delivered 2 result(s)',
      { stages: [{ stage: 'annotate', ms: 2_000 }, { stage: 'relink', ms: 500 }, { stage: 'deliver', ms: 500 }], payload: { results: ['1.2', '1.3'] } });
    // A series still collecting: 1 of 3 instances in.
    await annotations.enrol(enrol(3, '9.2', 3));
    await bulk.create({ Modality: 'CT' }, null, [3]);

    const stats = await statsReport(jobs, annotations, bulk, 5, clock);
    assert.equal(stats.throughput.length, 5);
    const sum = (key: 'deidentified' | 'annotated' | 'delivered' | 'errors'): number => stats.throughput.reduce((n, b) => n + b[key], 0);
    assert.deepEqual([sum('deidentified'), sum('annotated'), sum('delivered'), sum('errors')], [1, 1, 1, 1]);
    assert.equal(stats.throughput[3]?.deidentified, 1, 'in the minute it happened');
    assert.equal(stats.throughput[4]?.delivered, 1);
    assert.deepEqual(stats.latency.storeToDeidentified, { count: 1, p50Ms: 2_000, p95Ms: 2_000 });
    assert.deepEqual(stats.latency.storeToResult, { count: 1, p50Ms: 2_000 + MINUTE + 3_000, p95Ms: 2_000 + MINUTE + 3_000 });
    assert.deepEqual(stats.depths, [
      { pipeline: 'jobs', state: 'queued', stage: 'received', count: 1 },
      { pipeline: 'annotations', state: 'collecting', stage: 'collecting', count: 1 },
    ]);
    const series = stats.running.find((r) => r.kind === 'series-annotation');
    assert.deepEqual(series && [series.done, series.total], [1, 3]);
    const bulkRun = stats.running.find((r) => r.kind === 'bulk');
    assert.deepEqual(bulkRun && [bulkRun.done, bulkRun.total], [0, 1]);
    const newest = stats.recentErrors[0];
    assert.ok(newest);
    assert.equal(newest.event, 'quarantined');
    assert.match(newest.detail ?? '', /AIB_DEID_TRUNCATED/);
    await queue.close();
  });

  it('takes nearest-rank percentiles', () => {
    assert.deepEqual(summarize([]), { count: 0, p50Ms: null, p95Ms: null });
    assert.deepEqual(summarize(Array.from({ length: 100 }, (_, i) => 100 - i)), { count: 100, p50Ms: 50, p95Ms: 95 });
  });
});
