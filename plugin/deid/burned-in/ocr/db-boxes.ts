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
  /** A text line's core is at most this fraction of the map's height. */
  readonly maxLineHeight: number;
  /** A text line's core fills at least this fraction of its rectangle. */
  readonly minFill: number;
}

export interface ScoredBox extends PixelBox {
  readonly score: number;
}

interface Component {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  readonly pixels: number;
}

/** The highest threshold tried when splitting a core that is not line-shaped. */
const MAX_SPLIT_THRESHOLD = 0.9;
const SPLIT_STEP = 0.2;

class Labeller {
  private readonly stamp: Int32Array;
  private readonly stack: Int32Array;
  private current = 0;

  constructor(
    private readonly map: Float32Array,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.stamp = new Int32Array(width * height);
    this.stack = new Int32Array(width * height);
  }

  /**
   * The 8-connected components (as in PP-OCR's contour tracing) of pixels above
   * `threshold` within the rectangle, restricted to pixels stamped `inside`
   * (0: any). Each found pixel is stamped with a fresh label.
   */
  components(threshold: number, rect: Component, inside: number): { component: Component; label: number }[] {
    const { map, width, stamp, stack } = this;
    const out: { component: Component; label: number }[] = [];
    for (let y0 = rect.minY; y0 <= rect.maxY; y0++) {
      for (let x0 = rect.minX; x0 <= rect.maxX; x0++) {
        const start = y0 * width + x0;
        if ((inside !== 0 && stamp[start] !== inside) || (inside === 0 && stamp[start] !== 0) || (map[start] ?? 0) <= threshold) continue;
        const label = ++this.current;
        let minX = x0;
        let minY = y0;
        let maxX = x0;
        let maxY = y0;
        let pixels = 0;
        let top = 0;
        stack[top++] = start;
        stamp[start] = label;
        while (top > 0) {
          const p = stack[--top] ?? 0;
          const x = p % width;
          const y = (p - x) / width;
          pixels++;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
          for (let ny = Math.max(rect.minY, y - 1); ny <= Math.min(rect.maxY, y + 1); ny++) {
            for (let nx = Math.max(rect.minX, x - 1); nx <= Math.min(rect.maxX, x + 1); nx++) {
              const q = ny * width + nx;
              const s = stamp[q];
              if ((inside === 0 ? s === 0 : s === inside) && (map[q] ?? 0) > threshold) {
                stamp[q] = label;
                stack[top++] = q;
              }
            }
          }
        }
        out.push({ component: { minX, minY, maxX, maxY, pixels }, label });
      }
    }
    return out;
  }

  get fullRect(): Component {
    return { minX: 0, minY: 0, maxX: this.width - 1, maxY: this.height - 1, pixels: 0 };
  }

  get mapHeight(): number {
    return this.height;
  }
}

function meanOver(map: Float32Array, width: number, c: Component): number {
  let sum = 0;
  for (let y = c.minY; y <= c.maxY; y++) for (let x = c.minX; x <= c.maxX; x++) sum += map[y * width + x] ?? 0;
  return sum / ((c.maxX - c.minX + 1) * (c.maxY - c.minY + 1));
}

/**
 * Text boxes in map coordinates (map pixels; the caller scales them to the
 * frame). `map` is the detector's probability map, row-major, width x height.
 * A core too tall or too sparse to be a line of text (the detector's weak
 * response over textured anatomy can join text and tissue into one region) is
 * split at higher thresholds, where text cores stay solid and tissue falls away.
 */
export function dbBoxes(map: Float32Array, width: number, height: number, o: DbOptions): ScoredBox[] {
  const labeller = new Labeller(map, width, height);
  const boxes: ScoredBox[] = [];
  const visit = (threshold: number, rect: Component, inside: number): void => {
    for (const { component: c, label } of labeller.components(threshold, rect, inside)) {
      const w = c.maxX - c.minX + 1;
      const h = c.maxY - c.minY + 1;
      if (Math.min(w, h) < o.minSide) continue;
      const lineShaped = h <= o.maxLineHeight * labeller.mapHeight && c.pixels >= o.minFill * w * h;
      if (!lineShaped) {
        if (threshold + SPLIT_STEP <= MAX_SPLIT_THRESHOLD) visit(threshold + SPLIT_STEP, c, label);
        continue;
      }
      const score = meanOver(map, width, c);
      if (score < o.boxThreshold) continue;
      const d = (w * h * o.unclipRatio) / (2 * (w + h));
      boxes.push({ x: c.minX - d, y: c.minY - d, width: w + 2 * d, height: h + 2 * d, score });
    }
  };
  visit(o.binaryThreshold, labeller.fullRect, 0);
  return boxes;
}
