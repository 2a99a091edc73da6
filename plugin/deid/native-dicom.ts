/**
 * Typed wrapper of the DICOM byte work in build/Release/aibridge_addon.node
 * (native/addon/dicom-*.cpp, DCMTK dcmdata). Interfaces: docs/deid-engine.md.
 *
 * Per instance: `parseDicom(bytes)` (or `openDicomFile(path)`) → `doc.inspect(policy)` →
 * TS builds the plan → `doc.apply(policy, plan)` → Part 10 bytes (UTF-8, ISO_IR 192), or
 * `doc.applyToFile(policy, plan, path)` → the same written to a file. A document is
 * single use: `apply` rewrites the parsed dataset in place (the pixel data is never
 * copied or decoded) and frees it; `inspect` or `apply` afterwards throws
 * `AIB_DEID_BAD_PLAN`. Call `dispose()` on a document that is not applied to free
 * its memory early.
 *
 * Loading the addon silences DCMTK's loggers, loads the DICOM data dictionary and
 * opens the character set converters, so load it (any export of this module or
 * seal.ts) before sealing the worker.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import { isScanCategory, type ScanCategory } from '../core/model-package/scan-category';
import { isRoutingFacts, type RoutingFacts } from '../core/routing-facts';
import { isPixelErrorCode, PixelError } from '../pixels/pixel-error';

/** dist/plugin/deid → <repo>/build/Release. */
const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'aibridge_addon.node');

export type DeidNativeErrorCode =
  | 'AIB_DEID_NOT_DICOM'
  | 'AIB_DEID_TRUNCATED'
  | 'AIB_DEID_BAD_PLAN'
  | 'AIB_DEID_UNSUPPORTED_CHARSET'
  | 'AIB_DEID_WRITE_FAILED'
  | 'AIB_DEID_UNKNOWN_TRANSFER_SYNTAX';

const NATIVE_CODES: readonly string[] = [
  'AIB_DEID_NOT_DICOM',
  'AIB_DEID_TRUNCATED',
  'AIB_DEID_BAD_PLAN',
  'AIB_DEID_UNSUPPORTED_CHARSET',
  'AIB_DEID_WRITE_FAILED',
  'AIB_DEID_UNKNOWN_TRANSFER_SYNTAX',
];

/** An error of the native byte work; the message names tags and paths, never a value. Never transient. */
export class DeidNativeError extends AiBridgeError {
  declare readonly code: DeidNativeErrorCode;

  constructor(code: DeidNativeErrorCode, message: string) {
    super(code, message, {}, false);
  }
}

export type ResolvedAction = 'X' | 'Z' | 'D' | 'K' | 'C' | 'U';

export interface PolicyTable {
  /** key: 8 hex digits "ggggeeee" of a public tag (repeating groups as 5000/6000) */
  readonly actions: Readonly<Record<string, ResolvedAction>>;
  readonly defaultPublic: 'X' | 'K';
  /** private creators (exact strings) whose blocks may keep elements */
  readonly privateCreatorsKept: readonly string[];
  /** "gggg,CREATOR,ee" of the private elements kept inside those blocks */
  readonly privateKept: readonly string[];
  /** AS values over this many years become `${cap+1}Y`, zero-padded (090Y) */
  readonly maxAgeYears: number;
  /** Overrides inside SR content (document root and Content Sequence items). */
  readonly structuredContent?: Readonly<Record<string, ResolvedAction>>;
  /** Overrides inside the items of a sequence whose own action is D or Z (Institution Code Sequence, Person Identification Code Sequence, …). */
  readonly identifyingItems?: Readonly<Record<string, ResolvedAction>>;
  /** The Basic Profile action of each Table E.1-1 row: what an undecodable text element gets (absent tag: removed). */
  readonly strictActions?: Readonly<Record<string, ResolvedAction>>;
}

export interface InspectResult {
  specificCharacterSet: string;
  sopClassUid: string;
  modality: string;
  /** (0028,0301) as stored, '' when absent. */
  burnedInAnnotation: string;
  /** false for a document from openDicomFile whose pixel data stays in the file (spliced). */
  hasPixelData: boolean;
  /** `issuer`: (0010,0021), else the Universal Entity ID of (0010,0024); '' when absent. */
  patient: { id: string; issuer: string; name: string; birthDate: string; sex: string; age: string; otherIds: string[] };
  accessionNumber: string;
  studyDate: string;
  uids: string[];
  texts: { path: string; vr: string; value: string }[];
  identifiers: { path: string; keyword: string; vr: string; value: string }[];
  /**
   * Text elements whose bytes are not valid in their declared character set:
   * `apply` gives each the strictest action of its Table E.1-1 row (removed
   * when the row has none), whatever the profile would have kept.
   */
  undecodable: { path: string; keyword: string; vr: string }[];
}

export interface ApplyPlan {
  readonly replacements: { readonly patientId: string; readonly patientName: string; readonly accessionNumber: string };
  readonly dateShiftDays: number;
  readonly uidMap: Readonly<Record<string, string>>;
  readonly texts: Readonly<Record<string, string>>;
  readonly markers: {
    readonly patientIdentityRemoved: 'YES';
    readonly deidentificationMethod: string;
    readonly methodCodes: readonly { readonly value: string; readonly scheme: 'DCM'; readonly meaning: string }[];
    readonly longitudinalTemporalInformationModified: 'MODIFIED' | 'UNMODIFIED' | 'REMOVED';
    /** Clean Pixel Data's verdict on (0028,0301); absent: the value kept by the profile stays. */
    readonly burnedInAnnotation?: 'YES' | 'NO';
  };
}

/** Native samples that replace the Pixel Data (Clean Pixel Data); the output becomes Explicit VR Little Endian. */
export interface PixelReplacement {
  /** Colour-by-pixel samples of all frames, 8-bit bytes or 16-bit little-endian words. */
  readonly data: Buffer;
  readonly bitsAllocated: 8 | 16;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly samplesPerPixel: number;
  readonly photometricInterpretation: string;
  readonly planarConfiguration: 0;
  /** Present when the pixels were ever lossy: LossyImageCompression 01, method and ratio added when absent. */
  readonly lossy?: { readonly method?: string; readonly ratio?: string };
}

export interface WrittenFile {
  readonly sizeBytes: number;
  /** true when the pixel data went file to file without being parsed */
  readonly pixelDataSpliced: boolean;
  /** What model selection looks at, as written into the de-identified copy. */
  readonly scan: Required<ScanCategory>;
}

/** Part 10 bytes of the de-identified instance, and what model selection looks at in them. */
export interface AppliedInstance {
  readonly bytes: Buffer;
  readonly scan: Required<ScanCategory>;
}

/** What the addon exports for this module (the seal part is typed in seal.ts). */
interface NativeDocument {
  inspect(policy: object): unknown;
  routing(hash?: boolean): unknown;
  apply(policy: object, plan: ApplyPlan): unknown;
  applyToFile(policy: object, plan: ApplyPlan, path: string): unknown;
  storedPixels(): unknown;
  replacePixels(replacement: PixelReplacement): unknown;
  dispose(): void;
}

interface DicomAddon {
  compilePolicy(table: PolicyTable): object;
  parseDicom(bytes: Buffer): NativeDocument;
  openDicomFile(path: string): NativeDocument;
  shiftDicomDate(value: string, vr: 'DA' | 'DT', days: number): unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isAddon(value: unknown): value is DicomAddon {
  return (
    isRecord(value) &&
    typeof value.compilePolicy === 'function' &&
    typeof value.parseDicom === 'function' &&
    typeof value.openDicomFile === 'function' &&
    typeof value.shiftDicomDate === 'function'
  );
}

let addon: DicomAddon | undefined;

function loadAddon(): DicomAddon {
  if (addon) return addon;
  // createRequire shares Node's module cache with seal.ts: one copy of the addon per process.
  const loaded: unknown = createRequire(__filename)(ADDON_PATH);
  if (!isAddon(loaded)) {
    throw new DeidNativeError('AIB_DEID_WRITE_FAILED', `${ADDON_PATH} does not export parseDicom/compilePolicy`);
  }
  addon = loaded;
  return addon;
}

function isNativeCode(code: unknown): code is DeidNativeErrorCode {
  return typeof code === 'string' && NATIVE_CODES.includes(code);
}

/** Runs a native call and turns its coded JS errors into DeidNativeError. */
function native<T>(call: () => T): T {
  try {
    return call();
  } catch (error: unknown) {
    if (error instanceof Error && isRecord(error) && isNativeCode(error.code)) {
      throw new DeidNativeError(error.code, error.message);
    }
    throw error;
  }
}

/** Like native(), for the pixel calls: their codes are AIB_PIXELS_* (plugin/pixels/pixel-error.ts). */
function pixelCall<T>(call: () => T): T {
  try {
    return native(call);
  } catch (error: unknown) {
    if (error instanceof Error && !(error instanceof AiBridgeError) && isRecord(error) && isPixelErrorCode(error.code)) {
      throw new PixelError(error.code, error.message);
    }
    throw error;
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function hasStrings(value: unknown, keys: readonly string[]): value is Record<string, string> {
  return isRecord(value) && keys.every((k) => typeof value[k] === 'string');
}

function isInspectResult(value: unknown): value is InspectResult {
  return (
    hasStrings(value, ['specificCharacterSet', 'sopClassUid', 'modality', 'burnedInAnnotation', 'accessionNumber', 'studyDate']) &&
    typeof value.hasPixelData === 'boolean' &&
    hasStrings(value.patient, ['id', 'name', 'birthDate', 'sex', 'age']) &&
    isStringArray(value.patient.otherIds) &&
    isStringArray(value.uids) &&
    Array.isArray(value.texts) &&
    value.texts.every((t) => hasStrings(t, ['path', 'vr', 'value'])) &&
    Array.isArray(value.identifiers) &&
    value.identifiers.every((t) => hasStrings(t, ['path', 'keyword', 'vr', 'value']))
  );
}

/** A PolicyTable validated and compiled by the addon; compile once per worker. */
export class CompiledPolicy {
  /** @internal the native handle (type-tagged; the addon rejects anything else) */
  readonly handle: object;

  private constructor(handle: object) {
    this.handle = handle;
  }

  /** Throws DeidNativeError AIB_DEID_BAD_PLAN naming the offending key. */
  static compile(table: PolicyTable): CompiledPolicy {
    const lib = loadAddon();
    return new CompiledPolicy(native(() => lib.compilePolicy(table)));
  }
}

export function compilePolicy(table: PolicyTable): CompiledPolicy {
  return CompiledPolicy.compile(table);
}

/** One parsed instance, text already in UTF-8. Single use (see the module comment). */
export class DicomDocument {
  readonly #doc: NativeDocument;

  /** @internal use parseDicom() */
  constructor(doc: NativeDocument) {
    this.#doc = doc;
  }

  inspect(policy: CompiledPolicy): InspectResult {
    const result = native(() => this.#doc.inspect(policy.handle));
    if (!isInspectResult(result)) throw new DeidNativeError('AIB_DEID_BAD_PLAN', 'the addon answered a malformed InspectResult');
    return result;
  }

  /**
   * The facts the pipeline routes on, from this parse (the gateway and the CLI parse nothing):
   * UIDs, SOP class, modality, body part, counts, geometry, the original character set, and
   * the SHA-256 and size of the input as read (a file is hashed through a private mapping;
   * `hash` false: a file is not hashed and sha256 is ''). A missing attribute is '' or null,
   * never an error. Call it before apply().
   */
  routing(hash = true): RoutingFacts {
    const facts = native(() => this.#doc.routing(hash));
    if (!isRoutingFacts(facts)) throw new DeidNativeError('AIB_DEID_BAD_PLAN', 'the addon answered malformed routing facts');
    return facts;
  }

  /** Part 10 bytes: Explicit VR Little Endian, or the input syntax when the pixel data is encapsulated. */
  apply(policy: CompiledPolicy, plan: ApplyPlan): AppliedInstance {
    const out = native(() => this.#doc.apply(policy.handle, plan));
    if (!isRecord(out) || !Buffer.isBuffer(out['bytes']) || !isScanCategory(out['scan'])) throw new DeidNativeError('AIB_DEID_WRITE_FAILED', 'the addon answered no buffer');
    return { bytes: out['bytes'], scan: out['scan'] };
  }

  /**
   * Like apply, but writes the output to `path` (through a temporary name in the same
   * folder, renamed when complete). For a document from openDicomFile whose pixel data the
   * profile keeps, the pixel bytes are copied file to file by the kernel, never parsed.
   */
  applyToFile(policy: CompiledPolicy, plan: ApplyPlan, path: string): WrittenFile {
    const out = native(() => this.#doc.applyToFile(policy.handle, plan, path));
    if (!isRecord(out) || typeof out.sizeBytes !== 'number' || typeof out.pixelDataSpliced !== 'boolean' || !isScanCategory(out.scan)) {
      throw new DeidNativeError('AIB_DEID_WRITE_FAILED', 'the addon answered a malformed write result');
    }
    return { sizeBytes: out.sizeBytes, pixelDataSpliced: out.pixelDataSpliced, scan: out.scan };
  }

  /**
   * The stored samples of every frame, decoded by DCMTK (JPEG 2000 still encoded), for
   * Clean Pixel Data. Untyped here: plugin/deid/burned-in/stored-image.ts checks the shape.
   * Throws AiBridgeError AIB_PIXELS_* (the addon's code) for pixel data it cannot read.
   */
  storedPixels(): unknown {
    return pixelCall(() => this.#doc.storedPixels());
  }

  /** Replaces the Pixel Data before apply (see PixelReplacement). */
  replacePixels(replacement: PixelReplacement): void {
    pixelCall(() => this.#doc.replacePixels(replacement));
  }

  /** Frees the parsed dataset now instead of at garbage collection. Idempotent. */
  dispose(): void {
    this.#doc.dispose();
  }
}

/**
 * Parses Part 10 bytes (with or without preamble and meta header) or a bare dataset,
 * and converts its text to UTF-8. Throws DeidNativeError: AIB_DEID_NOT_DICOM,
 * AIB_DEID_TRUNCATED, AIB_DEID_UNSUPPORTED_CHARSET.
 */
export function parseDicom(bytes: Buffer): DicomDocument {
  const lib = loadAddon();
  return new DicomDocument(native(() => lib.parseDicom(bytes)));
}

/**
 * Opens a Part 10 file for de-identification: when it is Little Endian with the pixel data
 * as its last element, only the header is read and parsed and the file is kept open for
 * applyToFile to splice the pixel data; otherwise the whole file is parsed as parseDicom
 * does. Same errors as parseDicom, plus AIB_DEID_WRITE_FAILED when the file cannot be read.
 */
export function openDicomFile(path: string): DicomDocument {
  const lib = loadAddon();
  return new DicomDocument(native(() => lib.openDicomFile(path)));
}

/**
 * The date arithmetic apply() uses, for TypeScript callers (e.g. dates found in text):
 * shifts each backslash-separated DA (YYYYMMDD) or DT value by `days`; null if a value
 * is not a valid date. A DT coarser than a day is shifted from its first day and kept
 * at its precision.
 */
export function shiftDicomDate(value: string, vr: 'DA' | 'DT', days: number): string | null {
  const lib = loadAddon();
  const out = native(() => lib.shiftDicomDate(value, vr, days));
  return typeof out === 'string' ? out : null;
}
