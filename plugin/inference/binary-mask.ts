/** Binary masks at model resolution and the classical operations on them. */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  /** 1 inside, 0 outside; index = row * width + column. */
  readonly data: Uint8Array;
}

export interface Components {
  /** 0 = background, 1..count = component. */
  readonly labels: Int32Array;
  readonly count: number;
  /** index = label */
  readonly areas: readonly number[];
  readonly touchesBorder: readonly boolean[];
}

export function emptyMask(width: number, height: number): BinaryMask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function thresholdChannel(values: Float32Array, offset: number, width: number, height: number, threshold: number): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (values[offset + i] ?? 0) >= threshold ? 1 : 0;
  return { width, height, data };
}

/** 4-connected components of the pixels equal to `value` (1: regions, 0: background). */
export function components(mask: BinaryMask, value: 0 | 1 = 1): Components {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  const areas = [0];
  const touchesBorder = [false];
  const stack = new Int32Array(width * height);
  let count = 0;
  for (let start = 0; start < data.length; start++) {
    if (data[start] !== value || labels[start] !== 0) continue;
    count++;
    let area = 0;
    let border = false;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const p = stack[--top] ?? 0;
      area++;
      const x = p % width;
      const y = (p - x) / width;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) border = true;
      const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
      for (const q of neighbours) {
        if (q >= 0 && data[q] === value && labels[q] === 0) {
          labels[q] = count;
          stack[top++] = q;
        }
      }
    }
    areas.push(area);
    touchesBorder.push(border);
  }
  return { labels, count, areas, touchesBorder };
}

export function keepLabels(c: Components, width: number, height: number, keep: (label: number) => boolean): BinaryMask {
  const out = emptyMask(width, height);
  for (let i = 0; i < c.labels.length; i++) {
    const l = c.labels[i] ?? 0;
    if (l > 0 && keep(l)) out.data[i] = 1;
  }
  return out;
}

/** Background components that do not reach the image edge become foreground. */
export function fillHoles(mask: BinaryMask): BinaryMask {
  const background = components(mask, 0);
  const out = { width: mask.width, height: mask.height, data: Uint8Array.from(mask.data) };
  for (let i = 0; i < out.data.length; i++) {
    const l = background.labels[i] ?? 0;
    if (l > 0 && background.touchesBorder[l] !== true) out.data[i] = 1;
  }
  return out;
}

export function intersect(a: BinaryMask, b: BinaryMask): BinaryMask {
  const out = emptyMask(a.width, a.height);
  for (let i = 0; i < out.data.length; i++) out.data[i] = (a.data[i] ?? 0) & (b.data[i] ?? 0);
  return out;
}

export function area(mask: BinaryMask): number {
  let n = 0;
  for (const v of mask.data) n += v;
  return n;
}

export function largestLabel(c: Components, eligible: (label: number) => boolean = () => true): number {
  let best = 0;
  for (let l = 1; l <= c.count; l++) if (eligible(l) && (c.areas[l] ?? 0) > (c.areas[best] ?? 0)) best = l;
  return best;
}
