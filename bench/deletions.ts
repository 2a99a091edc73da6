/**
 * Following Orthanc's deletions, timed as an administrator meets them: a
 * real Orthanc with the plugin holding N unique CT slices, all de-identified.
 *
 * - live: every study deleted through Orthanc's REST API, one DELETE after
 *   another. Anchor, same run: Orthanc's own DELETE calls (first sent to last
 *   answered). Measured: from the first DELETE until every job is forgotten
 *   and deid/ holds no copy.
 * - start-up check: Orthanc restarted on the same data. Anchor: Orthanc's
 *   start until the gateway logs gateway-ready. Measured: gateway-ready until
 *   deleted-instances-checked (every settled job compared with Orthanc), with
 *   nothing deleted, then again after half the instances were deleted by an
 *   Orthanc running without the plugin.
 *
 * `npm run bench -- deletions [--count N] [--rounds N] [--data-dir DIR]`
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { repoRoot } from '../plugin/cli/repo-root.js';
import type { HealthResponse } from '../plugin/core/admin-api.js';
import { buildCorpus, ctSliceSources, type CorpusFile } from './deid-corpus.js';
import { machine, median, round, textTable } from './report.js';
import { lanes, post } from './rest-upload.js';

const AI_BRIDGE = { ChangesPollSeconds: 2, Annotate: false };

interface Round {
  readonly studies: number;
  readonly orthancDeleteS: number;
  readonly forgottenS: number;
  readonly startToReadyS: number;
  readonly checkNoneDeletedS: number;
  readonly checkHalfDeletedS: number;
  readonly forgottenAtStart: number;
  readonly copiesLeft: number;
  readonly jobsLeft: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Orthanc's log time of day (its prefix, e.g. `I1205 03:47:25.549030`), in seconds. */
function logTime(line: string): number {
  const match = /(\d\d):(\d\d):(\d\d\.\d+)/.exec(line);
  if (match === null) throw new Error(`no time in log line: ${line}`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/** The log is appended across starts: the line of `event` after the `seen` earlier ones. */
async function logLine(orthanc: RunningOrthanc, event: string, seen: number): Promise<string> {
  for (;;) {
    const lines = orthanc.logText().split('\n').filter((l) => l.includes(`"event":"${event}"`));
    const line = lines[seen];
    if (line !== undefined) return line;
    await sleep(50);
  }
}

function logCount(dataDir: string, event: string): number {
  const file = path.join(dataDir, 'orthanc.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(`"event":"${event}"`)).length : 0;
}

async function health(orthanc: RunningOrthanc): Promise<HealthResponse> {
  for (;;) {
    const reply = await orthanc.request('GET', '/ai-bridge/health');
    if (reply.status === 200) return JSON.parse(reply.body.toString('utf8')) as HealthResponse;
    await sleep(100);
  }
}

function copies(dataDir: string): number {
  const deid = path.join(dataDir, 'ai-bridge', 'deid');
  return execFileSync('find', [deid, '-name', '*.dcm'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').length;
}

async function start(dataDir: string): Promise<{ orthanc: RunningOrthanc; startToReadyS: number; checkS: number; forgotten: number }> {
  const ready = logCount(dataDir, 'gateway-ready');
  const checked = logCount(dataDir, 'deleted-instances-checked');
  const started = performance.now();
  // --verbose: the gateway's info lines (gateway-ready, deleted-instances-checked) reach the log only then.
  const orthanc = await startOrthanc({ dataDir, aiBridge: AI_BRIDGE, verbose: true });
  const readyLine = await logLine(orthanc, 'gateway-ready', ready);
  const startToReadyS = (performance.now() - started) / 1000;
  const checkedLine = await logLine(orthanc, 'deleted-instances-checked', checked);
  const forgotten = Number(/"count":(\d+)/.exec(checkedLine)?.[1] ?? Number.NaN);
  return { orthanc, startToReadyS, checkS: logTime(checkedLine) - logTime(readyLine), forgotten };
}

async function runRound(corpus: readonly CorpusFile[], root: string, index: number): Promise<Round> {
  const dataDir = path.join(root, `round-${index}`);
  let { orthanc } = await start(dataDir);
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    await lanes(4, corpus.length, async (i) => {
      const file = corpus[i];
      if (file === undefined) return;
      const reply = await post(agent, orthanc.httpPort, '/instances', fs.readFileSync(file.file), 'application/dicom');
      if (reply.status !== 200) throw new Error(`Orthanc answered ${reply.status} to ${file.file}`);
    });
    agent.destroy();
    for (let h = await health(orthanc); h.jobs.done + h.jobs.quarantined < corpus.length; h = await health(orthanc)) await sleep(200);
    await orthanc.stop();

    const quiet = await start(dataDir);
    orthanc = quiet.orthanc;
    const instances = await orthanc.json<string[]>('GET', '/instances');
    await orthanc.stop();

    // Half the instances deleted while the plugin is not loaded: only the start-up check can learn of it.
    const plain = await startOrthanc({ dataDir, aiBridge: false, dicomWeb: false });
    try {
      for (const id of instances.slice(0, Math.floor(instances.length / 2))) await plain.json('DELETE', `/instances/${id}`);
    } finally {
      await plain.stop();
    }
    const half = await start(dataDir);
    orthanc = half.orthanc;

    const studies = await orthanc.json<string[]>('GET', '/studies');
    const first = performance.now();
    for (const study of studies) await orthanc.json('DELETE', `/studies/${study}`);
    const orthancDeleteS = (performance.now() - first) / 1000;
    let left = await health(orthanc);
    while (left.jobs.done + left.jobs.quarantined > 0 || copies(dataDir) > 0) {
      await sleep(20);
      left = await health(orthanc);
    }
    const forgottenS = (performance.now() - first) / 1000;
    return {
      studies: studies.length, orthancDeleteS, forgottenS, startToReadyS: quiet.startToReadyS, checkNoneDeletedS: quiet.checkS,
      checkHalfDeletedS: half.checkS, forgottenAtStart: half.forgotten, copiesLeft: copies(dataDir), jobsLeft: left.jobs.done + left.jobs.quarantined,
    };
  } finally {
    await orthanc.stop();
  }
}

export async function runDeletionsBench(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], strict: true, options: { count: { type: 'string' }, rounds: { type: 'string' }, 'data-dir': { type: 'string' } } });
  const count = Number(values.count ?? '1500');
  const rounds = Number(values.rounds ?? '1');
  if (!Number.isInteger(count) || count < 2 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--count must be an integer ≥ 2 and --rounds ≥ 1');
  const dataDir = path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-deletions-'));
  const results: Round[] = [];
  try {
    const corpusDir = path.join(root, 'corpus');
    fs.mkdirSync(corpusDir);
    const corpus = buildCorpus(ctSliceSources(dataDir), count, corpusDir);
    process.stderr.write(`deletions: ${count} unique CT slices, ${rounds} round(s)\n`);
    for (let r = 0; r < rounds; r++) {
      const result = await runRound(corpus, root, r);
      results.push(result);
      process.stderr.write(`  round ${r + 1}: ${JSON.stringify(result)}\n`);
      fs.rmSync(path.join(root, `round-${r}`), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const m = (pick: (r: Round) => number): number => median(results.map(pick));
  const live = count - Math.floor(count / 2);
  const lines = [
    { measure: 'deletion_followed', unit: 's', value: round(m((r) => r.forgottenS)), baseline: round(m((r) => r.orthancDeleteS)),
      baselineName: `Orthanc's own DELETE /studies calls, first sent to last answered (${live} instances in ${m((r) => r.studies)} studies)` },
    { measure: 'startup_check_none_deleted', unit: 's', value: round(m((r) => r.checkNoneDeletedS)), baseline: round(m((r) => r.startToReadyS)),
      baselineName: 'Orthanc start until the gateway logs gateway-ready', settledJobs: count },
    { measure: 'startup_check_half_deleted', unit: 's', value: round(m((r) => r.checkHalfDeletedS)), baseline: round(m((r) => r.startToReadyS)),
      baselineName: 'Orthanc start until the gateway logs gateway-ready', settledJobs: count, forgotten: m((r) => r.forgottenAtStart) },
  ];
  for (const line of lines) process.stdout.write(`${JSON.stringify({ ...line, instances: count, rounds, copiesLeft: m((r) => r.copiesLeft), jobsLeft: m((r) => r.jobsLeft), ...machine() })}\n`);
  process.stdout.write(`\n${textTable(['measure (median of rounds)', 'seconds', 'anchor, same run', 'anchor s'], [
    [`${live} instances deleted live: first DELETE → jobs forgotten, deid/ empty`, m((r) => r.forgottenS).toFixed(2), 'Orthanc\'s own DELETE calls', m((r) => r.orthancDeleteS).toFixed(2)],
    [`start-up check, ${count} settled jobs, none deleted`, m((r) => r.checkNoneDeletedS).toFixed(2), 'Orthanc start → gateway-ready', m((r) => r.startToReadyS).toFixed(2)],
    [`start-up check, ${count} settled jobs, ${m((r) => r.forgottenAtStart)} deleted offline`, m((r) => r.checkHalfDeletedS).toFixed(2), 'Orthanc start → gateway-ready', m((r) => r.startToReadyS).toFixed(2)],
  ])}\nLeft after the live deletion: ${m((r) => r.jobsLeft)} job(s), ${m((r) => r.copiesLeft)} copy(ies) in deid/.\n`);
}
