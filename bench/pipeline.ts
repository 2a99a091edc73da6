import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { repoRoot } from '../plugin/cli/repo-root.js';
import { buildCorpus, ctSliceSources, type CorpusFile } from './deid-corpus.js';
import { processTree, type TreeProcess } from './process-tree.js';
import { machine, median, round, textTable } from './report.js';
import { lanes, post } from './rest-upload.js';

/**
 * pipeline: the plugin as a site runs it (issue 14). N unique CT slices (new
 * UIDs per copy; 1,500 by default, 10,000 for the sustained case) are POSTed
 * to /instances over 4 keep-alive connections into a fresh Orthanc with the
 * plugin (product defaults, DeidWorkers 2) and, in the same run, into a fresh
 * Orthanc with the same plugin loaded and `AiBridge.Enable: false`. Measured:
 * the ingest rates and their ratio; the lag from the last store (the last
 * POST answered) until every instance job is settled (done or quarantined,
 * by /ai-bridge/health); instances de-identified per second; the RSS of the
 * gateway and of each process it started (/proc, walking its children) once
 * `checkpoint` jobs are settled and at the end.
 */

const GOAL_INGEST_RATIO = 0.95;
const GOAL_LAG_S = 2;
const GOAL_RSS_MB = 400;
/** "Flat": the end at most this much above the checkpoint. */
const GOAL_RSS_GROWTH = 1.10;
const CHECKPOINT = 1000;
const MB = 1e6;

interface Options {
  readonly dataDir: string;
  /** Each size is its own run and table (--count 1500,10000); the corpus is built once, for the largest. */
  readonly counts: readonly number[];
  readonly connections: number;
  readonly deidWorkers: number;
  readonly rounds: number;
  /** undefined: 300 s plus 0.1 s per instance of the size being run. */
  readonly settleTimeoutS: number | undefined;
  /** Plugin settings over the product defaults for the run with the plugin (--ai-bridge '{"Annotate":false}'). */
  readonly aiBridge: Readonly<Record<string, unknown>>;
}

interface Health {
  readonly gatewayPid: number;
  readonly jobs: Readonly<Record<string, number>>;
  readonly annotations: Readonly<Record<string, number>>;
  readonly deid: { readonly readyWorkers: number };
  /** null when annotation is off. */
  readonly annotator: { readonly processes: number; readonly ready: number } | null;
}

interface IngestRun {
  readonly stored: number; readonly failed: number; readonly seconds: number; readonly perSecond: number; readonly lastStoredAt: bigint; readonly startedAt: bigint;
  /** Share of the machine's CPU time left idle (idle + iowait, /proc/stat) while the instances were POSTed: the headroom the plugin has without slowing Orthanc. */
  readonly idleShare: number;
  /** Orthanc's own CPU (user + system) per stored instance, ms. */
  readonly orthancCpuMs: number;
}

/** Jiffies of all CPUs: [idle + iowait, total] (/proc/stat, first line). */
function cpuJiffies(): [number, number] {
  const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return [(fields[3] ?? 0) + (fields[4] ?? 0), total];
}

/** CPU seconds (user + system) a process has used; 0 when it is gone. */
function processCpuS(pid: number | undefined): number {
  return pid === undefined ? 0 : processTree(pid)[0]?.cpuS ?? 0;
}

interface RssSnapshot {
  readonly settled: number;
  /** cpuS: CPU seconds the process has used since it started. */
  readonly processes: readonly { readonly role: string; readonly pid: number; readonly rssKb: number; readonly cpuS: number }[];
  readonly totalKb: number;
  /** Proportional set size, summed: what the processes really hold, pages shared between them (the node binary) counted once. */
  readonly pssKb: number;
}

interface EnabledRun extends IngestRun {
  readonly lagS: number | undefined;
  /** Jobs not yet settled when the last store was answered. */
  readonly backlogAtLastStore: number;
  /** Jobs settled, polled every 100 ms from the last store on. */
  readonly drain: readonly { readonly s: number; readonly settled: number }[];
  readonly deidentifiedPerSecond: number;
  readonly jobs: Readonly<Record<string, number>>;
  readonly annotations: Readonly<Record<string, number>>;
  readonly atCheckpoint: RssSnapshot | undefined;
  readonly atEnd: RssSnapshot;
  readonly orthancRssKb: number;
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
      'data-dir': { type: 'string' }, count: { type: 'string' }, connections: { type: 'string' }, 'deid-workers': { type: 'string' },
      rounds: { type: 'string' }, 'settle-timeout': { type: 'string' }, 'ai-bridge': { type: 'string' },
    },
  });
  const aiBridge = JSON.parse(values['ai-bridge'] ?? '{}') as unknown;
  if (typeof aiBridge !== 'object' || aiBridge === null || Array.isArray(aiBridge)) throw new Error(`--ai-bridge must be a JSON object, got ${values['ai-bridge'] ?? ''}`);
  const counts = [...new Set((values.count ?? '1500').split(',').map((c) => positiveInteger('count', c.trim(), 1500)))].sort((a, b) => a - b);
  return {
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data')),
    counts,
    connections: positiveInteger('connections', values.connections, 4),
    deidWorkers: positiveInteger('deid-workers', values['deid-workers'], 2),
    rounds: positiveInteger('rounds', values.rounds, 1),
    settleTimeoutS: values['settle-timeout'] === undefined ? undefined : positiveInteger('settle-timeout', values['settle-timeout'], 300),
    aiBridge: aiBridge as Record<string, unknown>,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function seconds(from: bigint, to: bigint): number {
  return Number(to - from) / 1e9;
}

async function health(orthanc: RunningOrthanc): Promise<Health | undefined> {
  const res = await orthanc.request('GET', '/ai-bridge/health').catch(() => undefined);
  return res?.status === 200 ? JSON.parse(res.body.toString('utf8')) as Health : undefined;
}

function settledJobs(h: Health): number {
  return (h.jobs['done'] ?? 0) + (h.jobs['quarantined'] ?? 0);
}

function pendingJobs(h: Health): number {
  return (h.jobs['queued'] ?? 0) + (h.jobs['running'] ?? 0) + (h.jobs['retrying'] ?? 0);
}

function role(p: TreeProcess): string {
  if (p.command.includes('worker-main.js')) return 'de-id worker';
  if (p.command.includes('annotator-main.js')) return 'annotator';
  if (p.command.includes(path.join('gateway', 'main.js'))) return 'gateway';
  return path.basename(p.command.split(' ')[1] ?? p.command.split(' ')[0] ?? 'process');
}

function snapshot(gatewayPid: number, settled: number): RssSnapshot {
  const tree = processTree(gatewayPid);
  const processes = tree.map((p) => ({ role: role(p), pid: p.pid, rssKb: p.rssKb, cpuS: p.cpuS }));
  return { settled, processes, totalKb: processes.reduce((s, p) => s + p.rssKb, 0), pssKb: tree.reduce((s, p) => s + p.pssKb, 0) };
}

/** Every file POSTed once over `connections` keep-alive connections, read from disk as it goes (warm page cache). */
async function ingest(orthanc: RunningOrthanc, corpus: readonly CorpusFile[], connections: number): Promise<IngestRun> {
  // The previous run's files (hundreds of MB, just removed) and the corpus are written back first: otherwise
  // the kernel's writeback of one run throttles the next one's stores, whichever of the two it is.
  execFileSync('sync');
  const [idleBefore, totalBefore] = cpuJiffies();
  const orthancBefore = processCpuS(orthanc.pid());
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let stored = 0;
  let failed = 0;
  let lastStoredAt = process.hrtime.bigint();
  const startedAt = process.hrtime.bigint();
  await lanes(connections, corpus.length, async (i) => {
    const file = corpus[i];
    if (file === undefined) return;
    const reply = await post(agent, orthanc.httpPort, '/instances', await fs.promises.readFile(file.file), 'application/dicom');
    if (reply.status === 200) {
      stored++;
      lastStoredAt = process.hrtime.bigint();
    } else failed++;
  });
  agent.destroy();
  const total = seconds(startedAt, lastStoredAt);
  const [idleAfter, totalAfter] = cpuJiffies();
  const orthancCpuMs = stored === 0 ? 0 : ((processCpuS(orthanc.pid()) - orthancBefore) * 1000) / stored;
  return { stored, failed, seconds: total, perSecond: stored / total, lastStoredAt, startedAt,
    idleShare: totalAfter > totalBefore ? (idleAfter - idleBefore) / (totalAfter - totalBefore) : 0, orthancCpuMs };
}

async function runDisabled(corpus: readonly CorpusFile[], options: Options, root: string): Promise<IngestRun> {
  const orthanc = await startOrthanc({ dataDir: path.join(root, 'disabled'), aiBridge: { Enable: false } });
  try {
    return await ingest(orthanc, corpus, options.connections);
  } finally {
    await orthanc.stop();
    fs.rmSync(path.join(root, 'disabled'), { recursive: true, force: true });
  }
}

async function runEnabled(corpus: readonly CorpusFile[], options: Options, root: string): Promise<EnabledRun> {
  const orthanc = await startOrthanc({ dataDir: path.join(root, 'enabled'), aiBridge: { DeidWorkers: options.deidWorkers, ...options.aiBridge } });
  try {
    const readyBy = Date.now() + 120_000;
    let ready = await health(orthanc);
    // Steady state, as a site runs it: every worker and the annotator ready (its bundled models installed and
    // commissioned, which is inference), not still starting while the burst arrives.
    const started = (h: Health): boolean => h.deid.readyWorkers >= options.deidWorkers && (h.annotator === null || h.annotator.ready >= h.annotator.processes);
    while (ready === undefined || !started(ready)) {
      if (Date.now() > readyBy) throw new Error(`the plugin had ${ready?.deid.readyWorkers ?? 0}/${options.deidWorkers} de-id workers and ${ready?.annotator?.ready ?? 0} annotator(s) ready after 120 s`);
      await sleep(250);
      ready = await health(orthanc);
    }
    const gatewayPid = ready.gatewayPid;
    const checkpoint = Math.min(CHECKPOINT, Math.floor((2 * corpus.length) / 3));
    let atCheckpoint: RssSnapshot | undefined;
    let last: Health = ready;
    const phase = { ingesting: true };
    // Health is polled through Orthanc's REST API: slowly while Orthanc is storing, so the poll itself costs little.
    const watch = (async (): Promise<void> => {
      for (;;) {
        const h = await health(orthanc);
        if (h !== undefined) {
          last = h;
          if (atCheckpoint === undefined && settledJobs(h) >= checkpoint) atCheckpoint = snapshot(gatewayPid, settledJobs(h));
        }
        if (!phase.ingesting) return;
        await sleep(500);
      }
    })();
    const run = await ingest(orthanc, corpus, options.connections);
    phase.ingesting = false;
    await watch;
    // Where the lag comes from: the jobs still open when the last store was answered, and how fast they drain.
    last = (await health(orthanc)) ?? last;
    const backlogAtLastStore = run.stored - settledJobs(last);
    const drain: { s: number; settled: number }[] = [];
    const deadline = Date.now() + (options.settleTimeoutS ?? 300 + Math.ceil(corpus.length / 10)) * 1000;
    let settledAt: bigint | undefined;
    for (;;) {
      if (settledJobs(last) >= run.stored && pendingJobs(last) === 0) {
        settledAt = process.hrtime.bigint();
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
      last = (await health(orthanc)) ?? last;
      drain.push({ s: seconds(run.lastStoredAt, process.hrtime.bigint()), settled: settledJobs(last) });
      if (atCheckpoint === undefined && settledJobs(last) >= checkpoint) atCheckpoint = snapshot(gatewayPid, settledJobs(last));
    }
    const atEnd = snapshot(gatewayPid, settledJobs(last));
    const orthancPid = orthanc.pid();
    const orthancRssKb = orthancPid === undefined ? 0 : processTree(orthancPid)[0]?.rssKb ?? 0;
    const done = last.jobs['done'] ?? 0;
    return { ...run, lagS: settledAt === undefined ? undefined : seconds(run.lastStoredAt, settledAt),
      deidentifiedPerSecond: done / seconds(run.startedAt, settledAt ?? process.hrtime.bigint()),
      jobs: last.jobs, annotations: last.annotations, atCheckpoint, atEnd, orthancRssKb, backlogAtLastStore, drain };
  } finally {
    await orthanc.stop();
    fs.rmSync(path.join(root, 'enabled'), { recursive: true, force: true });
  }
}

/** Jobs settled at each whole second after the last store: how the backlog drains. */
function drainCells(drain: EnabledRun['drain']): string {
  const cells: string[] = [];
  for (let second = 1; ; second++) {
    const at = drain.filter((d) => d.s <= second).at(-1);
    if (at === undefined || drain.at(-1) === at) break;
    cells.push(`+${second} s: ${at.settled}`);
  }
  return cells.length === 0 ? 'drained within 1 s' : `settled ${cells.join(', ')}`;
}

function mb(kb: number | undefined): string {
  return kb === undefined ? 'n/a' : (kb / 1024).toFixed(0);
}

function rssCells(s: RssSnapshot | undefined): string {
  if (s === undefined) return 'n/a';
  return s.processes.map((p) => `${p.role} ${mb(p.rssKb)}`).join(', ');
}

export async function runPipelineBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const sources = ctSliceSources(options.dataDir);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-pipeline-'));
  try {
    const corpusDir = path.join(root, 'corpus');
    fs.mkdirSync(corpusDir);
    const all = buildCorpus(sources, Math.max(...options.counts), corpusDir);
    for (const count of options.counts) await runCount(all.slice(0, count), options, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** One size: rounds alternating plugin / Enable false, then its table. */
async function runCount(corpus: readonly CorpusFile[], options: Options, root: string): Promise<void> {
  const corpusBytes = corpus.reduce((s, f) => s + f.sizeBytes, 0);
  process.stderr.write(`pipeline: ${corpus.length} unique CT slices (${(corpusBytes / MB).toFixed(0)} MB), ${options.connections} connections, ` +
    `DeidWorkers ${options.deidWorkers}, ${options.rounds} round(s)\n`);
  const disabled: IngestRun[] = [];
  const enabled: EnabledRun[] = [];
  for (let r = 0; r < options.rounds; r++) {
    for (const which of r % 2 === 0 ? ['disabled', 'enabled'] as const : ['enabled', 'disabled'] as const) {
      if (which === 'disabled') {
        const d = await runDisabled(corpus, options, root);
        disabled.push(d);
        process.stderr.write(`  round ${r + 1} Enable false: ${d.stored} stored in ${d.seconds.toFixed(1)} s = ${d.perSecond.toFixed(1)}/s\n`);
      } else {
        const e = await runEnabled(corpus, options, root);
        enabled.push(e);
        process.stderr.write(`  round ${r + 1} plugin: ${e.stored} stored in ${e.seconds.toFixed(1)} s = ${e.perSecond.toFixed(1)}/s; ` +
          `settled ${e.lagS === undefined ? 'NEVER' : `${e.lagS.toFixed(1)} s`} after the last store; ${e.deidentifiedPerSecond.toFixed(1)} de-identified/s; ` +
          `${e.backlogAtLastStore} open at the last store (${drainCells(e.drain)}); jobs ${JSON.stringify(e.jobs)}; RSS at ${e.atCheckpoint?.settled ?? '-'}: ${rssCells(e.atCheckpoint)}; at end: ${rssCells(e.atEnd)}\n`);
      }
    }
  }
  report(options, corpus.length, corpusBytes, disabled, enabled);
}

function report(options: Options, count: number, bytes: number, disabled: readonly IngestRun[], enabled: readonly EnabledRun[]): void {
  const host = machine();
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, instances: count, mb_total: round(bytes / MB, 1),
    connections: options.connections, deid_workers: options.deidWorkers, rounds: options.rounds, ai_bridge: options.aiBridge };
  const withPlugin = median(enabled.map((e) => e.perSecond));
  const without = median(disabled.map((d) => d.perSecond));
  const ratio = withPlugin / without;
  // Each round's pair (the two sides run back to back): how far one round strays from another on this machine.
  const roundRatios = enabled.map((e, i) => e.perSecond / (disabled[i]?.perSecond ?? Number.NaN));
  const spread = (values: readonly number[], digits: number): string => (values.length > 1 ? `; rounds ${values.map((v) => v.toFixed(digits)).join(', ')}` : '');
  const lags = enabled.map((e) => e.lagS ?? Number.POSITIVE_INFINITY);
  const lag = median(lags);
  const deidRate = median(enabled.map((e) => e.deidentifiedPerSecond));
  // The run with the largest end total speaks for memory (the worst case).
  const worst = enabled.reduce((a, b) => (b.atEnd.totalKb > a.atEnd.totalKb ? b : a));
  const growth = worst.atEnd.totalKb / (worst.atCheckpoint?.totalKb ?? Number.NaN);
  // The floor the 2 goals leave on this machine: the instance jobs' CPU (gateway and de-id workers; the annotator
  // only takes idle CPU) must fit in what Orthanc leaves idle during the burst plus what the lag adds on every CPU.
  const jobCpuS = median(enabled.map((e) => e.atEnd.processes.filter((p) => p.role !== 'annotator').reduce((sum, p) => sum + p.cpuS, 0)));
  const idleCpuS = median(disabled.map((d) => d.idleShare)) * host.cpus * median(disabled.map((d) => d.seconds));
  const lagFloorS = Math.max(0, (jobCpuS - idleCpuS) / host.cpus);
  const lines = [
    { measure: 'pipeline_ingest', unit: 'instances/s', value: round(withPlugin, 2), baseline: round(without, 2), ratio: round(ratio, 3), goal: GOAL_INGEST_RATIO,
      samples: enabled.map((e) => round(e.perSecond, 1)), baseline_samples: disabled.map((d) => round(d.perSecond, 1)), round_ratios: roundRatios.map((r) => round(r, 3)),
      failures: enabled.reduce((s, e) => s + e.failed, 0) + disabled.reduce((s, d) => s + d.failed, 0), ...common,
      path: `POST /instances over ${options.connections} keep-alive connections: fresh Orthanc with the plugin vs fresh Orthanc with AiBridge.Enable false` },
    { measure: 'pipeline_settle_lag', unit: 's', value: Number.isFinite(lag) ? round(lag, 2) : null, goal: GOAL_LAG_S, samples: lags.map((l) => (Number.isFinite(l) ? round(l, 2) : null)),
      open_at_last_store: enabled.map((e) => e.backlogAtLastStore), jobs: enabled.map((e) => e.jobs), annotations: enabled.map((e) => e.annotations), ...common,
      path: 'last POST /instances answered -> /ai-bridge/health shows every instance job done or quarantined (polled every 100 ms)' },
    { measure: 'pipeline_deidentified', unit: 'instances/s', value: round(deidRate, 2), samples: enabled.map((e) => round(e.deidentifiedPerSecond, 1)), ...common,
      path: 'jobs done / (first POST -> every job settled)' },
    { measure: 'pipeline_headroom', unit: 's', value: round(lagFloorS, 2), job_cpu_s: round(jobCpuS, 2), idle_cpu_s_during_burst: round(idleCpuS, 2),
      idle_share_without_plugin: round(median(disabled.map((d) => d.idleShare)), 3),
      orthanc_cpu_ms_per_instance: { without_plugin: round(median(disabled.map((d) => d.orthancCpuMs)), 2), with_plugin: round(median(enabled.map((e) => e.orthancCpuMs)), 2) },
      ...common, path: 'lag floor at ingest ratio 1: (CPU seconds of the gateway and de-id workers by the end - idle CPU seconds while Orthanc stored without the plugin) / CPUs' },
    ...(['atCheckpoint', 'atEnd'] as const).map((when) => {
      const s = worst[when];
      return { measure: `pipeline_rss_${when === 'atEnd' ? 'end' : 'checkpoint'}`, unit: 'MB', value: s === undefined ? null : round(s.totalKb / 1024, 1),
        goal: GOAL_RSS_MB, settled_jobs: s?.settled ?? null, processes: s?.processes.map((p) => ({ role: p.role, pid: p.pid, rss_mb: round(p.rssKb / 1024, 1) })) ?? [],
        cpu_s: s?.processes.map((p) => ({ role: p.role, cpu_s: round(p.cpuS, 1) })) ?? [],
        orthanc_rss_mb: when === 'atEnd' ? round(worst.orthancRssKb / 1024, 1) : undefined, ...common,
        path: 'VmRSS of the gateway and every process below it (/proc), summed; Orthanc not included' };
    }),
  ];
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  process.stdout.write(`\n${textTable(['measure', 'value', 'goal', ''], [
    ['ingest with the plugin / Enable false', `${ratio.toFixed(3)} (${withPlugin.toFixed(1)} vs ${without.toFixed(1)}/s${spread(roundRatios, 2)})`, `>= ${GOAL_INGEST_RATIO}`, verdict(ratio >= GOAL_INGEST_RATIO)],
    ['last store -> every job settled', Number.isFinite(lag) ? `${lag.toFixed(1)} s (${median(enabled.map((e) => e.backlogAtLastStore)).toFixed(0)} jobs open at the last store${spread(lags, 1)})` : 'never (timeout)', `<= ${GOAL_LAG_S} s`, verdict(lag <= GOAL_LAG_S)],
    ['de-identified per second', deidRate.toFixed(1), '', ''],
    [`RSS at ${worst.atCheckpoint?.settled ?? '-'} settled (gateway + children)`, `${mb(worst.atCheckpoint?.totalKb)} MB: ${rssCells(worst.atCheckpoint)}`, `< ${GOAL_RSS_MB} MB`,
      verdict((worst.atCheckpoint?.totalKb ?? Number.POSITIVE_INFINITY) / 1024 < GOAL_RSS_MB)],
    [`RSS at the end, ${worst.atEnd.settled} settled`, `${mb(worst.atEnd.totalKb)} MB: ${rssCells(worst.atEnd)}`, `< ${GOAL_RSS_MB} MB`, verdict(worst.atEnd.totalKb / 1024 < GOAL_RSS_MB)],
    ['PSS at the end (shared pages counted once)', `${mb(worst.atEnd.pssKb)} MB`, '', ''],
    ['lag floor at ingest ratio 1 (CPU the jobs used beyond the idle CPU)', `${lagFloorS.toFixed(1)} s: jobs ${jobCpuS.toFixed(1)} CPU s (${((1000 * jobCpuS) / count).toFixed(2)} ms per instance), ` +
      `idle during the burst without the plugin ${idleCpuS.toFixed(1)} CPU s`, '', ''],
    ['CPU left idle while Orthanc stores without the plugin', `${(100 * median(disabled.map((d) => d.idleShare))).toFixed(0)}% of ${host.cpus} CPUs; Orthanc ` +
      `${median(disabled.map((d) => d.orthancCpuMs)).toFixed(2)} ms CPU per stored instance (${median(enabled.map((e) => e.orthancCpuMs)).toFixed(2)} with the plugin)`, '', ''],
    ['CPU seconds used by the end', worst.atEnd.processes.map((p) => `${p.role} ${p.cpuS.toFixed(1)}`).join(', '), '', ''],
    ['RSS end / checkpoint (flat)', Number.isFinite(growth) ? `${growth.toFixed(2)}x` : 'n/a', `<= ${GOAL_RSS_GROWTH.toFixed(2)}x`, verdict(growth <= GOAL_RSS_GROWTH)],
  ])}\n`);
  process.stdout.write(`${count} unique CT slices (${(bytes / MB).toFixed(0)} MB) POSTed over ${options.connections} connections; plugin with product defaults and ` +
    `DeidWorkers ${options.deidWorkers}${Object.keys(options.aiBridge).length === 0 ? '' : `, AiBridge ${JSON.stringify(options.aiBridge)}`}; median of ${options.rounds} round(s); Orthanc's own RSS at the end ${mb(worst.orthancRssKb)} MB (not in the total). ` +
    `${host.cpus} CPUs (${host.cpuModel}), node ${host.node}.\n`);
}
