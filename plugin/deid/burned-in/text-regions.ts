// The seam between the two halves of Clean Pixel Data, both inside the sealed
// worker: finding text in a frame (OCR, per-device rules) and rewriting the
// instance with the found boxes filled. Boxes are in the frame's own pixel
// coordinates (column x, row y, origin top left).

import type { TermSets } from '../text';

/**
 * One frame as a person sees it, 8 bits per sample: grayscale through the
 * image's window (or min/max when it has none), MONOCHROME1 inverted, colour
 * as RGB. What OCR reads; never written back.
 */
export interface RenderedFrame {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Row-major, channels interleaved. */
  readonly data: Uint8Array;
}

export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Why a box is filled. */
export type CoverReason =
  /** The text matches an identifier from the header or report (blacklist) or a graylist rule (dates, IDs, names). */
  | 'identifier'
  /** Text the profile covers whatever it says (the safe default: all text). */
  | 'text'
  /** A fixed rectangle of a known screen layout (config/deid/pixel-regions.json). */
  | 'device-rule';

export interface CoverBox extends PixelBox {
  readonly reason: CoverReason;
  /**
   * The rule that decided, for the audit record: e.g. 'blacklist:PatientName',
   * 'graylist:date', 'cover-all-text', 'device:<rule id>'. Never the text read.
   */
  readonly rule: string;
  /** Detector confidence, when the box came from OCR. */
  readonly confidence?: number;
}

/** Text left visible because the profile allows it (whitelisted: "L", "R", "cm", probe names, scale numbers). */
export interface KeptText extends PixelBox {
  readonly rule: string;
}

export interface BurnedInContext {
  /** The instance's identifying terms (blacklist/graylist/whitelist), as the header pass built them. */
  readonly terms: TermSets;
  /** 'all-text': cover every text region (the safe default); 'identifiers-only': keep text that matches no rule. */
  readonly mode: 'all-text' | 'identifiers-only';
  readonly modality: string;
  readonly frameIndex: number;
}

export interface FrameDecision {
  readonly cover: readonly CoverBox[];
  readonly kept: readonly KeptText[];
}

/** Finds what to cover in one rendered frame. Implementations: OCR (PP-OCR via onnxruntime-node). */
export interface TextRegionFinder {
  find(frame: RenderedFrame, context: BurnedInContext): Promise<FrameDecision>;
}
