// The stored samples of every frame of an original, in one layout whatever the
// transfer syntax: what Clean Pixel Data fills and writes back. Stored values,
// not modality values: a filled box must be a value the pixel data can hold.

import type { NativeFrameGeometry } from '../../pixels/native-pixels';
import { decodeJpeg2000Frame } from '../../pixels/jpeg2000';
import { PixelError } from '../../pixels/pixel-error';
import type { DicomDocument } from '../native-dicom';

export interface PaletteLut {
  /** PS3.3 C.7.6.3.1.5: entries (0 = 65536), first stored value mapped, bits per entry. */
  readonly descriptor: readonly [number, number, number];
  readonly data: Uint16Array;
}

export interface StoredImage {
  /** The original's transfer syntax. */
  readonly transferSyntaxUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly numberOfFrames: number;
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: 8 | 16;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly pixelRepresentation: 0 | 1;
  /** As stored in the original. */
  readonly storedPhotometricInterpretation: string;
  /**
   * Of `frames`: decoders turn JPEG's YBR_FULL_422 into RGB, JPEG 2000's YBR_RCT/ICT into RGB,
   * and native YBR_FULL_422 is upsampled here to YBR_FULL.
   */
  readonly photometricInterpretation: string;
  /** One per frame, colour-by-pixel (PlanarConfiguration 0), raw sample words as stored (bits outside BitsStored included). */
  readonly frames: readonly (Uint8Array | Uint16Array)[];
  /** The pixels were lossy compressed at some point (header says 01, or a lossy transfer syntax / codestream). */
  readonly lossy: boolean;
  /** PS3.3 C.7.6.1.1.5 Defined Term of the lossy method of this transfer syntax, when it is lossy. */
  readonly lossyMethod?: string;
  readonly modality: string;
  readonly manufacturer: string;
  readonly manufacturerModelName: string;
  readonly burnedInAnnotation: string;
  readonly frameGeometry: readonly NativeFrameGeometry[];
  readonly palette?: { readonly red: PaletteLut; readonly green: PaletteLut; readonly blue: PaletteLut };
}

const JPEG_2000 = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93']);

/** PS3.3 C.7.6.1.1.5.1 Defined Terms, for the syntaxes that can be lossy. */
const LOSSY_METHOD: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.50': 'ISO_10918_1',
  '1.2.840.10008.1.2.4.51': 'ISO_10918_1',
  '1.2.840.10008.1.2.4.81': 'ISO_14495_1',
  '1.2.840.10008.1.2.4.91': 'ISO_15444_1',
  '1.2.840.10008.1.2.4.93': 'ISO_15444_1',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function bad(reason: string): never {
  throw new PixelError('AIB_PIXELS_ADDON', `the addon's storedPixels returned an unexpected shape: ${reason}`);
}

function integer(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(key);
  return v;
}

function text(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') bad(key);
  return v;
}

function palette(o: unknown): StoredImage['palette'] {
  if (o === undefined) return undefined;
  if (!isRecord(o)) bad('palette');
  const lut = (colour: string): PaletteLut => {
    const l = o[colour];
    if (!isRecord(l) || !Array.isArray(l.descriptor) || l.descriptor.length !== 3 || !(l.data instanceof Uint16Array)) bad(`palette.${colour}`);
    const [n, first, bits] = l.descriptor as number[];
    return { descriptor: [n ?? 0, first ?? 0, bits ?? 16], data: l.data };
  };
  return { red: lut('red'), green: lut('green'), blue: lut('blue') };
}

/**
 * PS3.15-1 A.4.4 irreversible or reversible: the COD marker segment's wavelet
 * transformation byte (ISO/IEC 15444-1 A.6.1: 0 = 9-7 irreversible). A
 * codestream without a readable COD is treated as lossy.
 */
export function jpeg2000IsIrreversible(codestream: Uint8Array): boolean {
  let at = 2; // after SOC
  while (at + 4 <= codestream.length && codestream[at] === 0xff) {
    const marker = codestream[at + 1] ?? 0;
    const length = ((codestream[at + 2] ?? 0) << 8) | (codestream[at + 3] ?? 0);
    if (marker === 0x52) return (codestream[at + 13] ?? 0) === 0;
    if (marker === 0x90) break; // SOT: main header over
    at += 2 + length;
  }
  return true;
}

/** Planar (RRR…GGG…BBB…) to colour-by-pixel. */
function interleave<T extends Uint8Array | Uint16Array>(planar: T, pixels: number): T {
  const out = new (planar.constructor as new (n: number) => T)(planar.length);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planar[i] ?? 0;
    out[3 * i + 1] = planar[pixels + i] ?? 0;
    out[3 * i + 2] = planar[2 * pixels + i] ?? 0;
  }
  return out;
}

/** PS3.3 C.7.6.3.1.2: native YBR_FULL_422 is Y1 Y2 Cb Cr per pair of pixels; chroma shared by the pair. */
function upsample422<T extends Uint8Array | Uint16Array>(packed: T, pixels: number): T {
  const out = new (packed.constructor as new (n: number) => T)(pixels * 3);
  for (let pair = 0; 2 * pair < pixels; pair++) {
    const cb = packed[4 * pair + 2] ?? 0;
    const cr = packed[4 * pair + 3] ?? 0;
    for (let k = 0; k < 2; k++) {
      const p = 2 * pair + k;
      out[3 * p] = packed[4 * pair + k] ?? 0;
      out[3 * p + 1] = cb;
      out[3 * p + 2] = cr;
    }
  }
  return out;
}

function words(bytes: Uint8Array, bitsAllocated: 8 | 16): Uint8Array | Uint16Array {
  if (bitsAllocated === 8) return new Uint8Array(bytes);
  const out = new Uint16Array(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The addon hands host-order words (little endian on every platform Node runs this on).
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
  return out;
}

/**
 * Reads (and, except JPEG 2000, decodes through DCMTK) every frame of a parsed
 * original. Throws PixelError AIB_PIXELS_* naming the transfer syntax:
 * CORRUPT (damaged stream, frame of the wrong length), UNSUPPORTED_SYNTAX,
 * UNSUPPORTED_LAYOUT, NO_PIXEL_DATA.
 */
export function readStoredImage(document: DicomDocument): StoredImage {
  const o = document.storedPixels();
  if (!isRecord(o)) bad('not an object');
  const transferSyntaxUid = text(o, 'transferSyntaxUid');
  const rows = integer(o, 'rows');
  const columns = integer(o, 'columns');
  const numberOfFrames = integer(o, 'numberOfFrames');
  const samplesPerPixel = integer(o, 'samplesPerPixel');
  const bitsAllocated = integer(o, 'bitsAllocated');
  const bitsStored = integer(o, 'bitsStored');
  const highBit = integer(o, 'highBit');
  const pixelRepresentation = integer(o, 'pixelRepresentation') === 1 ? 1 : 0;
  const storedPhotometric = text(o, 'storedPhotometricInterpretation');
  let photometric = text(o, 'photometricInterpretation');
  const planar = integer(o, 'planarConfiguration');
  if ((samplesPerPixel !== 1 && samplesPerPixel !== 3) || (bitsAllocated !== 8 && bitsAllocated !== 16)) bad('layout');
  const raw = o.frames;
  if (!Array.isArray(raw) || raw.length !== numberOfFrames || !raw.every((f) => f instanceof Uint8Array)) bad('frames');
  const pixels = rows * columns;
  const samples = pixels * samplesPerPixel;
  const syntax = `transfer syntax ${transferSyntaxUid}`;
  let frames: (Uint8Array | Uint16Array)[];
  let lossy = text(o, 'lossyImageCompression') === '01';
  let lossyMethod = LOSSY_METHOD[transferSyntaxUid];
  if (o.encoding === 'jpeg2000' && JPEG_2000.has(transferSyntaxUid)) {
    const codestreams = raw;
    if (codestreams.some(jpeg2000IsIrreversible)) lossy = true;
    else lossyMethod = undefined;
    frames = codestreams.map((c, index) => {
      const d = decodeJpeg2000Frame(c, transferSyntaxUid, { columns, rows, samplesPerPixel, bitsAllocated });
      if (d.width !== columns || d.height !== rows || d.components !== samplesPerPixel)
        throw new PixelError('AIB_PIXELS_CORRUPT', `frame ${String(index + 1)}: the JPEG 2000 codestream is ${String(d.width)}x${String(d.height)}x${String(d.components)}, ` +
          `the header says ${String(columns)}x${String(rows)}x${String(samplesPerPixel)} (${syntax})`, { transferSyntaxUid });
      const mask = bitsStored >= 16 ? 0xffff : (1 << bitsStored) - 1;
      const out = bitsAllocated === 8 ? new Uint8Array(samples) : new Uint16Array(samples);
      // Two's complement within BitsStored, as native pixel data holds signed samples.
      for (let i = 0; i < samples; i++) out[i] = (d.samples[i] ?? 0) & mask;
      return out;
    });
    // The codestream's component transform (RCT/ICT) is undone by the decoder: the samples are RGB.
    if (photometric === 'YBR_RCT' || photometric === 'YBR_ICT') photometric = 'RGB';
  } else if (o.encoding === 'native') {
    const subsampled = photometric === 'YBR_FULL_422';
    frames = (raw).map((bytes) => {
      let f = words(bytes, bitsAllocated);
      if (subsampled) f = upsample422(f, pixels);
      else if (samplesPerPixel === 3 && planar === 1) f = interleave(f, pixels);
      if (f.length !== samples) throw new PixelError('AIB_PIXELS_CORRUPT', `a frame holds ${String(f.length)} samples, not ${String(samples)} (${syntax})`, { transferSyntaxUid });
      return f;
    });
    if (subsampled) photometric = 'YBR_FULL';
    if (lossyMethod !== undefined) lossy = true;
  } else {
    bad('encoding');
  }
  if (samplesPerPixel === 1 && !['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR'].includes(photometric))
    throw new PixelError('AIB_PIXELS_UNSUPPORTED_LAYOUT', `Photometric Interpretation ${photometric} with one sample cannot be cleaned (${syntax})`, { transferSyntaxUid });
  if (samplesPerPixel === 3 && !['RGB', 'YBR_FULL'].includes(photometric))
    throw new PixelError('AIB_PIXELS_UNSUPPORTED_LAYOUT', `Photometric Interpretation ${photometric} cannot be cleaned (${syntax})`, { transferSyntaxUid });
  const geometry = o.frameGeometry;
  if (!Array.isArray(geometry) || geometry.length !== numberOfFrames) bad('frameGeometry');
  const lut = palette(o.palette);
  if (photometric === 'PALETTE COLOR' && lut === undefined) bad('palette');
  return {
    transferSyntaxUid, rows, columns, numberOfFrames, samplesPerPixel, bitsAllocated, bitsStored, highBit, pixelRepresentation,
    storedPhotometricInterpretation: storedPhotometric, photometricInterpretation: photometric, frames, lossy,
    ...(lossy && lossyMethod !== undefined ? { lossyMethod } : {}),
    modality: text(o, 'modality'), manufacturer: text(o, 'manufacturer'), manufacturerModelName: text(o, 'manufacturerModelName'),
    burnedInAnnotation: text(o, 'burnedInAnnotation'), frameGeometry: geometry as NativeFrameGeometry[],
    ...(lut ? { palette: lut } : {}),
  };
}
