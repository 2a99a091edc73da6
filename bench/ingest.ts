import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { repoRoot } from '../plugin/cli/repo-root.js';
import { storescu } from '../plugin/cli/storescu.js';
import { writeStorescuProfile } from '../plugin/cli/storescu-profile.js';
import { machine, median, round, textTable } from './report.js';
import { validSharedFiles } from './shared-data.js';

/**
 * ingest: how fast Orthanc stores instances with the AI bridge plugin loaded
 * versus not loaded, same files, same run. Each sample is a fresh Orthanc (so
 * every instance is new to it); the two configurations alternate round by
 * round so drift (page cache, thermal, other load) hits both; medians are
 * reported. Goal (issue 3): enabled / disabled >= 0.95.
 */

type Transport = 'storescu' | 'rest';
type Config = 'plugin-disabled' | 'plugin-enabled';

const TRANSPORT_PATH: Readonly<Record<Transport, string>> = {
  storescu: 'storescu (DCMTK, one association)',
  rest: 'POST /instances (HTTP, one file at a time)',
};
const GOAL = 0.95;

interface Sample {
  readonly perSecond: number;
  readonly stored: number;
  readonly seconds: number;
  /** Plugin loaded: seconds from the last store until every job settled (null without the plugin, or if it never did). */
  readonly lagSeconds: number | null;
}

/** Seconds after the last store until /ai-bridge/health shows no job queued, running or retrying and one per stored instance. */
async function settleLag(orthanc: RunningOrthanc, stored: number, storesEndedAt: bigint): Promise<number | null> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const res = await orthanc.request('GET', '/ai-bridge/health').catch(() => undefined);
    if (res?.status === 200) {
      const health = JSON.parse(res.body.toString('utf8')) as { queueDepth: number; jobs: Record<string, number> };
      const settled = (health.jobs['done'] ?? 0) + (health.jobs['quarantined'] ?? 0);
      if (health.queueDepth === 0 && settled >= stored) return Number(process.hrtime.bigint() - storesEndedAt) / 1e9;
    }
    await sleep(100);
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Measure steady state, not the gateway's start: wait for health and every de-identification worker ready (60 s at most). */
async function waitForGateway(orthanc: RunningOrthanc): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await orthanc.request('GET', '/ai-bridge/health').catch(() => undefined);
    if (res?.status === 200) {
      const health = JSON.parse(res.body.toString('utf8')) as { deid?: { workers?: number; readyWorkers?: number } };
      if (health.deid?.readyWorkers !== undefined && health.deid.readyWorkers === health.deid.workers) return true;
    }
    await sleep(250);
  }
  return false;
}

async function ingestOnce(transport: Transport, loadPlugin: boolean, files: readonly string[], bytes: readonly Buffer[],
  profile: string | undefined, aiBridge: Record<string, unknown>): Promise<Sample & { orthancVersion: string; gatewayReady: boolean }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-ingest-'));
  const orthanc = await startOrthanc({ dataDir, aiBridge: loadPlugin ? aiBridge : false });
  try {
    const version = (await orthanc.json<{ Version: string }>('GET', '/system')).Version;
    const gatewayReady = loadPlugin ? await waitForGateway(orthanc) : true;
    const started = process.hrtime.bigint();
    let stored = 0;
    if (transport === 'storescu') {
      const result = await storescu({ port: orthanc.dicomPort, aet: orthanc.aet, files,
        ...(profile === undefined ? {} : { profile }) });
      stored = result.sent;
    } else {
      for (const body of bytes) {
        const res = await orthanc.request('POST', '/instances', body);
        if (res.status === 200) stored++;
      }
    }
    const ended = process.hrtime.bigint();
    const seconds = Number(ended - started) / 1e9;
    const lagSeconds = loadPlugin ? await settleLag(orthanc, stored, ended) : null;
    return { perSecond: stored / seconds, stored, seconds, lagSeconds, orthancVersion: version, gatewayReady };
  } finally {
    await orthanc.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runIngestBench(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      rounds: { type: 'string' },
      'no-rest': { type: 'boolean' },
      // Validates the bench itself: both sides run without the plugin, so the ratio should be ~1.
      'without-plugin': { type: 'boolean' },
      // AiBridge settings of the plugin-enabled side, as JSON (e.g. '{"YieldToIngestMilliseconds":0}').
      'ai-bridge': { type: 'string' },
    },
  });
  const aiBridge = JSON.parse(values['ai-bridge'] ?? '{}') as Record<string, unknown>;
  const dataDir = path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data'));
  const rounds = Number(values.rounds ?? '5');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds ?? ''}`);
  const withPlugin = values['without-plugin'] !== true;
  const transports: Transport[] = values['no-rest'] === true ? ['storescu'] : ['storescu', 'rest'];

  const files = validSharedFiles(dataDir);
  // Read once before timing so the first round does not pay for a cold page cache.
  const bytes = files.map((f) => fs.readFileSync(f));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-profile-'));
  const profile = await writeStorescuProfile(files, profileDir);
  process.stderr.write(`ingest: ${files.length} files from ${dataDir}, ${rounds} rounds per configuration` +
    `${withPlugin ? '' : ' (control run: plugin not loaded on either side)'}\n`);

  const samples = new Map<string, Sample[]>();
  let orthancVersion = 'unknown';
  let gatewayAlwaysReady = true;
  try {
    for (let r = 0; r < rounds; r++) {
      const order: Config[] = r % 2 === 0 ? ['plugin-disabled', 'plugin-enabled'] : ['plugin-enabled', 'plugin-disabled'];
      for (const transport of transports) {
        for (const config of order) {
          const s = await ingestOnce(transport, withPlugin && config === 'plugin-enabled', files, bytes, profile, aiBridge);
          orthancVersion = s.orthancVersion;
          if (!s.gatewayReady) gatewayAlwaysReady = false;
          const key = `${transport}/${config}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
          process.stderr.write(`  round ${r + 1} ${transport} ${config}: ${s.stored} stored in ${s.seconds.toFixed(2)} s` +
            ` = ${s.perSecond.toFixed(1)}/s${s.lagSeconds === null ? '' : `, every job settled ${s.lagSeconds.toFixed(1)} s after the last store`}` +
            `${s.gatewayReady ? '' : ' (gateway health never answered 200)'}\n`);
        }
      }
    }
  } finally {
    fs.rmSync(profileDir, { recursive: true, force: true });
  }

  const host = machine();
  const rows: string[][] = [];
  for (const transport of transports) {
    const enabled = samples.get(`${transport}/plugin-enabled`) ?? [];
    const disabled = samples.get(`${transport}/plugin-disabled`) ?? [];
    const value = median(enabled.map((s) => s.perSecond));
    const baseline = median(disabled.map((s) => s.perSecond));
    const ratio = value / baseline;
    const line = {
      measure: `ingest_${transport}`, unit: 'instances/s',
      config: withPlugin ? 'plugin-enabled' : 'plugin-disabled-control',
      value: round(value, 2), baseline: round(baseline, 2), ratio: round(ratio, 3), goal: GOAL,
      instances: median(enabled.map((s) => s.stored)), files: files.length, rounds,
      samples: enabled.map((s) => round(s.perSecond, 2)), baseline_samples: disabled.map((s) => round(s.perSecond, 2)),
      gateway_ready: withPlugin ? gatewayAlwaysReady : null,
      settle_lag_seconds: withPlugin ? enabled.map((s) => (s.lagSeconds === null ? null : round(s.lagSeconds, 2))) : null,
      ai_bridge: aiBridge,
      cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, orthanc: orthancVersion,
      path: TRANSPORT_PATH[transport],
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    const lags = enabled.flatMap((s) => (s.lagSeconds === null ? [] : [s.lagSeconds]));
    rows.push([line.measure, line.path, baseline.toFixed(1), value.toFixed(1), ratio.toFixed(3),
      `>= ${GOAL}`, ratio >= GOAL ? 'met' : 'NOT met', lags.length === 0 ? '-' : median(lags).toFixed(1)]);
  }
  process.stdout.write(`\n${textTable(['measure', 'transport', 'disabled /s', withPlugin ? 'enabled /s' : 'control /s',
    'ratio', 'goal', '', 'settled s after last store'], rows)}\n`);
  process.stdout.write(`${files.length} files per sample, fresh Orthanc ${orthancVersion} per sample, median of ${rounds} ` +
    `alternating rounds; ${host.cpus} CPUs (${host.cpuModel}), node ${host.node}.\n`);
  if (!withPlugin) process.stdout.write('Control run: the plugin was loaded on neither side; the ratio shows the noise floor.\n');
}
