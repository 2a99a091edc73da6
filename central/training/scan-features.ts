/**
 * What the trained classifier sees, computed exactly as its ONNX graph does
 * from the site's prepared input (manifest input: INPUT_SIZE², area resize,
 * no normalisation): the fraction of the plane in each Hounsfield band.
 */
import { decodeImage } from '../../plugin/pixels';

export const INPUT_SIZE = 128;

export interface ScanPlane {
  /** INPUT_SIZE x INPUT_SIZE modality values, row-major. */
  readonly plane: Float32Array;
  /** mm per plane pixel (row, column), when the image states its spacing. */
  readonly spacing?: readonly [number, number];
}

/** Box average of the source pixels whose centres fall in each output pixel (the site's 'area' resize). */
export function resizeArea(src: Float32Array, rows: number, columns: number, size: number): Float32Array {
  const sum = new Float64Array(size * size);
  const count = new Uint32Array(size * size);
  for (let r = 0; r < rows; r++) {
    const orow = Math.min(size - 1, Math.floor(((r + 0.5) * size) / rows));
    for (let c = 0; c < columns; c++) {
      const o = orow * size + Math.min(size - 1, Math.floor(((c + 0.5) * size) / columns));
      sum[o] = (sum[o] ?? 0) + (src[r * columns + c] ?? 0);
      count[o] = (count[o] ?? 0) + 1;
    }
  }
  return Float32Array.from(sum, (s, i) => ((count[i] ?? 0) > 0 ? s / (count[i] ?? 1) : 0));
}

/** The first frame of a de-identified grayscale instance as the model's input plane. */
export function scanPlane(bytes: Buffer): ScanPlane {
  const image = decodeImage(bytes);
  if (image.pixels.kind !== 'grayscale') throw new Error(`instance ${image.header.sopInstanceUid} is colour; the classifier takes grayscale`);
  const frame = image.pixels.frames[0];
  if (frame === undefined) throw new Error(`instance ${image.header.sopInstanceUid} has no frame`);
  const plane = resizeArea(frame, image.rows, image.columns, INPUT_SIZE);
  const s = image.pixelSpacing;
  return s === undefined ? { plane } : { plane, spacing: [(s[0] * image.rows) / INPUT_SIZE, (s[1] * image.columns) / INPUT_SIZE] };
}

/**
 * Hounsfield bands (lower, upper; open ends at ±∞): the fraction of the plane
 * in each is a feature. Fractions do not depend on where the anatomy sits in
 * the field of view, so two sites' framings do not matter the way raw pixel
 * positions would: head slices have a bone ring and no lung, chest slices a
 * large lung field.
 */
export const HU_BANDS: readonly (readonly [number, number])[] = [
  [-Infinity, -900], [-900, -500], [-500, -30], [-30, 100], [100, 400], [400, Infinity],
];
/** Width of the soft band edges (HU): the graph uses sigmoid steps, and so does this. */
export const BAND_SOFTNESS = 10;

function step(x: number, at: number): number {
  if (at === Infinity) return 0;
  if (at === -Infinity) return 1;
  return 1 / (1 + Math.exp(-(x - at) / BAND_SOFTNESS));
}

/** One fraction per band: mean over the plane of step(lower) − step(upper), as the graph's Sigmoid/Sub/ReduceMean. */
export function features(plane: Float32Array): Float64Array {
  const out = new Float64Array(HU_BANDS.length);
  for (const v of plane) {
    HU_BANDS.forEach(([lower, upper], i) => { out[i] = (out[i] ?? 0) + step(v, lower) - step(v, upper); });
  }
  return out.map((sum) => sum / plane.length);
}
