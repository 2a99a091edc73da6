import type { AnnotationStore } from '../annotation/annotation-store';
import type { BulkStore } from '../bulk/bulk-store';
import type { InstanceJobs } from '../instance-jobs';
import type { LatencySummary, RunningWork, StatsResponse, ThroughputBucket } from '../../core/admin-api';

const MINUTE = 60_000;

/** The dashboard's numbers, from the stores' per-minute event counts and durations. */
export async function statsReport(jobs: InstanceJobs, annotations: AnnotationStore, bulk: BulkStore, minutes: number, now: number = Date.now()): Promise<StatsResponse> {
  const firstMinute = Math.floor(now / MINUTE) * MINUTE - (minutes - 1) * MINUTE;
  const buckets = new Map<number, { deidentified: number; annotated: number; delivered: number; errors: number }>();
  for (let i = 0; i < minutes; i++) buckets.set(firstMinute + i * MINUTE, { deidentified: 0, annotated: 0, delivered: 0, errors: 0 });
  for (const row of await jobs.eventsPerMinute(firstMinute)) {
    const bucket = buckets.get(row.minute);
    if (bucket === undefined) continue;
    if (row.event === 'done') bucket.deidentified += row.count;
    else bucket.errors += row.count;
  }
  for (const row of await annotations.eventsPerMinute(firstMinute)) {
    const bucket = buckets.get(row.minute);
    if (bucket === undefined) continue;
    if (row.event === 'annotated') bucket.annotated += row.count;
    else if (row.event === 'done') bucket.delivered += row.count;
    else bucket.errors += row.count;
  }
  const throughput: ThroughputBucket[] = [...buckets.entries()].map(([at, counts]) => ({ at: new Date(at).toISOString(), ...counts }));

  const running: RunningWork[] = [
    ...(await annotations.unfinished(20)).map((a): RunningWork => ({
      kind: a.unit === 'series' ? 'series-annotation' : 'instance-annotation', id: a.id,
      label: `${a.modelId}@${a.modelVersion} · series ${a.seriesInstanceUid.slice(-12)}`,
      state: `${a.state}/${a.stage}`,
      // A collecting series counts arrived members; once queued, the run's stages count.
      done: a.members, total: a.unit === 'series' ? a.expectedInstances : 1,
    })),
    ...(await bulk.list(20)).filter((r) => r.jobs.queued + r.jobs.running + r.jobs.retrying > 0).map((r): RunningWork => ({
      kind: 'bulk', id: r.id, label: `bulk ${r.id}: ${JSON.stringify(r.query)}`, state: 'running',
      done: r.jobs.done + r.jobs.quarantined, total: r.instances,
    })),
  ];

  const errors = [
    ...(await jobs.recentErrors(10)).map((e) => ({ ...e, pipeline: 'jobs' as const })),
    ...(await annotations.recentErrors(10)).map((e) => ({ ...e, pipeline: 'annotations' as const })),
  ].sort((a, b) => b.at - a.at).slice(0, 10);

  const window = now - minutes * MINUTE;
  return {
    minutes,
    throughput,
    depths: [
      ...(await jobs.depths()).map((d) => ({ pipeline: 'jobs' as const, ...d })),
      ...(await annotations.depths()).map((d) => ({ pipeline: 'annotations' as const, ...d })),
    ],
    latency: { storeToDeidentified: summarize(await jobs.durations(window)), storeToResult: summarize(await annotations.deliveryDurations(window)) },
    jobs: await jobs.countsByState(),
    annotations: await annotations.countsByState(),
    running,
    recentErrors: errors.map((e) => ({ at: new Date(e.at).toISOString(), pipeline: e.pipeline, id: e.id, event: e.event, detail: e.detail })),
  };
}

/** Nearest-rank percentiles. */
export function summarize(durations: readonly number[]): LatencySummary {
  if (durations.length === 0) return { count: 0, p50Ms: null, p95Ms: null };
  const sorted = [...durations].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50Ms: rank(0.5), p95Ms: rank(0.95) };
}
