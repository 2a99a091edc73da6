/**
 * Input preparation as the manifest says (input.window, input.resize,
 * input.normalisation): one grayscale frame of modality values → the model's
 * rows x columns plane.
 */
import type { ModelManifest } from '../core/model-package/model-manifest';

type InputSpec = ModelManifest['input'];

/** Box average of the source pixels whose centres fall in each output pixel; nearest where none do (upsampling). */
function resizeArea(src: Float32Array, rows: number, columns: number, outRows: number, outColumns: number): Float32Array {
  const sum = new Float64Array(outRows * outColumns);
  const count = new Uint32Array(outRows * outColumns);
  for (let r = 0; r < rows; r++) {
    const orow = Math.min(outRows - 1, Math.floor(((r + 0.5) * outRows) / rows));
    for (let c = 0; c < columns; c++) {
      const o = orow * outColumns + Math.min(outColumns - 1, Math.floor(((c + 0.5) * outColumns) / columns));
      sum[o] = (sum[o] ?? 0) + (src[r * columns + c] ?? 0);
      count[o] = (count[o] ?? 0) + 1;
    }
  }
  const out = new Float32Array(outRows * outColumns);
  for (let i = 0; i < out.length; i++) {
    const n = count[i] ?? 0;
    if (n > 0) out[i] = (sum[i] ?? 0) / n;
    else {
      const orow = Math.floor(i / outColumns);
      const ocol = i % outColumns;
      const r = Math.min(rows - 1, Math.floor(((orow + 0.5) * rows) / outRows));
      const c = Math.min(columns - 1, Math.floor(((ocol + 0.5) * columns) / outColumns));
      out[i] = src[r * columns + c] ?? 0;
    }
  }
  return out;
}

function resizeSampled(src: Float32Array, rows: number, columns: number, outRows: number, outColumns: number, bilinear: boolean): Float32Array {
  const out = new Float32Array(outRows * outColumns);
  const at = (r: number, c: number): number => src[Math.max(0, Math.min(rows - 1, r)) * columns + Math.max(0, Math.min(columns - 1, c))] ?? 0;
  for (let orow = 0; orow < outRows; orow++) {
    const y = ((orow + 0.5) * rows) / outRows - 0.5;
    for (let ocol = 0; ocol < outColumns; ocol++) {
      const x = ((ocol + 0.5) * columns) / outColumns - 0.5;
      if (!bilinear) {
        out[orow * outColumns + ocol] = at(Math.round(y), Math.round(x));
        continue;
      }
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const fy = y - y0;
      const fx = x - x0;
      out[orow * outColumns + ocol] =
        at(y0, x0) * (1 - fy) * (1 - fx) + at(y0, x0 + 1) * (1 - fy) * fx + at(y0 + 1, x0) * fy * (1 - fx) + at(y0 + 1, x0 + 1) * fy * fx;
    }
  }
  return out;
}

export function prepareInput(values: Float32Array, rows: number, columns: number, spec: InputSpec): Float32Array {
  let plane = values;
  if (spec.window) {
    const low = spec.window.center - spec.window.width / 2;
    const high = spec.window.center + spec.window.width / 2;
    plane = plane.map((v) => Math.max(low, Math.min(high, v)));
  }
  plane = spec.resize === 'area'
    ? resizeArea(plane, rows, columns, spec.rows, spec.columns)
    : resizeSampled(plane, rows, columns, spec.rows, spec.columns, spec.resize === 'bilinear');
  const n = spec.normalisation;
  if (n.kind === 'linear') {
    const offset = n.offset ?? 0;
    const scale = n.scale ?? 1;
    return plane.map((v) => (v - offset) * scale);
  }
  if (n.kind === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (const v of plane) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max > min ? max - min : 1;
    return plane.map((v) => (v - min) / range);
  }
  return plane;
}
