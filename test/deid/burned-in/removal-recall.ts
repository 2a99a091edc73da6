// How much of a planted string can still be read after covering: the
// measure of issue 5. A string counts as removed when no 3 consecutive
// characters of it can be read back where it was drawn.

import type { PixelBox, RenderedFrame } from '../../../plugin/deid/burned-in/text-regions';

/** A copy of `frame` with `boxes` filled with black. */
export function coverFrame(frame: RenderedFrame, boxes: readonly PixelBox[]): RenderedFrame {
  const data = Uint8Array.from(frame.data);
  for (const b of boxes) {
    for (let y = Math.max(0, b.y); y < Math.min(frame.height, b.y + b.height); y++) {
      data.fill(0, (y * frame.width + Math.max(0, b.x)) * frame.channels, (y * frame.width + Math.min(frame.width, b.x + b.width)) * frame.channels);
    }
  }
  return { ...frame, data };
}

// Characters OCR confuses are folded alike on both sides, so a misread counts as read (the measure errs towards leaking).
const FOLD: Readonly<Record<string, string>> = { O: '0', D: '0', Q: '0', I: '1', L: '1', '|': '1', Z: '2', S: '5', B: '8', G: '6' };

/** Upper case, letters and digits only, confusable characters folded. */
export function matchForm(s: string): string {
  return Array.from(s.toUpperCase().replace(/[^\p{L}\p{N}|]/gu, ''), (c) => FOLD[c] ?? c).join('');
}

/** Characters of `planted` that lie in a run of 3+ characters found in one of `readBack`. */
export function leakedCharacters(planted: string, readBack: readonly string[]): number {
  const p = matchForm(planted);
  const texts = readBack.map(matchForm);
  const leaked = new Uint8Array(p.length);
  for (let i = 0; i + 3 <= p.length; i++) {
    const tri = p.slice(i, i + 3);
    if (texts.some((t) => t.includes(tri))) leaked.fill(1, i, i + 3);
  }
  return leaked.reduce((a, b) => a + b, 0);
}

export function overlaps(a: PixelBox, b: PixelBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Fraction of the frame inside the union of `boxes`. */
export function coveredFraction(width: number, height: number, boxes: readonly PixelBox[]): number {
  const mask = new Uint8Array(width * height);
  for (const b of boxes) {
    for (let y = Math.max(0, b.y); y < Math.min(height, b.y + b.height); y++) mask.fill(1, y * width + Math.max(0, b.x), y * width + Math.min(width, b.x + b.width));
  }
  return mask.reduce((a, v) => a + v, 0) / (width * height);
}
