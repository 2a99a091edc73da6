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
 *  - the same series without that header (as the TCIA original), under
 *    Orthanc's default StableAge 60: released by its evidence (SeriesEvidence);
 *  - a sender that pauses mid-series (two associations, a pause between them):
 *    seconds from the last slice stored until exactly one SR and one PR are
 *    visible and they are the final results over all slices; whether the pause
 *    released the series early (a false early release, corrected in place), per
 *    pause length;
 *  - the anchor: the series without its size, with SeriesEvidence false:
 *    released by Orthanc's StableSeries after its default StableAge of 60 s,
 *    which is what tools that wait for a stable series (mercure's series timer,
 *    MONAI Deploy Express) do.
 * Every run sends new UIDs (a new study), so nothing is cached.
 */

const SERIES_DIR = path.join('tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f');
const GOAL_SINGLE_P50_S = 1;
const GOAL_SERIES_S = 3;
const ORTHANC_DEFAULT_STABLE_AGE_S = 60;
/** Longer than the default YieldToIngestMilliseconds (1 s), so single images are not a burst. */
const SINGLE_SPACING_MS = 1500;

/** Pauses of the mid-series sender, seconds; 5 s is the issue's case, the others chart where false early releases start. */
const PAUSES_S = [0.25, 0.5, 1, 2, 5];
/** After the final results are visible, how long the study is watched for a duplicate or a late change. */
const SETTLE_CHECK_S = 5;

interface Options { readonly dataDir: string; readonly runs: number; readonly seriesRuns: number; readonly pauseRuns: number; readonly anchor: boolean }

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'data-dir': { type: 'string' }, runs: { type: 'string' }, 'series-runs': { type: 'string' }, 'pause-runs': { type: 'string' },
      'no-anchor': { type: 'boolean' },
    },
  });
  return {
    dataDir: values['data-dir'] ?? path.join(__dirname, '..', '..', '..', 'shared', 'data'),
    runs: Number(values.runs ?? '20'),
    seriesRuns: Number(values['series-runs'] ?? '5'),
    pauseRuns: Number(values['pause-runs'] ?? '3'),
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

async function untilModelsReady(orthanc: RunningOrthanc): Promise<void> {
  for (;;) {
    const health = await orthanc.request('GET', '/ai-bridge/health');
    if (health.status === 200 && (JSON.parse(health.body.toString('utf8')) as { models: unknown[] }).models.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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

async function send(orthanc: RunningOrthanc, files: readonly string[]): Promise<void> {
  const sent = await storescu({ port: orthanc.dicomPort, aet: orthanc.aet, files });
  if (sent.failed > 0) throw new Error(`storescu failed for ${sent.failed} file(s): ${sent.stderr}`);
}

async function oneRun(orthanc: RunningOrthanc, files: readonly string[], studyUid: string, limitS: number): Promise<number> {
  return (await timedRun(orthanc, files, studyUid, limitS)).seconds;
}

/** Also when (epoch ms) the last slice was stored, to place the gateway's events on the same clock. */
async function timedRun(orthanc: RunningOrthanc, files: readonly string[], studyUid: string, limitS: number): Promise<{ seconds: number; storedAt: number }> {
  await send(orthanc, files);
  // storescu returns once the last C-STORE response is in: that is "the last instance stored".
  const storedAt = Date.now();
  return { seconds: await untilResultsVisible(orthanc, studyUid, process.hrtime.bigint(), limitS), storedAt };
}

interface SeriesAnnotation { readonly id: number; readonly state: string; readonly members: number; readonly results: readonly string[] }

async function annotationOf(orthanc: RunningOrthanc, seriesUid: string): Promise<SeriesAnnotation | undefined> {
  const response = await orthanc.request('GET', '/ai-bridge/annotations?limit=1000');
  const list = JSON.parse(response.body.toString('utf8')) as { annotations: (SeriesAnnotation & { seriesInstanceUid: string })[] };
  return list.annotations.find((a) => a.seriesInstanceUid === seriesUid);
}

async function eventLog(orthanc: RunningOrthanc, id: number): Promise<{ at: string; event: string }[]> {
  const response = await orthanc.request('GET', `/ai-bridge/annotations/${id}`);
  return (JSON.parse(response.body.toString('utf8')) as { events: { at: string; event: string }[] }).events;
}

async function eventsOf(orthanc: RunningOrthanc, id: number): Promise<string[]> {
  return (await eventLog(orthanc, id)).map((e) => e.event);
}

/** SOP Instance UIDs of the study's SR and PR instances, by QIDO-RS. */
async function resultInstances(orthanc: RunningOrthanc, studyUid: string): Promise<{ sr: string[]; pr: string[] }> {
  const found = { sr: [] as string[], pr: [] as string[] };
  for (const [modality, into] of [['SR', found.sr], ['PR', found.pr]] as const) {
    const response = await orthanc.request('GET', `/dicom-web/studies/${studyUid}/instances?Modality=${modality}`);
    if (response.status !== 200) continue;
    for (const instance of JSON.parse(response.body.toString('utf8')) as Record<string, { Value?: unknown[] }>[]) {
      const uid = instance['00080018']?.Value?.[0];
      if (typeof uid === 'string') into.push(uid);
    }
  }
  return found;
}

interface PausedRun { readonly pauseS: number; readonly seconds: number; readonly earlyRelease: boolean; readonly correct: boolean; readonly duplicates: number }

/**
 * Sends the first half, pauses, sends the rest (a new association, as a
 * sender that reconnects). Measured from the last slice stored until the study
 * shows exactly one SR and one PR, the annotation's final results over every
 * slice; then the study is watched SETTLE_CHECK_S longer for a duplicate.
 */
async function pausedRun(orthanc: RunningOrthanc, files: readonly string[], run: string, pauseS: number, limitS: number): Promise<PausedRun> {
  const studyUid = resultUid('bench-study', run);
  const seriesUid = resultUid('bench-series', run);
  const half = Math.floor(files.length / 2);
  await send(orthanc, files.slice(0, half));
  await new Promise((resolve) => setTimeout(resolve, pauseS * 1000));
  await send(orthanc, files.slice(half));
  const since = process.hrtime.bigint();
  let seconds = Number.NaN;
  for (;;) {
    const annotation = await annotationOf(orthanc, seriesUid);
    if (annotation?.state === 'done' && annotation.members === files.length) {
      const { sr, pr } = await resultInstances(orthanc, studyUid);
      if (sr.length === 1 && pr.length === 1 && [...sr, ...pr].every((uid) => annotation.results.includes(uid))) {
        seconds = Number(process.hrtime.bigint() - since) / 1e9;
        break;
      }
    }
    if (Number(process.hrtime.bigint() - since) / 1e9 > limitS) throw new Error(`run ${run}: no final SR + PR after ${limitS} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_CHECK_S * 1000));
  const annotation = await annotationOf(orthanc, seriesUid);
  const { sr, pr } = await resultInstances(orthanc, studyUid);
  const events = annotation === undefined ? [] : await eventsOf(orthanc, annotation.id);
  return {
    pauseS, seconds,
    earlyRelease: events.includes('reopened'),
    correct: annotation?.state === 'done' && annotation.members === files.length && events.at(-1) === 'done',
    duplicates: sr.length + pr.length - 2,
  };
}

export async function runE2eBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const dir = path.join(options.dataDir, SERIES_DIR);
  if (!fs.existsSync(dir)) throw new Error(`no ${dir}: pass --data-dir DIR pointing at the shared DICOM data`);
  const slices = fs.readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(dir, f));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-e2e-'));
  // Orthanc's own StableAge default everywhere: the anchor waits for it; the header-count and evidence paths do not.
  const orthanc = await startOrthanc({ dataDir: path.join(root, 'orthanc'), aiBridge: {}, extraConfig: { StableAge: ORTHANC_DEFAULT_STABLE_AGE_S } });
  const single: number[] = [];
  const series: number[] = [];
  const noCount: number[] = [];
  /** Last slice stored -> the gateway judged the series complete (its `series-complete` event), the part SeriesEvidence adds. */
  const noCountRelease: number[] = [];
  let noCountEarly = 0;
  const paused: PausedRun[] = [];
  let anchor: number | undefined;
  let anchorOrthanc: RunningOrthanc | undefined;
  try {
    await untilModelsReady(orthanc);
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
    for (let run = 0; run < options.seriesRuns; run++) {
      const id = `no-count-${run}`;
      const files = freshSeries(slices, path.join(root, id), id, false);
      const { seconds, storedAt } = await timedRun(orthanc, files, resultUid('bench-study', id), 120);
      noCount.push(seconds);
      const annotation = await annotationOf(orthanc, resultUid('bench-series', id));
      const log = annotation === undefined ? [] : await eventLog(orthanc, annotation.id);
      // A sender that never paused must not see its series released early.
      if (log.some((e) => e.event === 'reopened')) noCountEarly++;
      const complete = log.find((e) => e.event === 'series-complete');
      if (complete === undefined) throw new Error(`run ${id}: the series was not released on its evidence`);
      noCountRelease.push((Date.parse(complete.at) - storedAt) / 1000);
      process.stderr.write(`  ${slices.length}-slice series without its size, run ${run + 1}/${options.seriesRuns}: ${seconds.toFixed(3)} s\n`);
    }
    for (const pauseS of PAUSES_S) {
      for (let run = 0; run < (pauseS === 5 ? options.pauseRuns : 1); run++) {
        const id = `paused-${pauseS}-${run}`;
        const result = await pausedRun(orthanc, freshSeries(slices, path.join(root, id), id, false), id, pauseS, 120);
        paused.push(result);
        process.stderr.write(`  sender pausing ${pauseS} s mid-series, run ${run + 1}: ${result.seconds.toFixed(3)} s, ` +
          `${result.earlyRelease ? 'released early and corrected' : 'not released early'}, duplicates left ${result.duplicates}\n`);
      }
    }
    if (options.anchor) {
      // The baseline: the same series, evidence off, in an Orthanc of its own (the same machine and defaults).
      anchorOrthanc = await startOrthanc({ dataDir: path.join(root, 'orthanc-anchor'), aiBridge: { SeriesEvidence: false },
        extraConfig: { StableAge: ORTHANC_DEFAULT_STABLE_AGE_S } });
      await untilModelsReady(anchorOrthanc);
      const files = freshSeries(slices, path.join(root, 'anchor'), 'anchor', false);
      anchor = await oneRun(anchorOrthanc, files, resultUid('bench-study', 'anchor'), 300);
      process.stderr.write(`  anchor (no size in the headers, SeriesEvidence false: StableSeries after ${ORTHANC_DEFAULT_STABLE_AGE_S} s): ${anchor.toFixed(3)} s\n`);
    }
  } finally {
    await orthanc.stop();
    await anchorOrthanc?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const host = machine();
  const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, transport: 'storescu (DCMTK), results polled by QIDO-RS every 20 ms' };
  const lines = [
    { measure: 'e2e_single_image', unit: 's', p50: round(percentile(single, 50)), p95: round(percentile(single, 95)), runs: single.length,
      goal_p50: GOAL_SINGLE_P50_S, samples: single.map((s) => round(s)), path: 'one chest CT slice, Images in Acquisition = 1: storescu -> SR + PR visible by QIDO-RS', ...common },
    { measure: 'e2e_ct_series', unit: 's', p50: round(percentile(series, 50)), p95: round(percentile(series, 95)), runs: series.length,
      goal: GOAL_SERIES_S, samples: series.map((s) => round(s)), path: `${slices.length}-slice chest CT, Images in Acquisition in every header: last slice stored -> SR + PR visible`, ...common },
    { measure: 'e2e_ct_series_without_count', unit: 's', p50: round(percentile(noCount, 50)), p95: round(percentile(noCount, 95)), runs: noCount.length,
      goal: GOAL_SERIES_S, samples: noCount.map((s) => round(s)), false_early_releases: noCountEarly,
      release_p50: round(percentile(noCountRelease, 50)), release_samples: noCountRelease.map((s) => round(s)),
      path: `${slices.length}-slice chest CT, no size in any header, StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S}: last slice stored -> SR + PR visible (SeriesEvidence)`, ...common },
    ...PAUSES_S.map((pauseS) => {
      const runs = paused.filter((p) => p.pauseS === pauseS);
      return { measure: 'e2e_ct_series_paused_sender', unit: 's', pause_s: pauseS, runs: runs.length, p50: round(percentile(runs.map((r) => r.seconds), 50)),
        samples: runs.map((r) => round(r.seconds)), false_early_releases: runs.filter((r) => r.earlyRelease).length,
        correct: runs.filter((r) => r.correct).length, duplicates_left: runs.reduce((n, r) => n + r.duplicates, 0),
        path: `the series without its size, sent as ${Math.floor(slices.length / 2)} + ${slices.length - Math.floor(slices.length / 2)} slices (two associations) ${pauseS} s apart: ` +
          `last slice stored -> exactly one SR and one PR visible, the final results over all ${slices.length} slices; then watched ${SETTLE_CHECK_S} s for duplicates`, ...common };
    }),
    ...(anchor === undefined ? [] : [{ measure: 'e2e_ct_series_stable_age_anchor', unit: 's', value: round(anchor), runs: 1,
      path: `the same series without the size in its headers, SeriesEvidence false: released by Orthanc's StableSeries (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s, Orthanc's default)`, ...common }]),
  ];
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
  const p50Single = percentile(single, 50);
  const p50Series = percentile(series, 50);
  const p50NoCount = percentile(noCount, 50);
  process.stdout.write(`\n${textTable(['case', 'runs', 'p50 s', 'p95 s', 'goal', ''], [
    ['one image (1-slice CT series, size in header)', String(single.length), p50Single.toFixed(3), percentile(single, 95).toFixed(3), `p50 < ${GOAL_SINGLE_P50_S} s`, p50Single < GOAL_SINGLE_P50_S ? 'met' : 'NOT met'],
    [`${slices.length}-slice CT series, size in headers`, String(series.length), p50Series.toFixed(3), percentile(series, 95).toFixed(3), `< ${GOAL_SERIES_S} s`, percentile(series, 95) < GOAL_SERIES_S ? 'met (p95)' : p50Series < GOAL_SERIES_S ? 'met (p50)' : 'NOT met'],
    [`${slices.length}-slice CT series, no size in headers, StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S}`, String(noCount.length), p50NoCount.toFixed(3), percentile(noCount, 95).toFixed(3),
      `< ${GOAL_SERIES_S} s`, `${percentile(noCount, 95) < GOAL_SERIES_S ? 'met (p95)' : p50NoCount < GOAL_SERIES_S ? 'met (p50)' : 'NOT met'}; ` +
      `judged complete ${percentile(noCountRelease, 50).toFixed(3)} s (p50) after the last slice; ${noCountEarly} false early release(s)`],
    ...PAUSES_S.map((pauseS) => {
      const runs = paused.filter((p) => p.pauseS === pauseS);
      const seconds = runs.map((r) => r.seconds);
      return [`  sender pausing ${pauseS} s mid-series`, String(runs.length), percentile(seconds, 50).toFixed(3), percentile(seconds, 95).toFixed(3), 'one SR + one PR, all slices',
        `${runs.filter((r) => r.correct).length}/${runs.length} correct, ${runs.reduce((n, r) => n + r.duplicates, 0)} duplicate(s) left, ` +
        `${runs.filter((r) => r.earlyRelease).length}/${runs.length} released early (then corrected)`];
    }),
    ...(anchor === undefined ? [] : [[`anchor: no size in headers, SeriesEvidence false (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s)`, '1', anchor.toFixed(3), '', '',
      `${(anchor / p50NoCount).toFixed(1)}x slower than on the evidence`]]),
  ])}\n${host.cpus} CPUs (${host.cpuModel}), node ${host.node}; storescu into Orthanc with the plugin, product defaults (StableAge ${ORTHANC_DEFAULT_STABLE_AGE_S} s).\n`);
}
