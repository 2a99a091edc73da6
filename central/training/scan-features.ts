/**
 * What the trained classifier sees, computed exactly as its ONNX graph does
 * from the site's prepared input (manifest input: INPUT_SIZE², area resize,
 * no normalisation): block means of Hounsfield units over a GRID x GRID
 * grid, clipped to ±HU_CLIP and scaled to ±1.
 */
import { decodeImage } from '../../plugin/pixels';

export const INPUT_SIZE = 128;
export const GRID = 8;
export const HU_CLIP = 1000;

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

/** GRID² features in [-1, 1]: the graph's AveragePool (kernel = stride = INPUT_SIZE / GRID), Clip, Mul. */
export function features(plane: Float32Array): Float64Array {
  const block = INPUT_SIZE / GRID;
  const out = new Float64Array(GRID * GRID);
  for (let gr = 0; gr < GRID; gr++) {
    for (let gc = 0; gc < GRID; gc++) {
      let sum = 0;
      for (let r = gr * block; r < (gr + 1) * block; r++) for (let c = gc * block; c < (gc + 1) * block; c++) sum += plane[r * INPUT_SIZE + c] ?? 0;
      const mean = sum / (block * block);
      out[gr * GRID + gc] = Math.max(-HU_CLIP, Math.min(HU_CLIP, mean)) / HU_CLIP;
    }
  }
  return out;
}
