import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../plugin/cli/repo-root.js';
import type { ChildResult } from './deid-child.js';
import { buildCorpus, type CorpusFile } from './deid-corpus.js';
import { OrthancBaseline, type OrthancRun } from './deid-orthanc.js';
import { PoolBench, type PoolRun } from './deid-pool.js';
import { machine, median, round, textTable } from './report.js';
import { validSharedFiles } from './shared-data.js';

/**
 * deid: de-identification throughput over several hundred unique CT slices
 * (issue 4, "Benchmark"), same corpus, same run: this engine through the
 * sealed worker pool and in a single process, Orthanc's own
 * /instances/{id}/anonymize, a plain dcmjs read-modify-write baseline, and
 * `cp` as the I/O limit. Rounds alternate the order of the measurements;
 * throughput is the median over rounds, peak RSS the largest. Goals: pool >=
 * 1.25 x Orthanc's best, >= 0.7 x cp, RSS flat as the corpus grows.
 */

const SOURCE_SERIES = ['tcia-lung-pet-ct-dx/', 'dcm_qa_ct/GE_head/'];
const GOAL_VS_ORTHANC = 1.25;
const GOAL_VS_CP = 0.7;
/** "Flat": the whole corpus peaks at most this much above half of it. */
const GOAL_RSS_GROWTH = 1.10;
const ORTHANC_CONNECTIONS = [1, 2, 4] as const;
const CHILD_SCRIPT = path.join(__dirname, 'deid-child.js');
const MB = 1e6;

type Method = 'cp' | 'pool' | 'pool-bytes' | 'engine' | 'engine-half' | 'dcmjs' | `orthanc-${number}`;

interface Sample {
  readonly perSecond: number;
  readonly mbPerSecond: number;
  readonly peakRssKb: number | undefined;
  readonly failures: number;
  /** CPU seconds per instance, where measured (the pool: driver, workers). */
  readonly cpuMsPerInstance?: { readonly driver: number; readonly workers: number };
}

interface Options {
  readonly dataDir: string;
  readonly count: number;
  readonly rounds: number;
  readonly workers: number;
  readonly profile: string;
  readonly cpuProfDir: string | undefined;
}

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  const value = Number(text ?? String(fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text ?? ''}`);
  return value;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      'data-dir': { type: 'string' }, count: { type: 'string' }, rounds: { type: 'string' }, workers: { type: 'string' },
      profile: { type: 'string' }, 'cpu-prof': { type: 'string' },
    },
  });
  return {
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data')),
    count: positiveInteger('count', values.count, 400),
    rounds: positiveInteger('rounds', values.rounds, 3),
    workers: positiveInteger('workers', values.workers, os.cpus().length),
    profile: values.profile ?? 'research',
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
  };
}

function freshDir(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function runChild(nodeArgs: readonly string[], args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeArgs, CHILD_SCRIPT, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`deid-child ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as ChildResult);
    });
  });
}

/** `cp -r` of the corpus under /usr/bin/time, for its own peak RSS. */
function runCp(from: string, to: string): Promise<{ seconds: number; peakRssKb: number | undefined }> {
  fs.rmSync(to, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile('/usr/bin/time', ['-f', 'maxrss=%M', 'cp', '-r', from, to], (error, _stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (error !== null) {
        reject(new Error(`cp -r failed: ${error.message}\n${stderr}`));
        return;
      }
      const rss = /maxrss=(\d+)/.exec(stderr)?.[1];
      resolve({ seconds, peakRssKb: rss === undefined ? undefined : Number(rss) });
    });
  });
}

interface DumpCheck { readonly file: string; readonly ok: boolean; readonly reason: string }

/** The output must parse (dcmdump, no errors) and carry a new SOP Instance UID and no original patient name. */
function dumpCheck(label: string, file: string, original: CorpusFile | undefined): DumpCheck {
  if (file === '') return { file: label, ok: false, reason: 'no output' };
  const dump = spawnSync('dcmdump', [file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const name = `${label} ${path.basename(file)}`;
  if (dump.status !== 0 || /^E: /m.test(dump.stderr)) return { file: name, ok: false, reason: `dcmdump: ${dump.stderr.trim().split('\n')[0] ?? `status ${String(dump.status)}`}` };
  const sop = /^\(0008,0018\) UI \[([^\]]*)\]/m.exec(dump.stdout)?.[1];
  const patient = /^\(0010,0010\) PN \[([^\]]*)\]/m.exec(dump.stdout)?.[1];
  if (sop === undefined) return { file: name, ok: false, reason: 'no SOP Instance UID' };
  if (original !== undefined && sop === original.sopInstanceUid) return { file: name, ok: false, reason: 'SOP Instance UID unchanged' };
  if (original !== undefined && original.patientName !== '' && patient === original.patientName) {
    return { file: name, ok: false, reason: 'patient name unchanged' };
  }
  return { file: name, ok: true, reason: `parses; SOP UID ${sop.slice(0, 12)}...; PatientName ${patient === undefined ? 'absent' : `[${patient}]`}` };
}

function sampleIndexes(count: number): number[] {
  return [...new Set([0, Math.floor(count / 2), count - 1])];
}

function mb(kb: number | undefined): string {
  return kb === undefined ? 'n/a' : (kb / 1024).toFixed(0);
}

export async function runDeidBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const sources = validSharedFiles(options.dataDir)
    .filter((f) => SOURCE_SERIES.some((s) => path.relative(options.dataDir, f).startsWith(s)))
    .sort();
  if (sources.length === 0) throw new Error(`no CT slices of ${SOURCE_SERIES.join(', ')} in ${options.dataDir}`);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-deid-'));
  let pool: PoolBench | undefined;
  let orthanc: OrthancBaseline | undefined;
  try {
    const corpusDir = freshDir(path.join(root, 'corpus'));
    const builtAt = process.hrtime.bigint();
    const corpus = buildCorpus(sources, options.count, corpusDir);
    const corpusBytes = corpus.reduce((sum, f) => sum + f.sizeBytes, 0);
    const manifest = path.join(root, 'corpus.json');
    fs.writeFileSync(manifest, JSON.stringify(corpus));
    const half = Math.max(1, Math.floor(corpus.length / 2));
    const halfBytes = corpus.slice(0, half).reduce((sum, f) => sum + f.sizeBytes, 0);
    process.stderr.write(`deid: corpus of ${corpus.length} unique instances (${(corpusBytes / MB).toFixed(1)} MB) from ${sources.length} ` +
      `CT slices in ${(Number(process.hrtime.bigint() - builtAt) / 1e9).toFixed(1)} s; ${options.rounds} rounds; ` +
      `pool of ${options.workers} workers, profile ${options.profile}\n`);

    const keyFile = path.join(root, 'phi', 'site.key');
    const poolDir = freshDir(path.join(root, 'deid-pool'));
    pool = new PoolBench(options.workers, options.profile, poolDir, keyFile);
    const startPool = pool.start();
    orthanc = await OrthancBaseline.start(corpus);
    await startPool;
    process.stderr.write(`deid: ${pool.workers} sealed workers ready; Orthanc ${orthanc.version} holds the corpus\n`);

    const samples = new Map<Method, Sample[]>();
    const add = (method: Method, sample: Sample): void => {
      samples.set(method, [...(samples.get(method) ?? []), sample]);
      process.stderr.write(`  ${method}: ${sample.perSecond.toFixed(1)} instances/s, ${sample.mbPerSecond.toFixed(1)} MB/s, ` +
        `peak RSS ${mb(sample.peakRssKb)} MB${sample.failures > 0 ? `, ${sample.failures} FAILED` : ''}` +
      `${sample.cpuMsPerInstance === undefined ? '' : `; CPU per instance: driver ${sample.cpuMsPerInstance.driver.toFixed(2)} ms, ` +
        `workers ${sample.cpuMsPerInstance.workers.toFixed(2)} ms`}\n`);
    };
    const fromSeconds = (instances: number, bytes: number, seconds: number, peakRssKb: number | undefined, failures: number): Sample =>
      ({ perSecond: instances / seconds, mbPerSecond: bytes / MB / seconds, peakRssKb, failures });

    let poolOutputs: readonly string[] = [];
    let engineOutputs: readonly string[] = [];
    let dcmjsOutputs: readonly string[] = [];
    let firstError: string | null = null;
    const engineOut = path.join(root, 'engine-out');
    const childArgs = (mode: string, count: number, out: string): string[] =>
      ['--mode', mode, '--manifest', manifest, '--count', String(count), '--out', freshDir(out), '--key', keyFile,
        '--profile', options.profile, '--warmup', '10'];
    const steps: { readonly name: string; readonly run: () => Promise<void> }[] = [
      { name: 'cp', run: async () => {
        const r = await runCp(corpusDir, path.join(root, 'cp-out'));
        add('cp', fromSeconds(corpus.length, corpusBytes, r.seconds, r.peakRssKb, 0));
      } },
      { name: 'pool', run: async () => {
        const p = pool;
        if (p === undefined) return;
        p.clearOutputs();
        const r: PoolRun = await p.run(corpus, 4 * p.workers, 2 * p.workers, 'path');
        const peaks = p.workerPeakRssKb();
        poolOutputs = r.outputs;
        firstError ??= r.firstError;
        add('pool', { ...fromSeconds(r.instances, r.bytesIn, r.seconds, peaks.reduce((s, v) => s + v, 0), r.failures),
          cpuMsPerInstance: { driver: (1000 * r.cpu.driver) / r.instances, workers: (1000 * r.cpu.workers) / r.instances } });
      } },
      { name: 'pool-bytes', run: async () => {
        const p = pool;
        if (p === undefined) return;
        p.clearOutputs();
        const r: PoolRun = await p.run(corpus, 4 * p.workers, 2 * p.workers, 'bytes');
        firstError ??= r.firstError;
        add('pool-bytes', { ...fromSeconds(r.instances, r.bytesIn, r.seconds, undefined, r.failures),
          cpuMsPerInstance: { driver: (1000 * r.cpu.driver) / r.instances, workers: (1000 * r.cpu.workers) / r.instances } });
      } },
      { name: 'engine', run: async () => {
        const r = await runChild([], childArgs('engine', corpus.length, engineOut));
        engineOutputs = r.outputs;
        firstError ??= r.firstError;
        add('engine', fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
      } },
      { name: 'engine-half', run: async () => {
        const r = await runChild([], childArgs('engine', half, path.join(root, 'engine-half-out')));
        firstError ??= r.firstError;
        add('engine-half', fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
      } },
      { name: 'dcmjs', run: async () => {
        const r = await runChild([], childArgs('dcmjs', corpus.length, path.join(root, 'dcmjs-out')));
        dcmjsOutputs = r.outputs;
        firstError ??= r.firstError;
        add('dcmjs', fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
      } },
      { name: 'orthanc', run: async () => {
        for (const connections of ORTHANC_CONNECTIONS) {
          const r: OrthancRun | undefined = await orthanc?.run(connections, 2 * connections);
          if (r === undefined) continue;
          add(`orthanc-${connections}`, fromSeconds(r.instances, corpusBytes, r.seconds, r.peakRssKb, r.failures));
        }
      } },
    ];
    for (let r = 0; r < options.rounds; r++) {
      process.stderr.write(`round ${r + 1}/${options.rounds}\n`);
      for (const step of r % 2 === 0 ? steps : [...steps].reverse()) await step.run();
    }

    // A bench of broken output is worthless: the last outputs of each method must parse and be changed.
    const checks: DumpCheck[] = [];
    for (const i of sampleIndexes(corpus.length)) {
      checks.push(dumpCheck('pool', poolOutputs[i] ?? '', corpus[i]));
      checks.push(dumpCheck('engine', engineOutputs[i] ?? '', corpus[i]));
    }
    checks.push(dumpCheck('dcmjs', dcmjsOutputs[0] ?? '', corpus[0]));
    const orthancSample = path.join(root, 'orthanc-sample.dcm');
    fs.writeFileSync(orthancSample, await orthanc.sample(0));
    checks.push(dumpCheck('orthanc', orthancSample, corpus[0]));
    const engineChecksOk = checks.filter((c) => c.file.startsWith('pool') || c.file.startsWith('engine')).every((c) => c.ok);
    for (const c of checks) process.stderr.write(`  check ${c.file}: ${c.ok ? 'ok' : 'FAILED'} (${c.reason})\n`);

    if (options.cpuProfDir !== undefined) {
      fs.mkdirSync(options.cpuProfDir, { recursive: true });
      await runChild(['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir], childArgs('engine', corpus.length, engineOut));
      process.stderr.write(`deid: CPU profile of the in-process engine over the corpus in ${options.cpuProfDir}\n`);
    }

    const orthancVersion = orthanc.version;
    const workers = pool.workers;
    await pool.stop();
    pool = undefined;
    await orthanc.stop();
    orthanc = undefined;

    report({ options, corpus, corpusBytes, half, halfBytes, samples, checks, engineChecksOk, firstError, orthancVersion, workers });
  } finally {
    await pool?.stop();
    await orthanc?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

interface ReportInput {
  readonly options: Options;
  readonly corpus: readonly CorpusFile[];
  readonly corpusBytes: number;
  readonly half: number;
  readonly halfBytes: number;
  readonly samples: ReadonlyMap<Method, readonly Sample[]>;
  readonly checks: readonly DumpCheck[];
  readonly engineChecksOk: boolean;
  readonly firstError: string | null;
  readonly orthancVersion: string;
  readonly workers: number;
}

function report(input: ReportInput): void {
  const { options, corpus, samples, orthancVersion, workers } = input;
  const host = machine();
  const stat = (method: Method): { perSecond: number; mbPerSecond: number; peakRssKb: number | undefined; failures: number; perSecondSamples: number[] } => {
    const list = samples.get(method) ?? [];
    const peaks = list.map((s) => s.peakRssKb).filter((v): v is number => v !== undefined);
    return {
      perSecond: median(list.map((s) => s.perSecond)), mbPerSecond: median(list.map((s) => s.mbPerSecond)),
      peakRssKb: peaks.length === 0 ? undefined : Math.max(...peaks), failures: list.reduce((sum, s) => sum + s.failures, 0),
      perSecondSamples: list.map((s) => round(s.perSecond, 1)),
    };
  };
  const orthancStats = ORTHANC_CONNECTIONS.map((c) => ({ connections: c, ...stat(`orthanc-${c}`) }));
  const orthancBest = orthancStats.reduce((best, s) => (s.perSecond > best.perSecond ? s : best));
  const cp = stat('cp');
  const poolStat = stat('pool');
  const engine = stat('engine');
  const engineHalf = stat('engine-half');
  const vsOrthanc = poolStat.perSecond / orthancBest.perSecond;
  const vsCp = poolStat.perSecond / cp.perSecond;
  const rssGrowth = (engine.peakRssKb ?? Number.NaN) / (engineHalf.peakRssKb ?? Number.NaN);
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, orthanc: orthancVersion,
    instances: corpus.length, mb_total: round(input.corpusBytes / MB, 1), rounds: options.rounds, profile: options.profile };

  const rows: { measure: string; label: string; cores: string; path: string; s: ReturnType<typeof stat>; extra: Record<string, unknown> }[] = [
    { measure: 'deid_engine_pool', label: `engine, worker pool (${workers} sealed workers)`, cores: String(workers),
      path: `DeidWorkerPool, ${workers} workers, profile ${options.profile} with text pass, ${4 * workers} in flight: path -> worker parses the header, splices the pixel data file to file`,
      s: poolStat, extra: {
        baselines: { orthanc_best: round(orthancBest.perSecond, 2), orthanc_best_connections: orthancBest.connections, cp: round(cp.perSecond, 2) },
        ratio: { orthanc_best: round(vsOrthanc, 3), cp: round(vsCp, 3) }, goals: { orthanc_best: GOAL_VS_ORTHANC, cp: GOAL_VS_CP },
        rss: 'sum of the workers\' VmHWM',
        cpu_ms_per_instance: (samples.get('pool') ?? []).map((p) => ({ driver: round(p.cpuMsPerInstance?.driver ?? 0, 2), workers: round(p.cpuMsPerInstance?.workers ?? 0, 2) })) } },
    { measure: 'deid_engine_pool_bytes', label: `engine, worker pool, bytes in frames`, cores: String(workers),
      path: `as above, but the driver reads each file and sends its bytes in the frame (the gateway's path with bytes from Orthanc)`,
      s: stat('pool-bytes'), extra: {
        ratio: { orthanc_best: round(stat('pool-bytes').perSecond / orthancBest.perSecond, 3), cp: round(stat('pool-bytes').perSecond / cp.perSecond, 3) },
        cpu_ms_per_instance: (samples.get('pool-bytes') ?? []).map((p) => ({ driver: round(p.cpuMsPerInstance?.driver ?? 0, 2), workers: round(p.cpuMsPerInstance?.workers ?? 0, 2) })) } },
    { measure: 'deid_engine_inprocess', label: 'engine, in-process loop', cores: '1',
      path: `deidentifyFile loop in one Node process, profile ${options.profile}: header parsed, pixel data spliced file to file`, s: engine,
      extra: { baselines: { orthanc_best: round(orthancBest.perSecond, 2), cp: round(cp.perSecond, 2) },
        ratio: { orthanc_best: round(engine.perSecond / orthancBest.perSecond, 3), cp: round(engine.perSecond / cp.perSecond, 3) },
        rss: 'process.resourceUsage().maxRSS' } },
    ...orthancStats.map((o) => ({ measure: `deid_orthanc_anonymize_c${o.connections}`, label: `Orthanc anonymize, ${o.connections} conn.`,
      cores: String(host.cpus), path: `POST /instances/{id}/anonymize {} over ${o.connections} keep-alive connection(s), file returned, not stored`,
      s: o, extra: { rss: 'Orthanc VmHWM, reset before the run', best: o === orthancBest } })),
    { measure: 'deid_dcmjs_baseline', label: 'dcmjs read-modify-write', cores: '1',
      path: 'bench/deid-dcmjs.ts: readFile, naturalize, identifier map + UID map, denaturalize, write', s: stat('dcmjs'),
      extra: { rss: 'process.resourceUsage().maxRSS' } },
    { measure: 'deid_cp', label: 'cp -r (I/O limit)', cores: '1', path: 'cp -r corpus dir to another dir', s: cp,
      extra: { rss: '/usr/bin/time %M' } },
  ];
  for (const row of rows) {
    const line = { measure: row.measure, unit: 'instances/s', value: round(row.s.perSecond, 2), mb_per_s: round(row.s.mbPerSecond, 2),
      peak_rss_mb: row.s.peakRssKb === undefined ? null : round(row.s.peakRssKb / 1024, 1), cores: Number(row.cores),
      failures: row.s.failures, samples: row.s.perSecondSamples, ...row.extra, ...common, path: row.path };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  const rssLine = { measure: 'deid_engine_rss_flat', unit: 'MB', value: round((engine.peakRssKb ?? 0) / 1024, 1),
    baseline: round((engineHalf.peakRssKb ?? 0) / 1024, 1), ratio: round(rssGrowth, 3), goal: GOAL_RSS_GROWTH,
    instances: corpus.length, baseline_instances: input.half, half_instances_per_s: round(engineHalf.perSecond, 2),
    cpus: host.cpus, node: host.node, path: 'peak RSS of the in-process engine over the whole corpus vs its first half' };
  process.stdout.write(`${JSON.stringify(rssLine)}\n`);
  const checkLine = { measure: 'deid_output_check', unit: 'files', value: input.checks.filter((c) => c.ok).length,
    baseline: input.checks.length, ok: input.engineChecksOk, first_error: input.firstError,
    checks: input.checks.map((c) => `${c.file}: ${c.ok ? 'ok' : 'FAILED'} (${c.reason})`), path: 'dcmdump of sample outputs' };
  process.stdout.write(`${JSON.stringify(checkLine)}\n`);

  process.stdout.write(`\n${textTable(['method', 'cores', 'instances/s', 'MB/s', 'peak RSS MB', 'failures'], rows.map((row) => [
    `${row.label}${row.extra['best'] === true ? ' (best)' : ''}`, row.cores, row.s.perSecond.toFixed(1), row.s.mbPerSecond.toFixed(1),
    mb(row.s.peakRssKb), String(row.s.failures)]))}\n\n`);
  const verdict = (ok: boolean): string => (ok && input.engineChecksOk ? 'met' : 'NOT met');
  process.stdout.write(`${textTable(['goal', 'measured', 'target', ''], [
    ['engine pool / Orthanc best', `${vsOrthanc.toFixed(2)}x (${poolStat.perSecond.toFixed(0)} vs ${orthancBest.perSecond.toFixed(0)}/s at ${orthancBest.connections} conn.)`,
      `>= ${GOAL_VS_ORTHANC}x`, verdict(vsOrthanc >= GOAL_VS_ORTHANC)],
    ['engine pool / cp', `${vsCp.toFixed(2)}x (${poolStat.perSecond.toFixed(0)} vs ${cp.perSecond.toFixed(0)}/s)`, `>= ${GOAL_VS_CP}x`, verdict(vsCp >= GOAL_VS_CP)],
    ['RSS flat (in-process engine)', `${mb(engineHalf.peakRssKb)} MB at ${input.half} -> ${mb(engine.peakRssKb)} MB at ${corpus.length} instances (${rssGrowth.toFixed(2)}x)`,
      `<= ${GOAL_RSS_GROWTH.toFixed(2)}x`, verdict(rssGrowth <= GOAL_RSS_GROWTH)],
    ['engine output parses (dcmdump)', `${input.checks.filter((c) => c.ok && !c.file.startsWith('dcmjs') && !c.file.startsWith('orthanc')).length}` +
      `/${input.checks.filter((c) => !c.file.startsWith('dcmjs') && !c.file.startsWith('orthanc')).length} sample outputs`, 'all', input.engineChecksOk ? 'met' : 'NOT met'],
  ])}\n`);
  process.stdout.write(`${corpus.length} unique CT slices (${(input.corpusBytes / MB).toFixed(1)} MB, new UIDs per copy) in a temp dir, warm page cache; ` +
    `median of ${options.rounds} rounds (order alternating), peak RSS the largest; MB = 10^6 bytes of input. ` +
    `${host.cpus} CPUs (${host.cpuModel}), node ${host.node}, Orthanc ${orthancVersion}.\n`);
}
