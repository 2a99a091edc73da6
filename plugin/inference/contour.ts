/**
 * Outline of a region: Moore-neighbour tracing of the outer boundary (pixel
 * centres, Jacob's stopping criterion), then Ramer–Douglas–Peucker
 * simplification with a growing tolerance until the polygon fits the point
 * budget (GSPS and SR viewers draw a few dozen points comfortably).
 */
import type { BinaryMask } from './binary-mask';

type Point = readonly [number, number];

// Clockwise in image coordinates (y down), starting west.
const DX = [-1, -1, 0, 1, 1, 1, 0, -1] as const;
const DY = [0, -1, -1, -1, 0, 1, 1, 1] as const;

function directionOf(dx: number, dy: number): number {
  for (let i = 0; i < 8; i++) if (DX[i] === dx && DY[i] === dy) return i;
  return 0;
}

/** Boundary pixels of the component containing the first foreground pixel in raster order. */
export function traceBoundary(mask: BinaryMask): Point[] {
  const { width, height, data } = mask;
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] === 1;
  const first = data.indexOf(1);
  if (first < 0) return [];
  const sx = first % width;
  const sy = (first - sx) / width;
  const points: Point[] = [[sx, sy]];
  // Raster order: the west neighbour of the first pixel is background.
  let x = sx;
  let y = sy;
  let back = 0;
  const startBack = back;
  const limit = 4 * width * height + 8;
  for (let step = 0; step < limit; step++) {
    let found = -1;
    for (let k = 1; k <= 8; k++) {
      const d = (back + k) % 8;
      if (inside(x + (DX[d] ?? 0), y + (DY[d] ?? 0))) {
        found = d;
        break;
      }
    }
    if (found < 0) return points; // a single pixel
    const previous = (found + 7) % 8;
    const bx = x + (DX[previous] ?? 0);
    const by = y + (DY[previous] ?? 0);
    x += DX[found] ?? 0;
    y += DY[found] ?? 0;
    back = directionOf(bx - x, by - y);
    if (x === sx && y === sy && back === startBack) break;
    points.push([x, y]);
  }
  return points;
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length2 = dx * dx + dy * dy;
  if (length2 === 0) return Math.hypot(p[0] - a[0], p[1] - a[1]);
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

function rdp(points: readonly Point[], epsilon: number): Point[] {
  if (points.length < 3) return [...points];
  const a = points[0] as Point;
  const b = points[points.length - 1] as Point;
  let index = 0;
  let max = 0;
  for (let i = 1; i < points.length - 1; i++) {
    const d = distanceToSegment(points[i] as Point, a, b);
    if (d > max) {
      max = d;
      index = i;
    }
  }
  if (max <= epsilon) return [a, b];
  const left = rdp(points.slice(0, index + 1), epsilon);
  return [...left.slice(0, -1), ...rdp(points.slice(index), epsilon)];
}

/** Closed polygon simplification: split at the point farthest from the first, simplify both halves. */
export function simplifyClosed(points: readonly Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints) return [...points];
  const start = points[0] as Point;
  let far = 0;
  let max = -1;
  points.forEach((p, i) => {
    const d = Math.hypot(p[0] - start[0], p[1] - start[1]);
    if (d > max) {
      max = d;
      far = i;
    }
  });
  let epsilon = 0.5;
  for (;;) {
    const first = rdp(points.slice(0, far + 1), epsilon);
    const second = rdp([...points.slice(far), start], epsilon);
    const polygon = [...first.slice(0, -1), ...second.slice(0, -1)];
    if (polygon.length <= maxPoints) return polygon;
    epsilon *= 1.5;
  }
}
