import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { resultUid } from '../plugin/core/uid.js';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { storescu } from '../plugin/cli/storescu.js';
import { machine, round, textTable } from './report.js';

/**
 * e2e: time from the last instance stored (storescu, DCMTK) until the SR and
 * the GSPS are visible by QIDO-RS in the same Orthanc, product defaults
 * except the cases' own settings:
 *  - one image: a single chest CT slice whose header says its series has one
 *    image (no CR/DX model ships, so a one-slice CT series stands in), the
 *    images 1.5 s apart so that each arrives alone;
 *  - a 30-slice chest CT series whose headers give its size (Images in Acquisition);
 *  - the anchor: the same series without that header, released by Orthanc's
 *    StableSeries after its default StableAge of 60 s, which is what tools that
 *    wait for a stable series (mercure's series timer, MONAI Deploy Express) do.
 * Every run sends new UIDs (a new study), so nothing is cached.
 */

const SERIES_DIR = path.join('tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f');
const GOAL_SINGLE_P50_S = 1;
const GOAL_SERIES_S = 3;
const ORTHANC_DEFAULT_STABLE_AGE_S = 60;
/** Longer than the default YieldToIngestMilliseconds (1 s), so single images are not a burst. */
const SINGLE_SPACING_MS = 1500;

interface Options { readonly dataDir: string; readonly runs: number; readonly seriesRuns: number; readonly anchor: boolean }

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    options: { 'data-dir': { type: 'string' }, runs: { type: 'string' }, 'series-runs': { type: 'string' }, 'no-anchor': { type: 'boolean' } },
  });
  return {
    dataDir: values['data-dir'] ?? path.join(__dirname, '..', '..', '..', 'shared', 'data'),
    runs: Number(values.runs ?? '20'),
    seriesRuns: Number(values['series-runs'] ?? '5'),
    anchor: values['no-anchor'] !== true,
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Copies of the slices with a new study, series and instance UIDs, and optionally Images in Acquisition. */
function freshSeries(sources: readonly string[], dir: string, run: string, imagesInAcquisition: boolean): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const study = resultUid('bench-study', run);
  const series = resultUid('bench-series', run);
  return sources.map((source, index) => {
    const target = path.join(dir, `${index}.dcm`);
    fs.copyFileSync(source, target);
    const edits = ['-m', `(0020,000D)=${study}`, '-m', `(0020,000E)=${series}`, '-m', `(0008,0018)=${resultUid('bench-instance', run, String(index))}`];
    if (imagesInAcquisition) edits.push('-i', `(0020,1002)=${sources.length}`);
    const result = spawnSync('dcmodify', ['-nb', '-ie', ...edits, target], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`dcmodify ${target}: ${result.stderr}`);
    return target;
  });
}

/** Polls QIDO-RS every 20 ms until the study has an SR and a PR series; seconds since `since`. */
async function untilResultsVisible(orthanc: RunningOrthanc, studyUid: string, since: bigint, limitS: number): Promise<number> {
  for (;;) {
    const response = await orthanc.request('GET', `/dicom-web/studies/${studyUid}/series`);
    if (response.status === 200) {
      const series = JSON.parse(response.body.toString('utf8')) as Record<string, { Value?: unknown[] }>[];
      const modalities = new Set(series.map((s) => s['00080060']?.Value?.[0]).filter((m): m is string => typeof m === 'string'));
      if (modalities.has('SR') && modalities.has('PR')) return Number(process.hrtime.bigint() - since) / 1e9;
    }
    const elapsed = Number(process.hrtime.bigint() - since) / 1e9;
    if (elapsed > limitS) throw new Error(`no SR and PR in study ${studyUid} after ${limitS} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function oneRun(orthanc: RunningOrthanc, files: readonly string[], studyUid: string, limitS: number): Promise<number> {
  const sent = await storescu({ port: orthanc.dicomPort, aet: orthanc.aet, files });
  if (sent.failed > 0) throw new Error(`storescu failed for ${sent.failed} file(s): ${sent.stderr}`);
  // storescu returns once the last C-STORE response is in: that is "the last instance stored".
  return untilResultsVisible(orthanc, studyUid, process.hrtime.bigint(), limitS);
}

export async function runE2eBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const dir = path.join(options.dataDir, SERIES_DIR);
  if (!fs.existsSync(dir)) throw new Error(`no ${dir}: pass --data-dir DIR pointing at the shared DICOM data`);
  const slices = fs.readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(dir, f));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-e2e-'));
  // Orthanc's own StableAge default: the anchor waits for it; the header-count paths do not.
  const orthanc = await startOrthanc({ dataDir: path.join(root, 'orthanc'), aiBridge: {}, extraConfig: { StableAge: ORTHANC_DEFAULT_STABLE_AGE_S } });
  const single: number[] = [];
  const series: number[] = [];
  let anchor: number | undefined;
  try {
    for (;;) {
      const health = await orthanc.request('GET', '/ai-bridge/health');
      if (health.status === 200 && (JSON.parse(health.body.toString('utf8')) as { models: unknown[] }).models.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const middle = slices[Math.floor(slices.length / 2)] ?? slices[0] ?? '';
    // One warm-up run each (ONNX session creation, JIT); not counted.
    for (let run = -1; run < options.runs; run++) {
      const id = `single-${run}`;
      const files = freshSeries([middle], path.join(root, id), id, true);
      const seconds = await oneRun(orthanc, files, resultUid('bench-study', id), 120);
      if (run >= 0) single.push(seconds);
      // Each image arrives alone: images less than YieldToIngestMilliseconds apart are a burst the pipeline yields to.
      await new Promise((resolve) => setTimeout(resolve, SINGLE_SPACING_MS));
      process.stderr.write(`  single image run ${run + 1}/${options.runs}: ${seconds.toFixed(3)} s${run < 0 ? ' (warm-up)' : ''}\n`);
    }
    for (let run = 0; run < options.seriesRuns; run++) {
      const id = `series-${run}`;
      const files = freshSeries(slices, path.join(root, id), id, true);
      const seconds = await oneRun(orthanc, files, resultUid('bench-study', id), 120);
      series.push(seconds);
      process.stderr.write(`  ${slices.length}-slice series run ${run + 1}/${options.seriesRuns}: ${seconds.toFixed(3)} s\n`);
    }
    if (options.anchor) {
      const files = freshSeries(slices, path.join(root, 'anchor'), 'anchor', false);
      anchor = await oneRun(orthanc, files, resultUid('bench-study', 'anchor'), 300);
      process.stderr.write(`  anchor (no size in the headers, StableSeries after ${ORTHANC_DEFAULT_STABLE_AGE_S} s): ${anchor.toFixed(3)} s\n`);
    }
  } finally {
    await orthanc.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const host = machine();
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, transport: 'storescu (DCMTK), results polled by QIDO-RS every 20 ms' };
  const lines = [
    { measure: 'e2e_single_image', unit: 's', p50: round(percentile(single, 50)), p95: round(percentile(single, 95)), runs: single.length,
      goal_p50: GOAL_SINGLE_P50_S, samples: single.map((s) => round(s)), path: 'one chest CT slice, Images in Acquisition = 1: storescu -> SR + PR visible by QIDO-RS', ...common },
    { measure: 'e2e_ct_series', unit: 's', p50: round(percentile(series, 50)), p95: round(percentile(series, 95)), runs: series.length,
      goal: GOAL_SERIES_S, samples: series.map((s) => round(s)), path: `${slices.length}-slice chest CT, Images in Acquisition in every header: last slice stored -> SR + PR visible`, ...common },
    ...(anchor === undefined ? [] : [{ measure: 'e2e_ct_series_stable_age_anchor', unit: 's', value: round(anchor), runs: 1,
      path: `the same series without the size in its headers: released by Orthanc's StableSeries (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s, Orthanc's default)`, ...common }]),
  ];
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
  const p50Single = percentile(single, 50);
  const p50Series = percentile(series, 50);
  process.stdout.write(`\n${textTable(['case', 'runs', 'p50 s', 'p95 s', 'goal', ''], [
    ['one image (1-slice CT series, size in header)', String(single.length), p50Single.toFixed(3), percentile(single, 95).toFixed(3), `p50 < ${GOAL_SINGLE_P50_S} s`, p50Single < GOAL_SINGLE_P50_S ? 'met' : 'NOT met'],
    [`${slices.length}-slice CT series, size in headers`, String(series.length), p50Series.toFixed(3), percentile(series, 95).toFixed(3), `< ${GOAL_SERIES_S} s`, percentile(series, 95) < GOAL_SERIES_S ? 'met (p95)' : p50Series < GOAL_SERIES_S ? 'met (p50)' : 'NOT met'],
    ...(anchor === undefined ? [] : [[`anchor: same series, StableSeries (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s)`, '1', anchor.toFixed(3), '', '', `${(anchor / p50Series).toFixed(1)}x slower than with the size in the headers`]]),
  ])}\n${host.cpus} CPUs (${host.cpuModel}), node ${host.node}; storescu into Orthanc with the plugin, product defaults (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s).\n`);
}
