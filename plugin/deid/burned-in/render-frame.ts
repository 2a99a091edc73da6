// One decoded frame as a person sees it on a viewer, 8 bits per sample: what
// the OCR reads. Burned-in text was written for the eye, so it is legible
// through the display window, not necessarily in the raw values.

import type { DecodedImage } from '../../pixels';
import type { RenderedFrame } from './text-regions';

export interface RenderOptions {
  /** Replaces the image's own window (e.g. a second pass through min/max). */
  readonly window?: { readonly center: number; readonly width: number };
}

/** Min/max of a frame, ignoring NaN; [0, 0] when the frame is empty. */
function valueRange(values: Float32Array): readonly [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * Frame `frameIndex` (0-based) of `image` as 8-bit samples: grayscale through
 * the frame's window (PS3.3 C.11.2.1.2.1, linear), or through its min/max when
 * it has none; MONOCHROME1 inverted so that text reads as it does on a viewer;
 * colour as RGB.
 */
export function renderFrame(image: DecodedImage, frameIndex: number, options: RenderOptions = {}): RenderedFrame {
  const { columns: width, rows: height, pixels } = image;
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= pixels.frames.length)
    throw new RangeError(`frame ${String(frameIndex)} is outside 0..${String(pixels.frames.length - 1)}`);
  if (pixels.kind === 'rgb') {
    const frame = pixels.frames[frameIndex] ?? new Uint8Array(0);
    return { width, height, channels: 3, data: frame };
  }
  const values = pixels.frames[frameIndex] ?? new Float32Array(0);
  const g = image.frameGeometry[frameIndex];
  const center = options.window?.center ?? g?.windowCenter ?? image.windowCenter;
  const width_ = options.window?.width ?? g?.windowWidth ?? image.windowWidth;
  let lo: number;
  let hi: number;
  if (center !== undefined && width_ !== undefined && width_ > 0) {
    // PS3.3 C.11.2.1.2.1: the window maps [c - 0.5 - (w-1)/2, c - 0.5 + (w-1)/2] onto the output range.
    lo = center - 0.5 - (width_ - 1) / 2;
    hi = center - 0.5 + (width_ - 1) / 2;
  } else {
    [lo, hi] = valueRange(values);
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const invert = image.photometricInterpretation === 'MONOCHROME1';
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const v = values[i] ?? lo;
    const s = v <= lo || scale === 0 ? 0 : v >= hi ? 255 : Math.round((v - lo) * scale);
    out[i] = invert ? 255 - s : s;
  }
  return { width, height, channels: 1, data: out };
}
