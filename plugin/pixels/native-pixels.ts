/**
 * Typed boundary of `decodeDicomPixels` in build/Release/aibridge_addon.node
 * (native/addon/dicom-pixels.cpp, DCMTK). Everything the addon returns is
 * checked here, so a mismatch between C++ and TS fails loudly at the edge
 * instead of as a wrong number deep inside an inference function.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { isPixelErrorCode, PixelError } from './pixel-error';

/** dist/plugin/pixels → <repo>/build/Release. */
const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'aibridge_addon.node');

export interface NativeFrameGeometry {
  readonly pixelSpacing?: readonly number[];
  readonly rescaleSlope?: readonly number[];
  readonly rescaleIntercept?: readonly number[];
  readonly windowCenter?: readonly number[];
  readonly windowWidth?: readonly number[];
  readonly imagePositionPatient?: readonly number[];
  readonly imageOrientationPatient?: readonly number[];
}

interface NativeCommon {
  readonly transferSyntaxUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly numberOfFrames: number;
  readonly samplesPerPixel: number;
  readonly photometricInterpretation: string;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly pixelRepresentation: number;
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly modality?: string;
  readonly bodyPartExamined?: string;
  readonly studyDescription?: string;
  readonly seriesDescription?: string;
  readonly viewPosition?: string;
  readonly instanceNumber?: readonly number[];
  readonly imagerPixelSpacing?: readonly number[];
  readonly sliceThickness?: readonly number[];
  readonly spacingBetweenSlices?: readonly number[];
  readonly frameGeometry: readonly NativeFrameGeometry[];
}

/** Stored values (sign applied, BitsStored extracted), RGB, or still-encoded JPEG 2000 frames. */
export type NativePixels = NativeCommon &
  (
    | { readonly encoding: 'stored'; readonly frames: readonly Int32Array[] }
    | { readonly encoding: 'rgb8'; readonly frames: readonly Uint8Array[] }
    | { readonly encoding: 'jpeg2000'; readonly frames: readonly Buffer[] }
  );

interface PixelsAddon {
  decodeDicomPixels(bytes: Buffer): unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isNumberList(value: unknown): boolean {
  return value === undefined || (Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v)));
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function fail(reason: string): never {
  throw new PixelError('AIB_PIXELS_ADDON', `aibridge_addon.decodeDicomPixels returned an unexpected shape: ${reason}`);
}

function checkShape(value: unknown): NativePixels {
  if (!isRecord(value)) fail('not an object');
  for (const key of ['rows', 'columns', 'numberOfFrames', 'samplesPerPixel', 'bitsAllocated', 'bitsStored', 'pixelRepresentation']) {
    const v = value[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(key);
  }
  for (const key of ['transferSyntaxUid', 'photometricInterpretation', 'encoding']) if (typeof value[key] !== 'string') fail(key);
  for (const key of ['sopClassUid', 'sopInstanceUid', 'studyInstanceUid', 'seriesInstanceUid', 'modality', 'bodyPartExamined',
    'studyDescription', 'seriesDescription', 'viewPosition']) if (!isOptionalString(value[key])) fail(key);
  for (const key of ['instanceNumber', 'imagerPixelSpacing', 'sliceThickness', 'spacingBetweenSlices']) if (!isNumberList(value[key])) fail(key);
  const geometry = value.frameGeometry;
  if (!Array.isArray(geometry) || geometry.length !== value.numberOfFrames) fail('frameGeometry');
  for (const g of geometry as unknown[]) {
    if (!isRecord(g)) fail('frameGeometry item');
    for (const v of Object.values(g)) if (!isNumberList(v)) fail('frameGeometry value');
  }
  const frames = value.frames;
  if (!Array.isArray(frames) || frames.length !== value.numberOfFrames) fail('frames');
  const expected = (value.rows as number) * (value.columns as number);
  const framesOk: boolean =
    value.encoding === 'stored' ? frames.every((f) => f instanceof Int32Array && f.length === expected)
      : value.encoding === 'rgb8' ? frames.every((f) => f instanceof Uint8Array && f.length === expected * 3)
        : value.encoding === 'jpeg2000' && frames.every((f) => Buffer.isBuffer(f));
  if (!framesOk) fail(`frames for encoding ${String(value.encoding)}`);
  return value as unknown as NativePixels;
}

let addon: PixelsAddon | undefined;

function loadAddon(): PixelsAddon {
  if (addon) return addon;
  const loaded: unknown = createRequire(__filename)(ADDON_PATH);
  if (!isRecord(loaded) || typeof loaded.decodeDicomPixels !== 'function')
    throw new PixelError('AIB_PIXELS_ADDON', `${ADDON_PATH} does not export decodeDicomPixels; rebuild with node-gyp`);
  addon = loaded as unknown as PixelsAddon;
  return addon;
}

/** Parses and (except JPEG 2000) decodes; throws PixelError with the addon's code. */
export function decodeNativePixels(bytes: Buffer): NativePixels {
  const native = loadAddon();
  let result: unknown;
  try {
    result = native.decodeDicomPixels(bytes);
  } catch (error: unknown) {
    if (isRecord(error) && isPixelErrorCode(error.code) && typeof error.message === 'string')
      throw new PixelError(error.code, error.message);
    throw error;
  }
  return checkShape(result);
}
