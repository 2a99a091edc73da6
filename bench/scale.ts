import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import type { JobListResponse } from '../plugin/core/admin-api.js';
import type { RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { repoRoot } from '../plugin/cli/repo-root.js';
import { startBridgeOrthanc } from '../test/harness/bridge-orthanc.js';
import { startPostgres, type RunningPostgres } from '../test/harness/postgres-server.js';
import { buildCorpus, ctSliceSources, type CorpusFile } from './deid-corpus.js';
import { machine, median, round, textTable } from './report.js';
import { lanes, post } from './rest-upload.js';

/**
 * scale (issue 17): the same N unique CT slices (1,500 by default) through
 * three set-ups in one run: one Orthanc node with the bridge on SQLite (the
 * embedded default), one node with Orthanc's index and the bridge on
 * PostgreSQL (the PostgreSQL index plugin, a throwaway PostgreSQL 15
 * cluster), and two nodes on that database with shared storage, the
 * connections split between them. The same total of de-identification
 * workers in each (DeidWorkers split between the nodes). Measured: the
 * ingest rate (first POST sent to last answered), the lag from the last
 * store until every instance job is settled, and instances de-identified
 * per second (jobs done / first POST to every job settled). On one machine
 * two nodes share its CPUs: the figure is what coordination costs, not a
 * speed-up.
 */

const MB = 1e6;

type Setup = 'sqlite-1' | 'postgresql-1' | 'postgresql-2';
const SETUPS: readonly Setup[] = ['sqlite-1', 'postgresql-1', 'postgresql-2'];
const LABELS: Readonly<Record<Setup, string>> = {
  'sqlite-1': 'one node, SQLite', 'postgresql-1': 'one node, PostgreSQL', 'postgresql-2': 'two nodes, PostgreSQL',
};

interface Options {
  readonly dataDir: string;
  readonly count: number;
  readonly connections: number;
  readonly deidWorkers: number;
  readonly rounds: number;
  readonly annotate: boolean;
  readonly settleTimeoutS: number;
}

interface Health { readonly jobs: Readonly<Record<string, number>>; readonly deid: { readonly readyWorkers: number } }

interface Run {
  readonly setup: Setup;
  readonly stored: number;
  readonly failed: number;
  readonly ingestPerSecond: number;
  readonly lagS: number | undefined;
  readonly deidentifiedPerSecond: number;
  readonly jobs: Readonly<Record<string, number>>;
  /** Code and message of each quarantined job: a bench must say what it lost. */
  readonly quarantined: readonly string[];
}

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  const value = Number(text ?? String(fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text ?? ''}`);
  return value;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args], strict: true,
    options: {
      'data-dir': { type: 'string' }, count: { type: 'string' }, connections: { type: 'string' }, 'deid-workers': { type: 'string' },
      rounds: { type: 'string' }, annotate: { type: 'boolean' }, 'settle-timeout': { type: 'string' },
    },
  });
  const count = positiveInteger('count', values.count, 1500);
  return {
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data')),
    count,
    connections: positiveInteger('connections', values.connections, 4),
    deidWorkers: positiveInteger('deid-workers', values['deid-workers'], 2),
    rounds: positiveInteger('rounds', values.rounds, 1),
    annotate: values.annotate ?? false,
    settleTimeoutS: positiveInteger('settle-timeout', values['settle-timeout'], 300 + Math.ceil(count / 5)),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function health(orthanc: RunningOrthanc): Promise<Health | undefined> {
  const res = await orthanc.request('GET', '/ai-bridge/health').catch(() => undefined);
  return res?.status === 200 ? JSON.parse(res.body.toString('utf8')) as Health : undefined;
}

const settled = (h: Health): number => (h.jobs['done'] ?? 0) + (h.jobs['quarantined'] ?? 0);
const pending = (h: Health): number => (h.jobs['queued'] ?? 0) + (h.jobs['running'] ?? 0) + (h.jobs['retrying'] ?? 0);

/** The nodes of one set-up, started and with every de-identification worker ready. */
async function startNodes(setup: Setup, options: Options, root: string, postgres: RunningPostgres | undefined): Promise<Awaited<ReturnType<typeof startBridgeOrthanc>>[]> {
  const count = setup === 'postgresql-2' ? 2 : 1;
  const workers = Math.max(1, Math.floor(options.deidWorkers / count));
  const aiBridge = { Annotate: options.annotate, DeidWorkers: workers };
  const storage = path.join(root, 'storage');
  const deid = path.join(root, 'deid');
  fs.mkdirSync(storage, { recursive: true });
  fs.mkdirSync(deid, { recursive: true, mode: 0o700 });
  const nodes = [];
  for (let n = 0; n < count; n++) {
    nodes.push(await startBridgeOrthanc({
      dataDir: path.join(root, `node-${String(n)}`), aiBridge,
      ...(postgres === undefined ? {} : { cluster: { databaseUri: postgres.uri, storageDirectory: storage, deidDirectory: deid, nodeName: `node-${String(n)}` } }),
    }));
  }
  for (const node of nodes) {
    const readyBy = Date.now() + 120_000;
    while (((await health(node))?.deid.readyWorkers ?? 0) < workers) {
      if (Date.now() > readyBy) throw new Error(`${setup}: de-identification workers not ready after 120 s`);
      await sleep(250);
    }
  }
  return nodes;
}

async function runSetup(setup: Setup, corpus: readonly CorpusFile[], options: Options, root: string): Promise<Run> {
  const postgres = setup === 'sqlite-1' ? undefined : await startPostgres();
  const dir = fs.mkdtempSync(path.join(root, `${setup}-`));
  const nodes = await startNodes(setup, options, dir, postgres).catch(async (error: unknown) => {
    await postgres?.stop();
    throw error;
  });
  try {
    const agents = nodes.map(() => new http.Agent({ keepAlive: true, maxSockets: options.connections }));
    let stored = 0;
    let failed = 0;
    const startedAt = process.hrtime.bigint();
    let lastStoredAt = startedAt;
    // The load balancer: the files go round the nodes.
    await lanes(options.connections, corpus.length, async (i) => {
      const file = corpus[i];
      const node = nodes[i % nodes.length];
      const agent = agents[i % agents.length];
      if (file === undefined || node === undefined || agent === undefined) return;
      const reply = await post(agent, node.httpPort, '/instances', await fs.promises.readFile(file.file), 'application/dicom');
      if (reply.status === 200) {
        stored++;
        lastStoredAt = process.hrtime.bigint();
      } else failed++;
    });
    for (const agent of agents) agent.destroy();
    // Every node reads the one queue: the first node's health counts all of it.
    const watcher = nodes[0];
    if (watcher === undefined) throw new Error('no node');
    const deadline = Date.now() + options.settleTimeoutS * 1000;
    let last: Health | undefined;
    let settledAt: bigint | undefined;
    for (;;) {
      last = (await health(watcher)) ?? last;
      if (last !== undefined && settled(last) >= stored && pending(last) === 0) {
        settledAt = process.hrtime.bigint();
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const seconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;
    const quarantinedJobs = await watcher.json<JobListResponse>('GET', '/ai-bridge/jobs?state=quarantined&limit=20').catch(() => undefined);
    return {
      quarantined: (quarantinedJobs?.jobs ?? []).map((j) => `${j.error?.code ?? '?'}: ${j.error?.message ?? ''}`),
      setup, stored, failed, ingestPerSecond: stored / seconds(startedAt, lastStoredAt),
      lagS: settledAt === undefined ? undefined : seconds(lastStoredAt, settledAt),
      deidentifiedPerSecond: (last?.jobs['done'] ?? 0) / seconds(startedAt, settledAt ?? process.hrtime.bigint()),
      jobs: last?.jobs ?? {},
    };
  } finally {
    for (const node of nodes) await node.cleanup();
    await postgres?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runScaleBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const sources = ctSliceSources(options.dataDir);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-scale-'));
  try {
    const corpusDir = path.join(root, 'corpus');
    fs.mkdirSync(corpusDir);
    const corpus = buildCorpus(sources, options.count, corpusDir);
    const bytes = corpus.reduce((s, f) => s + f.sizeBytes, 0);
    process.stderr.write(`scale: ${corpus.length} unique CT slices (${(bytes / MB).toFixed(0)} MB), ${options.connections} connections, ` +
      `${options.deidWorkers} de-id worker(s) in all, Annotate ${String(options.annotate)}, ${options.rounds} round(s)\n`);
    const runs: Run[] = [];
    for (let r = 0; r < options.rounds; r++) {
      // Alternating order, so a slow spell of the machine does not always hit the same set-up.
      for (const setup of r % 2 === 0 ? SETUPS : [...SETUPS].reverse()) {
        const run = await runSetup(setup, corpus, options, root);
        runs.push(run);
        process.stderr.write(`  round ${String(r + 1)} ${LABELS[setup]}: ${String(run.stored)} stored at ${run.ingestPerSecond.toFixed(1)}/s; ` +
          `settled ${run.lagS === undefined ? 'NEVER' : `${run.lagS.toFixed(1)} s`} after the last store; ${run.deidentifiedPerSecond.toFixed(1)} de-identified/s; jobs ${JSON.stringify(run.jobs)}${run.quarantined.length === 0 ? '' : `; quarantined: ${run.quarantined.join(' | ')}`}\n`);
      }
    }
    report(options, corpus.length, bytes, runs);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function report(options: Options, count: number, bytes: number, runs: readonly Run[]): void {
  const host = machine();
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, instances: count, mb_total: round(bytes / MB, 1),
    connections: options.connections, deid_workers_total: options.deidWorkers, annotate: options.annotate, rounds: options.rounds };
  const rows: string[][] = [];
  const base = median(runs.filter((r) => r.setup === 'sqlite-1').map((r) => r.deidentifiedPerSecond));
  for (const setup of SETUPS) {
    const mine = runs.filter((r) => r.setup === setup);
    const ingest = median(mine.map((r) => r.ingestPerSecond));
    const lags = mine.map((r) => r.lagS ?? Number.POSITIVE_INFINITY);
    const lag = median(lags);
    const deid = median(mine.map((r) => r.deidentifiedPerSecond));
    const path = `${LABELS[setup]}: POST /instances over ${options.connections} keep-alive connections${setup === 'postgresql-2' ? ' split between the nodes' : ''}`;
    for (const line of [
      { measure: `scale_ingest_${setup}`, unit: 'instances/s', value: round(ingest, 2), samples: mine.map((r) => round(r.ingestPerSecond, 1)),
        failures: mine.reduce((s, r) => s + r.failed, 0), ...common, path },
      { measure: `scale_settle_lag_${setup}`, unit: 's', value: Number.isFinite(lag) ? round(lag, 2) : null,
        samples: lags.map((l) => (Number.isFinite(l) ? round(l, 2) : null)), jobs: mine.map((r) => r.jobs), quarantined: mine.flatMap((r) => r.quarantined), ...common,
        path: `${LABELS[setup]}: last POST answered -> /ai-bridge/health of the first node shows every instance job settled` },
      { measure: `scale_deidentified_${setup}`, unit: 'instances/s', value: round(deid, 2), baseline: round(base, 2), ratio: round(deid / base, 3),
        samples: mine.map((r) => round(r.deidentifiedPerSecond, 1)), ...common, path: `${LABELS[setup]}: jobs done / (first POST -> every job settled)` },
    ]) process.stdout.write(`${JSON.stringify(line)}\n`);
    rows.push([LABELS[setup], ingest.toFixed(1), Number.isFinite(lag) ? `${lag.toFixed(1)} s` : 'never (timeout)', deid.toFixed(1), `${(deid / base).toFixed(2)}x`]);
  }
  process.stdout.write(`\n${textTable(['set-up', 'ingest /s', 'last store -> settled', 'de-identified /s', 'vs one node SQLite'], rows)}\n`);
  process.stdout.write(`${String(count)} unique CT slices (${(bytes / MB).toFixed(0)} MB) POSTed over ${String(options.connections)} connections; ` +
    `${String(options.deidWorkers)} de-identification worker(s) in all; Annotate ${String(options.annotate)}; median of ${String(options.rounds)} round(s). ` +
    `${String(host.cpus)} CPUs (${host.cpuModel}), node ${host.node}: on one machine the nodes share its CPUs, so two nodes show the cost of coordination, not a speed-up.\n`);
}
