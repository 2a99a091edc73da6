import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { loadBurnedInTextConfig } from '../plugin/deid/burned-in/burned-in-text-config.js';
import { createOcrTextFinder, type OcrTextFinder } from '../plugin/deid/burned-in/ocr-text-finder.js';
import { renderFrame } from '../plugin/deid/burned-in/render-frame.js';
import type { BurnedInContext, FrameDecision, RenderedFrame } from '../plugin/deid/burned-in/text-regions.js';
import { repoRoot } from '../plugin/cli/repo-root.js';
import { buildTermSets } from '../plugin/deid/text/index.js';
import { decodeImage } from '../plugin/pixels/index.js';
import { createDeidEngine, createPixelCleaner, type DeidEngine } from '../plugin/deid/deid-engine.js';
import { deidentifyInstance, deidentifyInstanceCleaningPixels } from '../plugin/deid/deidentify-instance.js';
import { SiteKey } from '../plugin/deid/pseudonyms/index.js';
import { machine, median, round, textTable } from './report.js';

/**
 * pixels: milliseconds per frame of Clean Pixel Data's steps (issue 5,
 * "Measured, not assumed"), per modality, one process, onnxruntime on one
 * intra-op thread as in a worker of the pool. Baselines in the same run: the
 * text detector alone at the configured size and at PP-OCR's default 960, and
 * decoding + rendering the frame. Goal: detection + recognition < 250 ms per
 * US frame. The whole instance through the engine with Clean Pixel Data
 * (detection + recognition + fill + uncompressed rewrite + header) is
 * measured against the header-only de-identification of the same file.
 */

const GOAL_US_MS = 250;

export type BenchModality = 'US' | 'CR' | 'CT' | 'MR';

/** Real frames from the shared data, by modality (the deid-data ultrasounds carry burned-in text). */
export const BENCH_FRAMES: readonly { readonly modality: BenchModality; readonly file: string }[] = [
  { modality: 'US', file: 'deid-data/ultrasounds/GREYSCALE_IMAGE.dcm' },
  { modality: 'US', file: 'deid-data/ultrasounds/RGB_IMAGE.dcm' },
  { modality: 'US', file: 'pydicom-data/US1_J2KR.dcm' },
  { modality: 'US', file: 'pydicom-data/OBXXXX1A_rle.dcm' },
  { modality: 'CR', file: 'fo-dicom/CR-MONO1-10-chest.dcm' },
  { modality: 'CR', file: 'pydicom-data/RG1_J2KI.dcm' },
  { modality: 'CT', file: 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-10.dcm' },
  { modality: 'CT', file: 'dcm_qa_ct/GE_head/05.dcm' },
  { modality: 'CT', file: 'deid-data/humans/ctbrain1.dcm' },
  { modality: 'MR', file: 'dcm_qa_ts/1.dcm' },
  { modality: 'MR', file: 'dcm_qa_deident/00001.dcm' },
];

/** One frame as the steps see it. */
export interface BenchFrame {
  readonly modality: BenchModality;
  readonly file: string;
  readonly bytes: Buffer;
  readonly frame: RenderedFrame;
  /** The finder's decision for this frame (mode all-text), computed once outside the timing, for steps that consume it. */
  readonly decision: FrameDecision;
}

export interface BenchStep {
  readonly name: string;
  readonly label: string;
  /** A baseline to compare with, not part of the pipeline. */
  readonly baseline: boolean;
  run(input: BenchFrame): Promise<unknown>;
}

function context(modality: string): BurnedInContext {
  const terms = buildTermSets({ patient: { id: '', name: '', birthDate: '', otherIds: [] }, accessionNumber: '', identifiers: [] });
  return { terms, mode: 'all-text', modality, frameIndex: 0 };
}

/** The measured steps; `find` is the goal's "detection + recognition". */
const REFERENCES = { sopInstanceUid: '1.2.3.4.1', seriesInstanceUid: '1.2.3.4.2', studyInstanceUid: '1.2.3.4.3' };

function steps(finder: OcrTextFinder, wide: OcrTextFinder, headerOnly: DeidEngine, cleaning: DeidEngine): BenchStep[] {
  const maxSide = finder.config.detection.maxSide;
  const keeping = finder.withConfig({ ...finder.config, keep: { ...finder.config.keep, enabled: true } });
  return [
    { name: 'render', label: 'decode + render (baseline)', baseline: true, run: (f) => Promise.resolve(renderFrame(decodeImage(f.bytes), 0)) },
    { name: 'detect', label: `detector alone, max side ${String(maxSide)} (CR/DX/MG: by modality) (baseline)`, baseline: true, run: (f) => finder.detect(f.frame, f.modality) },
    { name: 'detect-960', label: 'detector alone, max side 960 (baseline, PP-OCR default)', baseline: true, run: (f) => wide.detect(f.frame) },
    { name: 'find', label: 'detection + recognition, mode all-text', baseline: false, run: (f) => finder.find(f.frame, context(f.modality)) },
    { name: 'find-keep', label: 'mode all-text, keep lists on (short regions read)', baseline: false, run: (f) => keeping.find(f.frame, context(f.modality)) },
    { name: 'find-read-all', label: 'detection + recognition of every region (identifiers-only)', baseline: false, run: (f) => finder.find(f.frame, { ...context(f.modality), mode: 'identifiers-only' }) },
    { name: 'instance-header', label: 'whole instance, header de-identification only (baseline)', baseline: true, run: (f) => Promise.resolve(deidentifyInstance(headerOnly, f.bytes, REFERENCES)) },
    { name: 'instance-clean', label: 'whole instance with Clean Pixel Data: find + fill + rewrite + header', baseline: false, run: (f) => deidentifyInstanceCleaningPixels(cleaning, f.bytes, REFERENCES, f.file) },
  ];
}

interface Options {
  readonly dataDir: string;
  readonly rounds: number;
  readonly threads: number;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({ args: [...args], strict: true, options: { 'data-dir': { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } } });
  const positive = (name: string, text: string | undefined, fallback: number): number => {
    const v = Number(text ?? String(fallback));
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${text ?? ''}`);
    return v;
  };
  return {
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data')),
    rounds: positive('rounds', values.rounds, 3),
    threads: positive('threads', values.threads, 1),
  };
}

export async function runPixelsBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const base = loadBurnedInTextConfig();
  const finder = await createOcrTextFinder({ config: base, threads: options.threads });
  try {
    const wide = finder.withConfig({ ...base, detection: { ...base.detection, maxSide: 960 } });
    const frames: BenchFrame[] = [];
    for (const f of BENCH_FRAMES) {
      const file = path.join(options.dataDir, f.file);
      if (!fs.existsSync(file)) throw new Error(`bench pixels: ${file} is missing (--data-dir points at the shared data)`);
      const bytes = fs.readFileSync(file);
      const frame = renderFrame(decodeImage(bytes), 0);
      frames.push({ ...f, bytes, frame, decision: await finder.find(frame, context(f.modality)) });
    }
    const key = SiteKey.fromBytes(Buffer.alloc(32, 0x42), 'bench key');
    const cleaner = await createPixelCleaner({ apply: 'always', modalities: [], mode: 'all-text' });
    const all = steps(finder, wide, createDeidEngine('research', key), createDeidEngine('research', key, cleaner));
    // Wall and CPU time: the machine is shared, and with one intra-op thread CPU time is what the step costs on an idle core.
    const ms = new Map<string, Map<BenchModality, number[]>>();
    const cpuMs = new Map<string, Map<BenchModality, number[]>>();
    for (const step of all) {
      const wall = new Map<BenchModality, number[]>();
      const cpu = new Map<BenchModality, number[]>();
      for (const f of frames) {
        await step.run(f); // warm-up: onnxruntime allocates per input shape on first use
        const wallSamples: number[] = [];
        const cpuSamples: number[] = [];
        for (let r = 0; r < options.rounds; r++) {
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          await step.run(f);
          const c = process.cpuUsage(c0);
          wallSamples.push(performance.now() - t0);
          cpuSamples.push((c.user + c.system) / 1000);
        }
        wall.set(f.modality, [...(wall.get(f.modality) ?? []), median(wallSamples)]);
        cpu.set(f.modality, [...(cpu.get(f.modality) ?? []), median(cpuSamples)]);
      }
      ms.set(step.name, wall);
      cpuMs.set(step.name, cpu);
      process.stderr.write(`  pixels: ${step.name} done\n`);
    }
    const host = machine();
    const modalities: BenchModality[] = ['US', 'CR', 'CT', 'MR'];
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const value = (step: string, m: BenchModality): number => mean(ms.get(step)?.get(m) ?? []);
    const cpuValue = (step: string, m: BenchModality): number => mean(cpuMs.get(step)?.get(m) ?? []);
    const common = { cpus: host.cpus, cpu_model: host.cpuModel, node: host.node, os: host.os, load_avg_1m: round(os.loadavg()[0] ?? 0, 2),
      threads: options.threads, rounds: options.rounds, max_side: base.detection.maxSide };
    for (const step of all) {
      for (const m of modalities) {
        const frameCount = frames.filter((f) => f.modality === m).length;
        const regions = mean(frames.filter((f) => f.modality === m).map((f) => f.decision.cover.length + f.decision.kept.length));
        const line = {
          measure: `pixels_${step.name.replace(/-/g, '_')}`, step: step.name, modality: m, unit: 'ms/frame', value: round(value(step.name, m), 1), cpu_ms: round(cpuValue(step.name, m), 1),
          baseline_detect: round(value('detect', m), 1), baseline: step.baseline, frames: frameCount, text_regions_per_frame: round(regions, 1),
          ...(step.name === 'find' && m === 'US' ? { goal: GOAL_US_MS } : {}), ...common, path: step.label,
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
    }
    process.stdout.write(`\n${textTable(['step: ms per frame, wall (CPU)', ...modalities], all.map((s) => [s.label, ...modalities.map((m) => `${value(s.name, m).toFixed(0)} (${cpuValue(s.name, m).toFixed(0)})`)]))}\n\n`);
    const us = value('find', 'US');
    const usCpu = cpuValue('find', 'US');
    const usKeep = value('find-keep', 'US');
    const usInstance = value('instance-clean', 'US');
    process.stdout.write(`${textTable(['goal', 'measured', 'target', ''], [
      ['detection + recognition per US frame, wall', `${us.toFixed(0)} ms`, `< ${String(GOAL_US_MS)} ms`, us < GOAL_US_MS ? 'met' : 'NOT met'],
      ['  the same, CPU time', `${usCpu.toFixed(0)} ms`, `< ${String(GOAL_US_MS)} ms`, usCpu < GOAL_US_MS ? 'met' : 'NOT met'],
      ['  with the keep lists on, wall', `${usKeep.toFixed(0)} ms`, `< ${String(GOAL_US_MS)} ms`, usKeep < GOAL_US_MS ? 'met' : 'NOT met'],
      ['whole US instance cleaned (find + rewrite + header), wall', `${usInstance.toFixed(0)} ms`, `< ${String(GOAL_US_MS)} ms`, usInstance < GOAL_US_MS ? 'met' : 'NOT met'],
    ])}\n`);
    process.stdout.write(`${String(frames.length)} frames (${modalities.map((m) => `${m} ${String(frames.filter((f) => f.modality === m).length)}`).join(', ')}); one process, onnxruntime intra-op threads ${String(options.threads)}; ` +
      `${String(options.rounds)} rounds after a warm-up; ${String(host.cpus)} CPUs (${host.cpuModel}), load average ${(os.loadavg()[0] ?? 0).toFixed(2)} at the end, node ${host.node}.\n`);
  } finally {
    await finder.release();
  }
}
