// Post-processing of the DB (Differentiable Binarization) text detector: the
// network outputs, per pixel, the probability of lying in the shrunk core of a
// text line. Cores are the connected regions above a threshold; each is kept
// when its mean probability is high enough, then grown back by the margin DB
// shrank it by during training (the "unclip").
//
// PP-OCR grows the rotated minimum-area rectangle of each contour with a
// polygon offset. Burned-in text is written horizontally, and what we need is
// a rectangle to fill, so each core is taken as its axis-aligned bounding
// rectangle, which contains any rotated one: the offset of a rectangle w x h
// by d = area x ratio / perimeter is the rectangle grown by d on every side.

import type { PixelBox } from '../text-regions';

export interface DbOptions {
  /** Pixels with a probability above this are text core. */
  readonly binaryThreshold: number;
  /** A core is text when the mean probability over its rectangle reaches this. */
  readonly boxThreshold: number;
  readonly unclipRatio: number;
  /** Cores with a side shorter than this (map pixels) are noise. */
  readonly minSide: number;
}

export interface ScoredBox extends PixelBox {
  readonly score: number;
}

/**
 * Text boxes in map coordinates (map pixels; the caller scales them to the
 * frame). `map` is the detector's probability map, row-major, width x height.
 */
export function dbBoxes(map: Float32Array, width: number, height: number, o: DbOptions): ScoredBox[] {
  const label = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const boxes: ScoredBox[] = [];
  let next = 0;
  for (let start = 0; start < map.length; start++) {
    if (label[start] !== 0 || (map[start] ?? 0) <= o.binaryThreshold) continue;
    next++;
    let minX = width;
    let minY = height;
    let maxX = -1;
    let maxY = -1;
    let top = 0;
    stack[top++] = start;
    label[start] = next;
    while (top > 0) {
      const p = stack[--top] ?? 0;
      const x = p % width;
      const y = (p - x) / width;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      // 8-connected, like the contour tracing PP-OCR relies on.
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (label[q] === 0 && (map[q] ?? 0) > o.binaryThreshold) {
            label[q] = next;
            stack[top++] = q;
          }
        }
      }
    }
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    if (Math.min(w, h) < o.minSide) continue;
    let sum = 0;
    for (let y = minY; y <= maxY; y++) for (let x = minX; x <= maxX; x++) sum += map[y * width + x] ?? 0;
    const score = sum / (w * h);
    if (score < o.boxThreshold) continue;
    const d = (w * h * o.unclipRatio) / (2 * (w + h));
    boxes.push({ x: minX - d, y: minY - d, width: w + 2 * d, height: h + 2 * d, score });
  }
  return boxes;
}
