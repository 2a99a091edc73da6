// One frame of a StoredImage as plugin/pixels' DecodedImage (modality values
// or 8-bit RGB), so that the OCR renders it the way the annotator sees
// images (render-frame.ts).

import type { DecodedImage, FrameGeometry } from '../../pixels';
import type { NativeFrameGeometry } from '../../pixels/native-pixels';
import type { PaletteLut, StoredImage } from './stored-image';
import { storedValueReader } from './stored-sample';

function geometry(g: NativeFrameGeometry | undefined): FrameGeometry {
  const slope = g?.rescaleSlope?.[0] ?? 1;
  const center = g?.windowCenter?.[0];
  const width = g?.windowWidth?.[0];
  return {
    rescaleSlope: slope === 0 ? 1 : slope,
    rescaleIntercept: g?.rescaleIntercept?.[0] ?? 0,
    ...(center !== undefined && width !== undefined && width > 0 ? { windowCenter: center, windowWidth: width } : {}),
  };
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** PS3.3 C.7.6.3.1.5: stored value → 8-bit entry (16-bit entries keep their high byte). */
function lookup(lut: PaletteLut, value: number): number {
  const [entries, first, bits] = lut.descriptor;
  const count = entries === 0 ? 65536 : entries;
  const index = Math.min(Math.max(value - first, 0), count - 1);
  const entry = lut.data[index] ?? 0;
  return bits === 8 ? entry & 0xff : entry >> 8;
}

function rgbFrame(image: StoredImage, frame: Uint8Array | Uint16Array): Uint8Array {
  const pixels = image.rows * image.columns;
  const out = new Uint8Array(pixels * 3);
  const shift = Math.max(0, image.bitsStored - 8);
  const scale = 2 ** shift;
  if (image.photometricInterpretation === 'PALETTE COLOR' && image.palette) {
    const { red, green, blue } = image.palette;
    const read = storedValueReader(image);
    for (let i = 0; i < pixels; i++) {
      const v = read(frame[i] ?? 0);
      out[3 * i] = lookup(red, v);
      out[3 * i + 1] = lookup(green, v);
      out[3 * i + 2] = lookup(blue, v);
    }
    return out;
  }
  const ybr = image.photometricInterpretation === 'YBR_FULL';
  const read = storedValueReader(image);
  for (let i = 0; i < pixels; i++) {
    const a = read(frame[3 * i] ?? 0) / scale;
    const b = read(frame[3 * i + 1] ?? 0) / scale;
    const c = read(frame[3 * i + 2] ?? 0) / scale;
    if (ybr) {
      // PS3.3 C.7.6.3.1.2 YBR_FULL (ITU-R BT.601 full range) back to RGB.
      out[3 * i] = clamp8(a + 1.402 * (c - 128));
      out[3 * i + 1] = clamp8(a - 0.344136 * (b - 128) - 0.714136 * (c - 128));
      out[3 * i + 2] = clamp8(a + 1.772 * (b - 128));
    } else {
      out[3 * i] = clamp8(a);
      out[3 * i + 1] = clamp8(b);
      out[3 * i + 2] = clamp8(c);
    }
  }
  return out;
}

export function decodedFrame(image: StoredImage, frameIndex: number): DecodedImage {
  const frame = image.frames[frameIndex];
  if (frame === undefined) throw new RangeError(`frame ${String(frameIndex)} is outside the image`);
  const g = geometry(image.frameGeometry[frameIndex]);
  const grayscale = image.samplesPerPixel === 1 && image.photometricInterpretation !== 'PALETTE COLOR';
  let pixels: DecodedImage['pixels'];
  if (grayscale) {
    const values = new Float32Array(frame.length);
    const read = storedValueReader(image);
    for (let i = 0; i < frame.length; i++) values[i] = read(frame[i] ?? 0) * g.rescaleSlope + g.rescaleIntercept;
    pixels = { kind: 'grayscale', frames: [values] };
  } else {
    pixels = { kind: 'rgb', frames: [rgbFrame(image, frame)] };
  }
  return {
    transferSyntaxUid: image.transferSyntaxUid,
    rows: image.rows,
    columns: image.columns,
    numberOfFrames: 1,
    samplesPerPixel: image.samplesPerPixel,
    photometricInterpretation: image.photometricInterpretation,
    bitsStored: image.bitsStored,
    rescaleSlope: g.rescaleSlope,
    rescaleIntercept: g.rescaleIntercept,
    ...(g.windowCenter !== undefined && g.windowWidth !== undefined ? { windowCenter: g.windowCenter, windowWidth: g.windowWidth } : {}),
    frameGeometry: [g],
    header: { sopClassUid: '', sopInstanceUid: '' },
    pixels,
  };
}
