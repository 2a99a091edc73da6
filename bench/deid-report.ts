import type { DeidOptions } from './deid-options.js';
import { machine, median, round, textTable } from './report.js';

/** JSON lines and the readable tables of the deid bench (bench/deid.ts). */

export type MethodKey = 'cp' | 'pool' | 'engine' | 'engine-half' | 'dcmjs' | `orthanc-${number}` | `command-w${number}`;

export interface DeidSample {
  readonly perSecond: number;
  readonly mbPerSecond: number;
  readonly peakRssKb: number | undefined;
  readonly failures: number;
  /** The command only: instances per second by its own summary line (its run, without Node's start and module loading). */
  readonly inCommandPerSecond?: number;
  /** CPU milliseconds per instance, where measured (the pool: driver, workers). */
  readonly cpuMsPerInstance?: { readonly driver: number; readonly workers: number };
}

export interface DumpCheck { readonly file: string; readonly ok: boolean; readonly reason: string }

export interface DeidReportInput {
  readonly options: DeidOptions;
  readonly counts: readonly { readonly count: number; readonly bytes: number }[];
  readonly smallest: number;
  readonly half: number;
  readonly defaultWorkers: number;
  readonly poolWorkers: number;
  /** Keyed `${MethodKey}@${count}`. */
  readonly samples: ReadonlyMap<string, readonly DeidSample[]>;
  readonly checks: readonly DumpCheck[];
  readonly firstError: string | null;
  readonly orthancVersion: string;
  readonly orthancConnections: readonly number[];
}

const GOAL_VS_ORTHANC = 1.25;
const GOAL_VS_CP = 0.7;
/** "Flat": the whole corpus peaks at most this much above half of it. */
const GOAL_RSS_GROWTH = 1.10;
const MB = 1e6;

interface Stat {
  readonly perSecond: number;
  readonly mbPerSecond: number;
  readonly peakRssKb: number | undefined;
  readonly failures: number;
  readonly inCommandPerSecond: number | undefined;
  readonly samples: number[];
}

function stat(list: readonly DeidSample[]): Stat {
  const peaks = list.map((s) => s.peakRssKb).filter((v): v is number => v !== undefined);
  const inCommand = list.map((s) => s.inCommandPerSecond).filter((v): v is number => v !== undefined);
  return {
    perSecond: median(list.map((s) => s.perSecond)), mbPerSecond: median(list.map((s) => s.mbPerSecond)),
    peakRssKb: peaks.length === 0 ? undefined : Math.max(...peaks), failures: list.reduce((sum, s) => sum + s.failures, 0),
    inCommandPerSecond: inCommand.length === 0 ? undefined : median(inCommand), samples: list.map((s) => round(s.perSecond, 1)),
  };
}

function mb(kb: number | undefined): string {
  return kb === undefined ? 'n/a' : (kb / 1024).toFixed(0);
}

interface Row { measure: string; label: string; count: number; cores: string; path: string; s: Stat; extra: Record<string, unknown> }

export function reportDeid(input: DeidReportInput): void {
  const { options, samples } = input;
  const host = machine();
  const get = (method: MethodKey, count: number): Stat => stat(samples.get(`${method}@${count}`) ?? []);
  const checksOk = input.checks.filter((c) => !c.file.startsWith('dcmjs') && !c.file.startsWith('orthanc')).every((c) => c.ok);
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, orthanc: input.orthancVersion,
    rounds: options.rounds, profile: options.profile };
  // The goal is judged on what a user gets without --workers; when that count was not measured, on the largest measured.
  const goalWorkers = options.workers.includes(input.defaultWorkers) ? input.defaultWorkers : Math.max(...options.workers);

  const rows: Row[] = [];
  const goals: string[][] = [];
  for (const { count } of input.counts) {
    const orthanc = input.orthancConnections.map((c) => ({ connections: c, s: get(`orthanc-${c}`, count) }));
    const best = orthanc.reduce((a, b) => (b.s.perSecond > a.s.perSecond ? b : a));
    const cp = get('cp', count);
    for (const workers of options.workers) {
      const s = get(`command-w${workers}`, count);
      const judged = workers === goalWorkers;
      rows.push({ measure: `deid_command_w${workers}`, label: `deid command, --workers ${workers}${workers === input.defaultWorkers ? ' (the default here)' : ''}`,
        count, cores: String(workers), s,
        path: `node bin/orthanc-ai-bridge.js deid --out OUT --key-file K --workers ${workers} INPUT: whole process, spawn to exit, start-up included`,
        extra: { baselines: { orthanc_best: round(best.s.perSecond, 2), orthanc_best_connections: best.connections, cp: round(cp.perSecond, 2) },
          ratio: { orthanc_best: round(s.perSecond / best.s.perSecond, 3), cp: round(s.perSecond / cp.perSecond, 3) },
          ...(judged ? { goals: { orthanc_best: GOAL_VS_ORTHANC, cp: GOAL_VS_CP } } : {}),
          in_command_per_s: s.inCommandPerSecond === undefined ? null : round(s.inCommandPerSecond, 2),
          rss: 'largest sum of the command\'s and its workers\' VmRSS, sampled every 100 ms' } });
      if (judged) {
        const vsOrthanc = s.perSecond / best.s.perSecond;
        const vsCp = s.perSecond / cp.perSecond;
        goals.push([`deid command / Orthanc best, ${count}`, `${vsOrthanc.toFixed(2)}x (${s.perSecond.toFixed(0)} vs ${best.s.perSecond.toFixed(0)}/s at ${best.connections} conn.)`,
          `>= ${GOAL_VS_ORTHANC}x`, vsOrthanc >= GOAL_VS_ORTHANC && checksOk ? 'met' : 'NOT met']);
        goals.push([`deid command / cp, ${count}`, `${vsCp.toFixed(2)}x (${s.perSecond.toFixed(0)} vs ${cp.perSecond.toFixed(0)}/s)`,
          `>= ${GOAL_VS_CP}x`, vsCp >= GOAL_VS_CP && checksOk ? 'met' : 'NOT met']);
      }
    }
    const one = get('command-w1', count);
    const two = get('command-w2', count);
    if (options.workers.includes(1) && options.workers.includes(2)) {
      goals.push([`2 workers / 1 worker, ${count}`, `${(two.perSecond / one.perSecond).toFixed(2)}x (${two.perSecond.toFixed(0)} vs ${one.perSecond.toFixed(0)}/s)`,
        '> 1x (a worker adds throughput)', two.perSecond > one.perSecond ? 'met' : 'NOT met']);
    }
    for (const o of orthanc) {
      rows.push({ measure: `deid_orthanc_anonymize_c${o.connections}`, label: `Orthanc anonymize, ${o.connections} conn.${o === best ? ' (best)' : ''}`, count,
        cores: String(host.cpus), s: o.s, path: `POST /instances/{id}/anonymize {} over ${o.connections} keep-alive connection(s), file returned, not stored`,
        extra: { rss: 'Orthanc VmHWM, reset before the run', best: o === best } });
    }
    rows.push({ measure: 'deid_cp', label: 'cp -r (I/O limit)', count, cores: '1', path: 'cp -r INPUT to another dir', s: cp, extra: { rss: '/usr/bin/time %M' } });
  }
  if (options.internal) {
    const n = input.smallest;
    const pool = get('pool', n);
    rows.push(
      { measure: 'deid_internal_pool', label: `internal: worker pool loop (${input.poolWorkers} workers)`, count: n, cores: String(input.poolWorkers), s: pool,
        path: `DeidWorkerPool driven in the bench process, ${4 * input.poolWorkers} in flight, paths handed over; no process start, no CLI driver`,
        extra: { internal: true, rss: 'sum of the workers\' VmHWM', cpu_ms_per_instance: (samples.get(`pool@${n}`) ?? []).map((p) => ({
          driver: round(p.cpuMsPerInstance?.driver ?? 0, 2), workers: round(p.cpuMsPerInstance?.workers ?? 0, 2) })) } },
      { measure: 'deid_internal_engine', label: 'internal: engine in one process', count: n, cores: '1', s: get('engine', n),
        path: `deidentifyFile loop in one Node process, profile ${options.profile}: header parsed, pixel data spliced file to file`,
        extra: { internal: true, rss: 'process.resourceUsage().maxRSS' } },
      { measure: 'deid_dcmjs_baseline', label: 'dcmjs read-modify-write', count: n, cores: '1', s: get('dcmjs', n),
        path: 'bench/deid-dcmjs.ts: readFile, naturalize, identifier map + UID map, denaturalize, write', extra: { internal: true, rss: 'process.resourceUsage().maxRSS' } },
    );
    const engine = get('engine', n);
    const engineHalf = get('engine-half', n);
    const growth = (engine.peakRssKb ?? Number.NaN) / (engineHalf.peakRssKb ?? Number.NaN);
    process.stdout.write(`${JSON.stringify({ measure: 'deid_engine_rss_flat', unit: 'MB', value: round((engine.peakRssKb ?? 0) / 1024, 1),
      baseline: round((engineHalf.peakRssKb ?? 0) / 1024, 1), ratio: round(growth, 3), goal: GOAL_RSS_GROWTH, instances: n, baseline_instances: input.half,
      cpus: host.cpus, node: host.node, path: 'peak RSS of the in-process engine over the smallest corpus vs its first half' })}\n`);
    goals.push(['RSS flat (internal: in-process engine)', `${mb(engineHalf.peakRssKb)} MB at ${input.half} -> ${mb(engine.peakRssKb)} MB at ${n} (${growth.toFixed(2)}x)`,
      `<= ${GOAL_RSS_GROWTH.toFixed(2)}x`, growth <= GOAL_RSS_GROWTH ? 'met' : 'NOT met']);
  }
  const bytesFor = (count: number): number => input.counts.find((c) => c.count === count)?.bytes ?? 0;
  for (const row of rows) {
    process.stdout.write(`${JSON.stringify({ measure: row.measure, unit: 'instances/s', value: round(row.s.perSecond, 2), mb_per_s: round(row.s.mbPerSecond, 2),
      peak_rss_mb: row.s.peakRssKb === undefined ? null : round(row.s.peakRssKb / 1024, 1), cores: Number(row.cores), failures: row.s.failures,
      samples: row.s.samples, instances: row.count, mb_total: round(bytesFor(row.count) / MB, 1), ...row.extra, ...common, path: row.path })}\n`);
  }
  process.stdout.write(`${JSON.stringify({ measure: 'deid_output_check', unit: 'files', value: input.checks.filter((c) => c.ok).length,
    baseline: input.checks.length, ok: checksOk, first_error: input.firstError,
    checks: input.checks.map((c) => `${c.file}: ${c.ok ? 'ok' : 'FAILED'} (${c.reason})`), path: 'dcmdump of sample outputs' })}\n`);

  process.stdout.write(`\n${textTable(['method', 'instances', 'cores', 'instances/s', 'MB/s', 'peak RSS MB', 'failures', 'note'], rows.map((row) => [
    row.label, String(row.count), row.cores, row.s.perSecond.toFixed(1), row.s.mbPerSecond.toFixed(1), mb(row.s.peakRssKb), String(row.s.failures),
    row.s.inCommandPerSecond === undefined ? '' : `${row.s.inCommandPerSecond.toFixed(0)}/s by its own clock`]))}\n\n`);
  goals.push(['output parses (dcmdump)', `${input.checks.filter((c) => c.ok && !c.file.startsWith('dcmjs') && !c.file.startsWith('orthanc')).length}` +
    `/${input.checks.filter((c) => !c.file.startsWith('dcmjs') && !c.file.startsWith('orthanc')).length} sample outputs`, 'all', checksOk ? 'met' : 'NOT met']);
  process.stdout.write(`${textTable(['goal', 'measured', 'target', ''], goals)}\n`);
  process.stdout.write(`Unique CT slices (new UIDs per copy) in a temp dir, warm page cache; the command's figures include Node start-up, ` +
    `worker start and seal; goals judged on --workers ${goalWorkers}; internal loops on ${input.smallest}. Median of ${options.rounds} rounds ` +
    `(order alternating), peak RSS the largest; MB = 10^6 bytes of input. ${host.cpus} CPUs (${host.cpuModel}), node ${host.node}, Orthanc ${input.orthancVersion}.\n`);
}
