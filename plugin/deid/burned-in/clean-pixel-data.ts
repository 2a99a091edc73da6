/**
 * Clean Pixel Data (PS3.15 E.3.1) on one parsed original, inside the sealed
 * worker: decide whether the instance needs it, find what to cover in every
 * frame (OCR and per-device rules), fill the boxes, and hand the new pixel
 * data to the document before the header rewrite.
 *
 * Output encoding: once a box is filled the pixel data is written native,
 * Explicit VR Little Endian, whatever the original syntax. Uncompressed is
 * lossless by construction (the decoded values are written back exactly, so
 * a lossy original loses nothing more), every receiver reads it, and no
 * encoder is needed in the sealed worker. Colour comes out as RGB or YBR_FULL
 * (JPEG's YBR_FULL_422 is RGB once decoded; native YBR_FULL_422 is upsampled
 * to YBR_FULL), colour-by-pixel. A lossy original keeps LossyImageCompression
 * 01 and its method and ratio (PS3.3 C.7.6.1.1.5: the history stays).
 * An instance with no box keeps its pixel data byte for byte.
 */
import { AiBridgeError } from '../../core/ai-bridge-error';
import type { CleanPixelsSettings, PixelBoxRecord, PixelCleaningRecord } from '../../core/deid-messages';
import type { TermSets } from '../text';
import type { DicomDocument, InspectResult, PixelReplacement } from '../native-dicom';
import { decodedFrame } from './decoded-frame';
import { fillBoxes } from './fill-boxes';
import type { PixelRegionRules } from './pixel-regions';
import { renderFrame } from './render-frame';
import type { StoredImage } from './stored-image';
import { blackSample } from './stored-sample';
import type { CoverBox, FrameDecision, KeptText, TextRegionFinder } from './text-regions';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** What a worker holds for Clean Pixel Data for its whole life (loaded before the seal). */
export interface PixelCleaner {
  readonly settings: CleanPixelsSettings;
  readonly deviceRules: PixelRegionRules;
  /** The OCR finder (plugin/deid/burned-in/ocr-finder-slot.ts); absent: device rules only. */
  readonly ocr?: TextRegionFinder;
  /**
   * true in a plain de-id worker: the OCR models (~170 MB resident) live in
   * one separate OCR worker, so an image that needs cleaning is refused here
   * with AIB_DEID_NEEDS_OCR_WORKER and the pool sends it there.
   */
  readonly ocrElsewhere?: boolean;
}

/** This process holds no OCR finder: the instance must go to the OCR worker (transient, never quarantined). */
export class NeedsOcrWorkerError extends AiBridgeError {
  constructor(label: string) {
    super('AIB_DEID_NEEDS_OCR_WORKER', `${label} needs Clean Pixel Data, which this worker does not load: the OCR worker takes it`, {}, true);
  }
}

/** PS3.15 E.3.1 applies to images: per the settings, by modality, or because the header admits burned-in text. */
export function needsPixelCleaning(settings: CleanPixelsSettings, found: Pick<InspectResult, 'modality' | 'burnedInAnnotation'>): boolean {
  if (settings.apply === 'never') return false;
  if (settings.apply === 'always') return true;
  return found.burnedInAnnotation.trim().toUpperCase() === 'YES' || settings.modalities.includes(found.modality.trim());
}

export interface FoundText {
  readonly decisions: readonly FrameDecision[];
  /** 'ocr', 'device-rules': which finders searched the frames. */
  readonly finders: readonly string[];
  /** true when the OCR finder searched every frame. */
  readonly ocrSearched: boolean;
}

/**
 * Runs the device rules and the OCR finder (when there is one) on every frame.
 * An instance that no finder can search (no OCR, no matching device rule) is
 * refused with AIB_DEID_PIXELS_NOT_SEARCHED: passing it on would pass on its
 * burned-in text unexamined.
 */
export async function findText(image: StoredImage, cleaner: PixelCleaner, terms: TermSets): Promise<FoundText> {
  const { mode } = cleaner.settings;
  const deviceBoxes = cleaner.deviceRules.boxesFor(image);
  const finders: string[] = [];
  if (cleaner.ocr) finders.push('ocr');
  if (deviceBoxes.length > 0) finders.push('device-rules');
  if (finders.length === 0) {
    throw new PixelCleaningError('AIB_DEID_PIXELS_NOT_SEARCHED',
      `no text finder covers this image: no OCR finder is installed and no rule of config/deid/pixel-regions.json matches ` +
      `${image.manufacturer || '(no manufacturer)'} / ${image.manufacturerModelName || '(no model)'} ${String(image.columns)}x${String(image.rows)} (transfer syntax ${image.transferSyntaxUid})`);
  }
  const decisions: FrameDecision[] = [];
  for (let frameIndex = 0; frameIndex < image.numberOfFrames; frameIndex++) {
    const cover: CoverBox[] = [...deviceBoxes];
    const kept: KeptText[] = [];
    if (cleaner.ocr) {
      const rendered = renderFrame(decodedFrame(image, frameIndex), 0);
      const found = await cleaner.ocr.find(rendered, { terms, mode, modality: image.modality, frameIndex });
      cover.push(...found.cover);
      kept.push(...found.kept);
    }
    decisions.push({ cover, kept });
  }
  return { decisions, finders, ocrSearched: cleaner.ocr !== undefined };
}

export type PixelCleaningErrorCode = 'AIB_DEID_PIXELS_NOT_SEARCHED' | 'AIB_DEID_PIXELS_BAD_DECISIONS';

/** Clean Pixel Data cannot be done for this instance; never transient (the instance is quarantined). */
export class PixelCleaningError extends AiBridgeError {
  declare readonly code: PixelCleaningErrorCode;

  constructor(code: PixelCleaningErrorCode, message: string) {
    super(code, message, {}, false);
  }
}

/**
 * All frames as one native Pixel Data value. Bits outside BitsStored are
 * cleared in every sample: retired overlays (PS3.5 8.1.2) could draw text in
 * them, and the header profile has removed the attributes that described them.
 */
function concatenate(image: StoredImage): Buffer {
  const keep = (2 ** image.bitsStored - 1) * 2 ** (image.highBit + 1 - image.bitsStored);
  const perFrame = image.rows * image.columns * image.samplesPerPixel;
  const out = Buffer.alloc(perFrame * (image.bitsAllocated / 8) * image.numberOfFrames);
  image.frames.forEach((frame, f) => {
    const base = f * perFrame;
    if (image.bitsAllocated === 8) {
      for (let i = 0; i < frame.length; i++) out[base + i] = (frame[i] ?? 0) & keep;
      return;
    }
    for (let i = 0; i < frame.length; i++) {
      const word = (frame[i] ?? 0) & keep;
      out[2 * (base + i)] = word & 0xff;
      out[2 * (base + i) + 1] = word >>> 8;
    }
  });
  return out;
}

/**
 * Rules of kept text that cannot identify anyone: a whitelisted token
 * (laterality, unit, scale number, probe name: config/deid/burned-in-text.json
 * keep) or a region where the recogniser read no character at all.
 */
function keptIsHarmless(rule: string): boolean {
  return rule.startsWith('keep:') || rule === 'no-text-read';
}

/**
 * (0028,0301) after cleaning. PS3.3 C.7.6.1.1.11: YES means the image holds
 * enough burned-in annotation to identify the patient and the date. We say NO
 * only when the OCR searched every frame and all text it left visible is
 * whitelisted or unreadable (always so in 'all-text' mode). In
 * 'identifiers-only' mode, text that matched no identifier rule stays
 * visible, and a name or number that is in neither the header nor the report
 * reads as plain text to the rules: covering the identifiers we know of does
 * not make NO true, so the original value stays (YES when the original said
 * nothing). Device rules alone say where a known screen writes text, not
 * that no other text exists: same answer.
 */
export function burnedInAfterCleaning(original: string, found: Pick<FoundText, 'ocrSearched' | 'decisions'>): 'YES' | 'NO' {
  if (found.ocrSearched && found.decisions.every((d) => d.kept.every((k) => keptIsHarmless(k.rule)))) return 'NO';
  return original.trim().toUpperCase() === 'NO' ? 'NO' : 'YES';
}

/**
 * Fills every box of `found` in its frame with black (stored-image.ts,
 * stored-sample.ts), and, when at least one box was filled, replaces the
 * document's pixel data with the result (native, Explicit VR LE). Returns the
 * audit record and the value of BurnedInAnnotation for apply()'s markers.
 */
export function cleanPixelData(document: DicomDocument, image: StoredImage, found: FoundText, mode: CleanPixelsSettings['mode']): PixelCleaningRecord {
  if (found.decisions.length !== image.numberOfFrames)
    throw new PixelCleaningError('AIB_DEID_PIXELS_BAD_DECISIONS', `${String(found.decisions.length)} frame decisions for ${String(image.numberOfFrames)} frames`);
  const black = blackSample(image);
  const boxes: PixelBoxRecord[] = [];
  found.decisions.forEach((decision, frame) => { boxes.push(...fillBoxes(image, frame, decision.cover, black)); });
  const burnedInAnnotation = burnedInAfterCleaning(image.burnedInAnnotation, found);
  const replaced = boxes.length > 0;
  if (replaced) {
    const replacement: PixelReplacement = {
      data: concatenate(image),
      bitsAllocated: image.bitsAllocated,
      bitsStored: image.bitsStored,
      highBit: image.highBit,
      samplesPerPixel: image.samplesPerPixel,
      photometricInterpretation: image.photometricInterpretation,
      planarConfiguration: 0,
      ...(image.lossy ? { lossy: image.lossyMethod === undefined ? {} : { method: image.lossyMethod } } : {}),
    };
    document.replacePixels(replacement);
  }
  return {
    transferSyntaxUid: image.transferSyntaxUid,
    outputTransferSyntaxUid: replaced ? EXPLICIT_VR_LITTLE_ENDIAN : image.transferSyntaxUid,
    photometricInterpretation: image.storedPhotometricInterpretation,
    outputPhotometricInterpretation: replaced ? image.photometricInterpretation : image.storedPhotometricInterpretation,
    frames: image.numberOfFrames,
    mode,
    finders: found.finders,
    boxes,
    keptTextRegions: found.decisions.reduce((n, d) => n + d.kept.length, 0),
    burnedInAnnotation,
  };
}
