/**
 * JPEG 2000 (PS3.5 A.4.4, 1.2.840.10008.1.2.4.90/.91) frames through OpenJPEG
 * compiled to WebAssembly (@cornerstonejs/codec-openjpeg): Debian's DCMTK has
 * no JPEG 2000 codec. The wasm file is read from the installed package and
 * instantiated synchronously, once, so decoding stays a plain function call
 * and nothing is fetched.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { PixelError } from './pixel-error';

interface FrameInfo {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly componentCount: number;
  readonly isSigned: boolean;
}

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  delete(): void;
}

interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

type Factory = (arg: Record<string, unknown>) => Promise<unknown>;

// The WebAssembly global, typed here: the project's lib setting (ES2022, no DOM) does not declare it.
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
}
const wasmApi = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

let openjpeg: OpenJpegModule | undefined;

function load(): OpenJpegModule {
  if (openjpeg) return openjpeg;
  const req = createRequire(__filename);
  const wasm = readFileSync(req.resolve('@cornerstonejs/codec-openjpeg/decodewasm'));
  const factory = req('@cornerstonejs/codec-openjpeg/decodewasmjs') as Factory;
  // Emscripten's instantiateWasm hook: a synchronous WebAssembly.Instance makes the runtime
  // ready before the factory returns, so the module object is usable at once.
  const module: Record<string, unknown> = {
    // OpenJPEG reports header progress on stdout; the annotator's stdout is not a console.
    print: () => undefined,
    printErr: () => undefined,
    instantiateWasm(imports: object, ready: (instance: object) => void): object {
      const instance = new wasmApi.Instance(new wasmApi.Module(wasm), imports);
      ready(instance);
      return instance.exports;
    },
  };
  void factory(module);
  if (typeof module.J2KDecoder !== 'function')
    throw new PixelError('AIB_PIXELS_ADDON', 'the OpenJPEG wasm module did not initialise synchronously');
  openjpeg = module as unknown as OpenJpegModule;
  return openjpeg;
}

/**
 * Reads and instantiates the OpenJPEG wasm now: the sealed de-id worker calls
 * this before it seals, so no file is read once PHI has arrived.
 */
export function prepareJpeg2000(): void {
  load();
}

export interface Jpeg2000Frame {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** Samples, interleaved by pixel for colour; signedness as coded in the codestream. */
  readonly samples: Int32Array;
}

/** What the DICOM header says a frame is: the codestream must say the same before it is decoded. */
export interface Jpeg2000Expected {
  readonly columns: number;
  readonly rows: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
}

/** The image size (ISO/IEC 15444-1 A.5.1, SIZ marker segment) of a codestream, read without decoding it. */
export interface Jpeg2000Header {
  readonly width: number;
  readonly height: number;
  /** Bit depth of each component (Ssiz & 0x7f, plus one). */
  readonly depths: readonly number[];
  /** true when every component is sampled at every reference grid point (XRsiz = YRsiz = 1). */
  readonly fullResolution: boolean;
}

/** A JP2 wrapper (some writers put one in the fragment) holds its codestream after a few hundred header bytes. */
const HEADER_SEARCH_BYTES = 4096;

/** The SIZ segment right after SOC (FF4F FF51), at the start or inside a JP2 wrapper; undefined when there is none. */
export function readJpeg2000Header(codestream: Uint8Array): Jpeg2000Header | undefined {
  let at = -1;
  for (let i = 0; i + 4 <= Math.min(codestream.length, HEADER_SEARCH_BYTES); i++) {
    if (codestream[i] === 0xff && codestream[i + 1] === 0x4f && codestream[i + 2] === 0xff && codestream[i + 3] === 0x51) {
      at = i + 4;
      break;
    }
  }
  if (at < 0 || at + 38 > codestream.length) return undefined;
  const view = new DataView(codestream.buffer, codestream.byteOffset, codestream.byteLength);
  const length = view.getUint16(at);
  // Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz, then Ssiz XRsiz YRsiz per component.
  const components = view.getUint16(at + 36);
  if (components === 0 || length !== 38 + 3 * components || at + length > codestream.length) return undefined;
  const width = view.getUint32(at + 4) - view.getUint32(at + 12);
  const height = view.getUint32(at + 8) - view.getUint32(at + 16);
  const depths: number[] = [];
  let fullResolution = true;
  for (let c = 0; c < components; c++) {
    const base = at + 38 + 3 * c;
    depths.push(((codestream[base] ?? 0) & 0x7f) + 1);
    if (codestream[base + 1] !== 1 || codestream[base + 2] !== 1) fullResolution = false;
  }
  return { width, height, depths, fullResolution };
}

/**
 * Refuses a codestream whose own header disagrees with the DICOM header,
 * before OpenJPEG allocates anything: a sender-controlled SIZ segment could
 * otherwise ask for gigabytes (a 65535 x 65535 frame in a 1 kB file).
 */
function checkHeader(encoded: Uint8Array, expected: Jpeg2000Expected, transferSyntaxUid: string): void {
  const found = readJpeg2000Header(encoded);
  const fail = (what: string): never => {
    throw new PixelError('AIB_PIXELS_CORRUPT', `the JPEG 2000 codestream ${what}; not decoded (transfer syntax ${transferSyntaxUid})`, { transferSyntaxUid });
  };
  if (found === undefined) return fail('has no readable SIZ marker segment');
  const said = `${String(expected.columns)}x${String(expected.rows)}x${String(expected.samplesPerPixel)} at ${String(expected.bitsAllocated)} bits allocated`;
  if (found.width !== expected.columns || found.height !== expected.rows || found.depths.length !== expected.samplesPerPixel) {
    fail(`is ${String(found.width)}x${String(found.height)}x${String(found.depths.length)}, the DICOM header says ${said}`);
  }
  if (found.depths.some((d) => d > expected.bitsAllocated || d > 16)) fail(`has ${found.depths.join('/')}-bit components, the DICOM header says ${said}`);
  if (!found.fullResolution) fail('has sub-sampled components, which no DICOM photometric interpretation describes');
}

export function decodeJpeg2000Frame(encoded: Uint8Array, transferSyntaxUid: string, expected: Jpeg2000Expected): Jpeg2000Frame {
  checkHeader(encoded, expected, transferSyntaxUid);
  const decoder = new (load().J2KDecoder)();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      decoder.decode();
    } catch (error: unknown) {
      throw new PixelError('AIB_PIXELS_CORRUPT', `the JPEG 2000 codestream does not decode (transfer syntax ${transferSyntaxUid}): ${String(error)}`, { transferSyntaxUid });
    }
    const info = decoder.getFrameInfo();
    const raw = decoder.getDecodedBuffer();
    const count = info.width * info.height * info.componentCount;
    const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
    if (count === 0 || raw.byteLength < count * bytesPerSample)
      throw new PixelError('AIB_PIXELS_CORRUPT', `the JPEG 2000 codestream decodes to too few samples (transfer syntax ${transferSyntaxUid})`, { transferSyntaxUid });
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const samples = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (bytesPerSample === 2) samples[i] = info.isSigned ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true);
      else samples[i] = info.isSigned ? view.getInt8(i) : view.getUint8(i);
    }
    return { width: info.width, height: info.height, components: info.componentCount, samples };
  } finally {
    decoder.delete();
  }
}
