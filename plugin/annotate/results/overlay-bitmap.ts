import type { ImageRegion } from '../../core/findings';
import { regionPoints } from './region-geometry';

/**
 * A 1-bit raster of region outlines, rows×columns, for an Overlay Plane
 * (PS3.3 C.9.2): what a viewer that shows overlays but not graphic objects
 * (DCMTK's dcmp2pgm among them) draws.
 */
export class OverlayBitmap {
  readonly #bits: Uint8Array;

  constructor(readonly rows: number, readonly columns: number) {
    this.#bits = new Uint8Array(rows * columns);
  }

  isSet(column: number, row: number): boolean {
    return this.#bits[row * this.columns + column] === 1;
  }

  // A point in PIXEL units lies in the pixel whose top-left corner is its floor (PS3.3 C.10.5.1.2).
  #set(x: number, y: number): void {
    const column = Math.min(this.columns - 1, Math.max(0, Math.floor(x)));
    const row = Math.min(this.rows - 1, Math.max(0, Math.floor(y)));
    this.#bits[row * this.columns + column] = 1;
  }

  #line(from: readonly [number, number], to: readonly [number, number]): void {
    // One sample per half pixel along the longer axis leaves no gap in the line.
    const steps = Math.max(1, Math.ceil(2 * Math.max(Math.abs(to[0] - from[0]), Math.abs(to[1] - from[1]))));
    for (let step = 0; step <= steps; step++) {
      this.#set(from[0] + ((to[0] - from[0]) * step) / steps, from[1] + ((to[1] - from[1]) * step) / steps);
    }
  }

  draw(region: ImageRegion): void {
    switch (region.kind) {
      case 'polygon':
      case 'polyline': {
        const points = regionPoints(region);
        const closed = region.kind === 'polygon' ? [...points, points[0] ?? [0, 0]] : points;
        for (let i = 1; i < closed.length; i++) this.#line(closed[i - 1] ?? [0, 0], closed[i] ?? [0, 0]);
        return;
      }
      case 'ellipse': {
        const [[ax, ay], [bx, by]] = region.majorAxis;
        const [[cx, cy], [dx, dy]] = region.minorAxis;
        const centerX = (ax + bx) / 2;
        const centerY = (ay + by) / 2;
        const semiMajor = Math.hypot(bx - ax, by - ay) / 2;
        const semiMinor = Math.hypot(dx - cx, dy - cy) / 2;
        const angle = Math.atan2(by - ay, bx - ax);
        const samples = Math.max(16, Math.ceil(4 * Math.PI * semiMajor));
        let previous: readonly [number, number] | undefined;
        for (let i = 0; i <= samples; i++) {
          const t = (2 * Math.PI * i) / samples;
          const u = semiMajor * Math.cos(t);
          const v = semiMinor * Math.sin(t);
          const point = [centerX + u * Math.cos(angle) - v * Math.sin(angle), centerY + u * Math.sin(angle) + v * Math.cos(angle)] as const;
          if (previous !== undefined) this.#line(previous, point);
          previous = point;
        }
        return;
      }
      case 'point': {
        // A small cross, so one point is visible at all.
        const [x, y] = region.point;
        this.#line([x - 3, y], [x + 3, y]);
        this.#line([x, y - 3], [x, y + 3]);
        return;
      }
    }
  }

  /** OverlayData: one bit per pixel, row by row, the first pixel in the low bit of the first byte, padded to 16 bits (PS3.5 8.1.2). */
  toOverlayData(): ArrayBuffer {
    const bytes = new Uint8Array(Math.ceil(this.#bits.length / 16) * 2);
    this.#bits.forEach((bit, i) => {
      if (bit === 1) bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
    });
    return bytes.buffer;
  }
}
