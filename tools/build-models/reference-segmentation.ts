/**
 * The reference the shipped models are measured against: a conventional
 * threshold segmentation at the image's full resolution, written
 * independently of the ONNX graphs (no smoothing, no morphology, different
 * code path), with 8-connected flood fills. It is what a careful
 * hand-threshold in a viewer would give, not an expert contour: docs/models.md
 * says so next to every number.
 */
function flood(mask: Uint8Array, rows: number, columns: number, seeds: readonly number[]): Uint8Array {
  const reached = new Uint8Array(mask.length);
  const stack: number[] = [];
  for (const s of seeds) if (mask[s] === 1 && reached[s] === 0) { reached[s] = 1; stack.push(s); }
  while (stack.length > 0) {
    const p = stack.pop() ?? 0;
    const x = p % columns;
    const y = (p - x) / columns;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= columns || ny >= rows) continue;
        const q = ny * columns + nx;
        if (mask[q] === 1 && reached[q] === 0) { reached[q] = 1; stack.push(q); }
      }
    }
  }
  return reached;
}

function borderSeeds(rows: number, columns: number): number[] {
  const seeds: number[] = [];
  for (let x = 0; x < columns; x++) seeds.push(x, (rows - 1) * columns + x);
  for (let y = 0; y < rows; y++) seeds.push(y * columns, y * columns + columns - 1);
  return seeds;
}

/** Components (8-connected) of `mask` with at least `minPixels` pixels. */
function keepLarge(mask: Uint8Array, rows: number, columns: number, minPixels: number): Uint8Array {
  const seen = new Uint8Array(mask.length);
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1 || seen[i] === 1) continue;
    const part = flood(mask, rows, columns, [i]);
    let n = 0;
    for (let k = 0; k < part.length; k++) if (part[k] === 1) { seen[k] = 1; n++; }
    if (n >= minPixels) for (let k = 0; k < part.length; k++) if (part[k] === 1) out[k] = 1;
  }
  return out;
}

/** Air below `airBelowHu` not connected to the image edge, in components of at least `minMm2`. */
export function enclosedAir(values: Float32Array, rows: number, columns: number, spacing: readonly [number, number], airBelowHu: number, minMm2: number): Uint8Array {
  const air = Uint8Array.from(values, (v) => (v < airBelowHu ? 1 : 0));
  const outside = flood(air, rows, columns, borderSeeds(rows, columns));
  const inside = air.map((v, i) => (v === 1 && outside[i] === 0 ? 1 : 0));
  return keepLarge(inside, rows, columns, minMm2 / (spacing[0] * spacing[1]));
}

/** Pixels within [low, high] HU enclosed by a ring of pixels above `boneHu` (the largest such cavity). */
export function enclosedByBone(values: Float32Array, rows: number, columns: number, spacing: readonly [number, number], boneHu: number, low: number, high: number, minMm2: number): Uint8Array {
  const notBone = Uint8Array.from(values, (v) => (v < boneHu ? 1 : 0));
  const outside = flood(notBone, rows, columns, borderSeeds(rows, columns));
  const soft = values.map((v, i) => (outside[i] === 0 && v >= low && v <= high ? 1 : 0));
  const large = keepLarge(Uint8Array.from(soft), rows, columns, minMm2 / (spacing[0] * spacing[1]));
  return large;
}

export function dice(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    both += (a[i] ?? 0) & (b[i] ?? 0);
    sa += a[i] ?? 0;
    sb += b[i] ?? 0;
  }
  return sa + sb === 0 ? 1 : (2 * both) / (sa + sb);
}
