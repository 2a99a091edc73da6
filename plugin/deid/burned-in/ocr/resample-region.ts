// Resampling a rectangle of a rendered frame to the size a network wants.
// Shrinking averages over the source pixels each output pixel stands for (a
// triangle filter as wide as the shrink factor): text strokes are one or two
// pixels wide, and point sampling (plain bilinear) would drop whole strokes
// when a 2688-pixel radiograph goes down to the detector's 960.

import type { PixelBox, RenderedFrame } from '../text-regions';

interface Taps {
  /** first source index of each output sample */
  readonly first: Int32Array;
  /** number of taps of each output sample */
  readonly count: Int32Array;
  /** weights, `maxTaps` per output sample */
  readonly weight: Float32Array;
  readonly maxTaps: number;
}

function taps(start: number, length: number, limit: number, outLength: number): Taps {
  const scale = length / outLength;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outLength);
  const count = new Int32Array(outLength);
  const weight = new Float32Array(outLength * maxTaps);
  for (let i = 0; i < outLength; i++) {
    const center = start + (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(limit - 1, Math.ceil(center + support) - 1);
    let n = 0;
    let sum = 0;
    for (let j = lo; j <= hi && n < maxTaps; j++) {
      const w = 1 - Math.abs((j + 0.5 - center) / support);
      if (w <= 0) continue;
      if (n === 0) first[i] = j;
      weight[i * maxTaps + (j - (first[i] ?? j))] = w;
      n = j - (first[i] ?? j) + 1;
      sum += w;
    }
    // Outside the frame (a padded box at its edge): the nearest edge pixel.
    if (n === 0) {
      first[i] = Math.min(limit - 1, Math.max(0, Math.floor(center)));
      weight[i * maxTaps] = 1;
      n = 1;
      sum = 1;
    }
    for (let k = 0; k < n; k++) weight[i * maxTaps + k] = (weight[i * maxTaps + k] ?? 0) / sum;
    count[i] = n;
  }
  return { first, count, weight, maxTaps };
}

/**
 * `box` of `frame` resampled to outWidth x outHeight, as three planes in
 * B, G, R order (PP-OCR was trained on OpenCV's BGR images), values 0..255.
 * Grayscale frames fill all three planes alike.
 */
export function resampleRegion(frame: RenderedFrame, box: PixelBox, outWidth: number, outHeight: number): Float32Array {
  const { width, height, channels, data } = frame;
  const tx = taps(box.x, box.width, width, outWidth);
  const ty = taps(box.y, box.height, height, outHeight);
  const plane = outWidth * outHeight;
  let rowLo = height - 1;
  let rowHi = 0;
  for (let j = 0; j < outHeight; j++) {
    const f = ty.first[j] ?? 0;
    rowLo = Math.min(rowLo, f);
    rowHi = Math.max(rowHi, f + (ty.count[j] ?? 1) - 1);
  }
  const rows = rowHi - rowLo + 1;
  // Horizontal pass, over only the source rows the vertical pass reads: channel planes of rows x outWidth.
  const horizontal = new Float32Array(rows * outWidth * channels);
  const hPlane = rows * outWidth;
  const { first: xFirst, count: xCount, weight: xWeight, maxTaps: xTaps } = tx;
  for (let r = 0; r < rows; r++) {
    const src = (r + rowLo) * width;
    const dst = r * outWidth;
    for (let i = 0; i < outWidth; i++) {
      const f = xFirst[i] ?? 0;
      const n = xCount[i] ?? 0;
      const wBase = i * xTaps;
      if (channels === 1) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += (data[src + f + k] ?? 0) * (xWeight[wBase + k] ?? 0);
        horizontal[dst + i] = acc;
      } else {
        let r0 = 0;
        let g0 = 0;
        let b0 = 0;
        for (let k = 0; k < n; k++) {
          const w = xWeight[wBase + k] ?? 0;
          const p = (src + f + k) * 3;
          r0 += (data[p] ?? 0) * w;
          g0 += (data[p + 1] ?? 0) * w;
          b0 += (data[p + 2] ?? 0) * w;
        }
        // RGB in, BGR planes out.
        horizontal[dst + i] = b0;
        horizontal[hPlane + dst + i] = g0;
        horizontal[2 * hPlane + dst + i] = r0;
      }
    }
  }
  const out = new Float32Array(plane * 3);
  const { first: yFirst, count: yCount, weight: yWeight, maxTaps: yTaps } = ty;
  for (let c = 0; c < channels; c++) {
    for (let j = 0; j < outHeight; j++) {
      const f = (yFirst[j] ?? 0) - rowLo;
      const n = yCount[j] ?? 0;
      const dst = c * plane + j * outWidth;
      for (let k = 0; k < n; k++) {
        const w = yWeight[j * yTaps + k] ?? 0;
        const src = c * hPlane + (f + k) * outWidth;
        for (let i = 0; i < outWidth; i++) out[dst + i] = (out[dst + i] ?? 0) + (horizontal[src + i] ?? 0) * w;
      }
    }
  }
  // A grey frame's one channel is all three planes.
  if (channels === 1) {
    out.copyWithin(plane, 0, plane);
    out.copyWithin(2 * plane, 0, plane);
  }
  return out;
}
