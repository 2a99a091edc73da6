import type { DecodedImage, DecodedPixels, FrameGeometry, ImageHeader } from './decoded-image';
import { decodeJpeg2000Frame } from './jpeg2000';
import { decodeNativePixels, type NativeFrameGeometry, type NativePixels } from './native-pixels';
import { PixelError } from './pixel-error';

/** A spacing pair; zero or negative spacings (seen in the wild) mean "unknown". */
function pair(values: readonly number[] | undefined): readonly [number, number] | undefined {
  const [a, b] = values ?? [];
  return values?.length === 2 && a !== undefined && b !== undefined && a > 0 && b > 0 ? [a, b] : undefined;
}

function triple(values: readonly number[] | undefined): readonly [number, number, number] | undefined {
  return values?.length === 3 ? [values[0] ?? 0, values[1] ?? 0, values[2] ?? 0] : undefined;
}

function sextuple(values: readonly number[] | undefined): FrameGeometry['imageOrientationPatient'] {
  return values?.length === 6 ? [values[0] ?? 0, values[1] ?? 0, values[2] ?? 0, values[3] ?? 0, values[4] ?? 0, values[5] ?? 0] : undefined;
}

function geometry(g: NativeFrameGeometry): FrameGeometry {
  const pixelSpacing = pair(g.pixelSpacing);
  const position = triple(g.imagePositionPatient);
  const orientation = sextuple(g.imageOrientationPatient);
  // PS3.3 C.11.2.1.2: with several windows the first is the default one.
  const windowCenter = g.windowCenter?.[0];
  const windowWidth = g.windowWidth?.[0];
  // PS3.3 C.11.1.1.2: no Modality LUT module means identity.
  const slope = g.rescaleSlope?.[0] ?? 1;
  return {
    rescaleSlope: slope === 0 ? 1 : slope,
    rescaleIntercept: g.rescaleIntercept?.[0] ?? 0,
    ...(pixelSpacing ? { pixelSpacing } : {}),
    ...(windowCenter !== undefined && windowWidth !== undefined && windowWidth > 0 ? { windowCenter, windowWidth } : {}),
    ...(position ? { imagePositionPatient: position } : {}),
    ...(orientation ? { imageOrientationPatient: orientation } : {}),
  };
}

function header(n: NativePixels): ImageHeader {
  const imagerPixelSpacing = pair(n.imagerPixelSpacing);
  const optional: Record<string, string | number | readonly [number, number]> = {};
  for (const key of ['studyInstanceUid', 'seriesInstanceUid', 'modality', 'bodyPartExamined', 'studyDescription', 'seriesDescription', 'viewPosition'] as const) {
    const v = n[key];
    if (v !== undefined) optional[key] = v;
  }
  for (const key of ['instanceNumber', 'sliceThickness', 'spacingBetweenSlices'] as const) {
    const v = n[key]?.[0];
    if (v !== undefined) optional[key] = v;
  }
  if (imagerPixelSpacing) optional.imagerPixelSpacing = imagerPixelSpacing;
  return { sopClassUid: n.sopClassUid ?? '', sopInstanceUid: n.sopInstanceUid ?? '', ...optional };
}

function modalityValues(stored: Int32Array, g: FrameGeometry): Float32Array {
  const out = new Float32Array(stored.length);
  const { rescaleSlope: slope, rescaleIntercept: intercept } = g;
  for (let i = 0; i < stored.length; i++) out[i] = (stored[i] ?? 0) * slope + intercept;
  return out;
}

function jpeg2000Pixels(n: NativePixels & { encoding: 'jpeg2000' }, frames: readonly FrameGeometry[]): DecodedPixels {
  const decoded = n.frames.map((f) => decodeJpeg2000Frame(f, n.transferSyntaxUid, n));
  for (const d of decoded) {
    if (d.width !== n.columns || d.height !== n.rows || d.components !== n.samplesPerPixel)
      throw new PixelError('AIB_PIXELS_CORRUPT',
        `the JPEG 2000 codestream is ${String(d.width)}x${String(d.height)}x${String(d.components)}, the header says ` +
        `${String(n.columns)}x${String(n.rows)}x${String(n.samplesPerPixel)} (transfer syntax ${n.transferSyntaxUid})`,
        { transferSyntaxUid: n.transferSyntaxUid });
  }
  if (n.samplesPerPixel === 1) {
    return { kind: 'grayscale', frames: decoded.map((d, i) => modalityValues(d.samples, frames[i] ?? geometry({}))) };
  }
  // The codestream's own component transform (ICT/RCT) has already produced RGB.
  const shift = Math.max(0, n.bitsStored - 8);
  return {
    kind: 'rgb',
    frames: decoded.map((d) => Uint8Array.from(d.samples, (v) => Math.max(0, Math.min(255, v >> shift)))),
  };
}

/**
 * Decodes every frame of a DICOM instance (Part 10, or a bare dataset) into
 * modality values or RGB. Throws PixelError: AIB_PIXELS_CORRUPT (damaged or
 * truncated), AIB_PIXELS_UNSUPPORTED_SYNTAX (no decoder for the transfer
 * syntax), AIB_PIXELS_UNSUPPORTED_LAYOUT, AIB_PIXELS_NO_PIXEL_DATA.
 */
export function decodeImage(bytes: Buffer): DecodedImage {
  const n = decodeNativePixels(bytes);
  const frameGeometry = n.frameGeometry.map(geometry);
  const first = frameGeometry[0] ?? geometry({});
  let pixels: DecodedPixels;
  if (n.encoding === 'jpeg2000') pixels = jpeg2000Pixels(n, frameGeometry);
  else if (n.encoding === 'stored') pixels = { kind: 'grayscale', frames: n.frames.map((f, i) => modalityValues(f, frameGeometry[i] ?? first)) };
  else pixels = { kind: 'rgb', frames: n.frames };
  return {
    transferSyntaxUid: n.transferSyntaxUid,
    rows: n.rows,
    columns: n.columns,
    numberOfFrames: n.numberOfFrames,
    samplesPerPixel: n.samplesPerPixel,
    photometricInterpretation: n.photometricInterpretation,
    bitsStored: n.bitsStored,
    rescaleSlope: first.rescaleSlope,
    rescaleIntercept: first.rescaleIntercept,
    ...(first.pixelSpacing ? { pixelSpacing: first.pixelSpacing } : {}),
    ...(first.windowCenter !== undefined && first.windowWidth !== undefined ? { windowCenter: first.windowCenter, windowWidth: first.windowWidth } : {}),
    frameGeometry,
    header: header(n),
    pixels,
  };
}
