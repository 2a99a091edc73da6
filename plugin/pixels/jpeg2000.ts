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

export function decodeJpeg2000Frame(encoded: Uint8Array, transferSyntaxUid: string): Jpeg2000Frame {
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
