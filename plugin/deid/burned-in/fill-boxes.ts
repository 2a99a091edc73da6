import type { PixelBoxRecord } from '../../core/deid-messages';
import type { StoredImage } from './stored-image';
import type { CoverBox } from './text-regions';

/**
 * Fills each box of frame `frameIndex` with `black` (one stored word per
 * sample), in place. Boxes are clipped to the image, with fractional edges
 * rounded outwards so that a box never covers less than the finder asked.
 * Returns the boxes as filled (empty ones dropped), for the audit record.
 */
export function fillBoxes(image: StoredImage, frameIndex: number, boxes: readonly CoverBox[], black: readonly number[]): PixelBoxRecord[] {
  const frame = image.frames[frameIndex];
  if (frame === undefined) throw new RangeError(`frame ${String(frameIndex)} is outside the image`);
  const spp = image.samplesPerPixel;
  const filled: PixelBoxRecord[] = [];
  for (const box of boxes) {
    const x0 = Math.max(0, Math.floor(box.x));
    const y0 = Math.max(0, Math.floor(box.y));
    const x1 = Math.min(image.columns, Math.ceil(box.x + box.width));
    const y1 = Math.min(image.rows, Math.ceil(box.y + box.height));
    if (!(x1 > x0 && y1 > y0)) continue;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const at = (y * image.columns + x) * spp;
        for (let s = 0; s < spp; s++) frame[at + s] = black[s] ?? 0;
      }
    }
    filled.push({ frame: frameIndex, x: x0, y: y0, width: x1 - x0, height: y1 - y0, reason: box.reason, rule: box.rule });
  }
  return filled;
}
