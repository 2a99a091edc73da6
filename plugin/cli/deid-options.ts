import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export const DEID_PROFILES = ['basic', 'research'] as const;
export type DeidProfileName = (typeof DEID_PROFILES)[number];

/** The same default as AiBridge.CleanPixelsModalities (config/aibridge.schema.json). */
export const DEFAULT_CLEAN_PIXELS_MODALITIES: readonly string[] = ['US', 'SC', 'OT', 'XC', 'DOC'];

export const DEFAULT_SITE_KEY_FILE = 'orthanc-ai-bridge-site.key';

/** Upper bound of the default worker count: more rarely helps, each worker holds a Node process. */
const DEFAULT_MAX_WORKERS = 8;

export interface DeidFilesOptions {
  readonly mode: 'files';
  readonly out: string;
  readonly profile: DeidProfileName;
  readonly keyFile: string;
  readonly vault: string | undefined;
  readonly workers: number;
  /** Clean Pixel Data: 'auto' (US, SC, OT, XC, DOC and BurnedInAnnotation YES), 'always' (--clean-pixels), 'never' (--no-clean-pixels). */
  readonly cleanPixels: 'auto' | 'always' | 'never';
  readonly inputs: readonly string[];
}

export interface DeidReportOptions {
  readonly mode: 'report';
  readonly report: string;
  readonly header: string | undefined;
}

export type DeidOptions = DeidFilesOptions | DeidReportOptions | { readonly mode: 'help' };

export const DEID_USAGE = `Usage:
  orthanc-ai-bridge deid --out OUT [--profile basic|research] [--key-file K] [--vault V] [--workers N]
                         [--clean-pixels | --no-clean-pixels] INPUT...
  orthanc-ai-bridge deid --report FILE [--header DICOMFILE]

deid  De-identifies DICOM files through the sealed worker pool (PS3.15 profile,
      keyed pseudonyms, per-patient date shift, keyed UIDs, text second pass).
      Each INPUT is a file or a directory (recursed). A directory's files keep
      their path relative to it under OUT; a file given alone is written as
      OUT/<its base name>. Every file that cannot be de-identified (including
      non-DICOM files inside a directory) is reported on stderr, one line each,
      and copied to OUT/quarantine/<relative path>. Exit status 0 only when
      every input was written, 1 otherwise, 2 on a usage error.
      With --report, de-identifies a report (plain text or HL7 v2 ORU) in this
      process and prints it on stdout, identifiers replaced by fiducials such
      as % PATIENT NAME %.

Options:
  --out OUT          output folder (created); staging in OUT/.staging while running
  --profile P        basic (default) or research (Basic + longitudinal dates modified,
                     patient characteristics, clean descriptors and structured content,
                     safe private)
  --key-file K       site key (32 random bytes, mode 0600), created if absent
                     (default ./${DEFAULT_SITE_KEY_FILE}); the same key gives the same
                     pseudonyms, date shifts and UIDs on every run
  --vault V          record each result (pseudonyms, UID map, link token) in the PHI
                     vault SQLite file V (created 0600); without it no re-link mapping is kept
  --workers N        sealed worker processes (default: CPUs, at most ${DEFAULT_MAX_WORKERS})
  --clean-pixels     Clean Pixel Data for every image: burned-in text covered with filled
                     boxes, pixel data rewritten uncompressed. Without either flag: images
                     of modality ${DEFAULT_CLEAN_PIXELS_MODALITIES.join(', ')} and any image with
                     BurnedInAnnotation YES; an image that needs cleaning and cannot be
                     cleaned is quarantined
  --no-clean-pixels  no Clean Pixel Data: pixels pass through untouched
  --report FILE      de-identify the report FILE instead of DICOM files
  --header DICOMFILE with --report: take the identifiers to scrub (patient, physicians,
                     institution, IDs…) from this DICOM file too
  -h, --help         this text
`;

function usageError(message: string, option: string): CliError {
  return new CliError('AIB_CLI_BAD_OPTION_VALUE', `deid: ${message}`, { option });
}

function workerCount(value: string | undefined): number {
  if (value === undefined) return Math.max(1, Math.min(os.availableParallelism(), DEFAULT_MAX_WORKERS));
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 256) throw usageError(`--workers must be a number from 1 to 256, got "${value}"`, '--workers');
  return n;
}

/** Parses `deid` options with the conventions of cli-options.ts: unknown options are CliErrors naming them (exit 2). */
export function parseDeidOptions(args: readonly string[]): DeidOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        profile: { type: 'string' },
        'key-file': { type: 'string' },
        vault: { type: 'string' },
        workers: { type: 'string' },
        'clean-pixels': { type: 'boolean' },
        'no-clean-pixels': { type: 'boolean' },
        report: { type: 'string' },
        header: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new CliError('AIB_CLI_UNKNOWN_OPTION', `deid: ${message.replace(/\. (To specify|This command)[^]*$/, '')}`, { command: 'deid' });
    }
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `deid: ${message}`, { command: 'deid' });
  }
  const v = parsed.values;
  if (v.help === true) return { mode: 'help' };

  if (v.report !== undefined) {
    const extra = (['out', 'profile', 'key-file', 'vault', 'workers', 'clean-pixels', 'no-clean-pixels'] as const).find((o) => v[o] !== undefined);
    if (extra !== undefined) throw usageError(`--${extra} does not apply to --report`, `--${extra}`);
    if (parsed.positionals.length > 0) throw usageError(`--report takes no INPUT files (got "${parsed.positionals[0] ?? ''}")`, '--report');
    return { mode: 'report', report: path.resolve(v.report), header: v.header === undefined ? undefined : path.resolve(v.header) };
  }
  if (v.header !== undefined) throw usageError('--header is only used with --report', '--header');
  if (v.out === undefined || v.out === '') throw usageError('--out OUT is required', '--out');
  if (parsed.positionals.length === 0) throw usageError('no INPUT given (files or directories to de-identify)', 'INPUT');
  const profile = v.profile ?? 'basic';
  if (!(DEID_PROFILES as readonly string[]).includes(profile)) {
    throw usageError(`--profile must be one of ${DEID_PROFILES.join(', ')}, got "${profile}"`, '--profile');
  }
  if (v['clean-pixels'] === true && v['no-clean-pixels'] === true) throw usageError('--clean-pixels and --no-clean-pixels exclude each other', '--clean-pixels');
  const cleanPixels = v['clean-pixels'] === true ? 'always' : v['no-clean-pixels'] === true ? 'never' : 'auto';
  return {
    mode: 'files',
    cleanPixels,
    out: path.resolve(v.out),
    profile: profile as DeidProfileName,
    keyFile: path.resolve(v['key-file'] ?? DEFAULT_SITE_KEY_FILE),
    vault: v.vault === undefined ? undefined : path.resolve(v.vault),
    workers: workerCount(v.workers),
    inputs: parsed.positionals,
  };
}
