// Stored sample words ↔ stored values (PS3.5 8.1.1: BitsStored bits ending at
// HighBit, two's complement when PixelRepresentation is 1).

import type { StoredImage } from './stored-image';

type Layout = Pick<StoredImage, 'bitsStored' | 'highBit' | 'pixelRepresentation'>;

/** A reader of stored values for one layout (the per-sample work of a whole frame: keep it cheap). */
export function storedValueReader(layout: Layout): (word: number) => number {
  const shift = layout.highBit + 1 - layout.bitsStored;
  const mask = 2 ** layout.bitsStored - 1;
  if (layout.pixelRepresentation !== 1) return (word) => (word >>> shift) & mask;
  const sign = 2 ** (layout.bitsStored - 1);
  return (word) => {
    const v = (word >>> shift) & mask;
    return v >= sign ? v - mask - 1 : v;
  };
}

export function storedWord(value: number, layout: Layout): number {
  const shift = layout.highBit + 1 - layout.bitsStored;
  const mask = 2 ** layout.bitsStored - 1;
  return (value & mask) * 2 ** shift;
}

/** Index of the darkest entry (lowest R+G+B) of a PALETTE COLOR image, as a stored value. */
function darkestPaletteIndex(image: StoredImage): number {
  const palette = image.palette;
  if (palette === undefined) return 0;
  const [entries, first] = palette.red.descriptor;
  const count = entries === 0 ? 65536 : entries;
  let best = first;
  let bestSum = Infinity;
  for (let i = 0; i < count; i++) {
    const sum = (palette.red.data[i] ?? 0) + (palette.green.data[i] ?? 0) + (palette.blue.data[i] ?? 0);
    if (sum < bestSum) { bestSum = sum; best = first + i; }
  }
  return best;
}

/**
 * The stored words (one per sample) that display black: the darkest value the
 * image itself holds for grayscale (its minimum, or maximum for MONOCHROME1,
 * so that the box stays inside the image's value range and a viewer's
 * min/max window does not change), zero for RGB, zero luminance with neutral
 * chroma for YBR_FULL, the darkest palette entry for PALETTE COLOR.
 */
export function blackSample(image: StoredImage): readonly number[] {
  const photometric = image.photometricInterpretation;
  if (photometric === 'RGB') return [0, 0, 0];
  if (photometric === 'YBR_FULL') {
    const half = 2 ** (image.bitsStored - 1);
    return [storedWord(0, image), storedWord(half, image), storedWord(half, image)];
  }
  if (photometric === 'PALETTE COLOR') return [storedWord(darkestPaletteIndex(image), image)];
  const invert = photometric === 'MONOCHROME1';
  const read = storedValueReader(image);
  let lowest = Infinity;
  let highest = -Infinity;
  for (const frame of image.frames) {
    for (let i = 0; i < frame.length; i++) {
      const v = read(frame[i] ?? 0);
      if (v < lowest) lowest = v;
      if (v > highest) highest = v;
    }
  }
  const extreme = invert ? highest : lowest;
  return [storedWord(Number.isFinite(extreme) ? extreme : 0, image)];
}
