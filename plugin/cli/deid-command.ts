import * as fs from 'node:fs';
import * as path from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error.js';
import type { DeidResult } from '../core/deid-messages.js';
import type { LogFields } from '../core/log-event.js';
import { SiteKey } from '../deid/pseudonyms/index.js';
import { DeidWorkerPool } from '../gateway/deid/deid-worker-pool.js';
import type { Logger } from '../gateway/logger.js';
import { SqlitePhiVault } from '../gateway/vault/sqlite-phi-vault.js';
import { collectInputs, type DeidInput, type DeidInputProblem } from './deid-inputs.js';
import { DEFAULT_CLEAN_PIXELS_MODALITIES, DEID_USAGE, parseDeidOptions, type DeidFilesOptions } from './deid-options.js';
import { repoRoot } from './repo-root.js';

const PREFIX = 'orthanc-ai-bridge deid';
const STAGING = '.staging';
const QUARANTINE = 'quarantine';
const READY_TIMEOUT_MS = 60_000;

/**
 * Raised when the run as a whole cannot proceed (exit 1):
 * - AIB_CLI_DEID_WORKERS_FAILED: no sealed worker became ready (seal refused, profile or key unusable).
 * - AIB_CLI_DEID_REPORT_FAILED: the --report or --header file cannot be read or parsed.
 * - AIB_CLI_DEID_OUTPUT_FAILED: OUT (or the vault, the key) cannot be created.
 * Per-file failures are not errors: each is one stderr line and a quarantined copy.
 */
export class DeidCommandError extends AiBridgeError {}

/** One stderr line per failed input: the file, the code, the reason (same shape as an input problem). */
type Failure = DeidInputProblem;

/** The worker pool's log events go to stderr as the sentence a person at the prompt reads, marked as such. */
class StderrLogger implements Logger {
  readonly errors: string[] = [];

  info(_event: string, fields: LogFields): void {
    process.stderr.write(`${PREFIX}: ${fields.message}\n`);
  }

  warn(_event: string, fields: LogFields): void {
    process.stderr.write(`${PREFIX}: warning: ${fields.message}\n`);
  }

  error(_event: string, fields: LogFields): void {
    this.errors.push(fields.message);
    process.stderr.write(`${PREFIX}: error: ${fields.message}\n`);
  }
}

function reason(error: unknown): { code: string; message: string } {
  if (error instanceof AiBridgeError) return { code: error.code, message: error.message };
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // One stable code per kind of failure; the errno goes into the message.
  const first = message.split('\n')[0] ?? '';
  return typeof errno === 'string' ? { code: 'AIB_CLI_DEID_IO', message: `${errno}: ${first}` } : { code: 'AIB_CLI_DEID_FAILED', message: first };
}

async function waitForWorkers(pool: DeidWorkerPool, log: StderrLogger): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (pool.readyWorkers === 0) {
    // A worker refused for good (its seal) is not restarted: the others would fail the same way.
    const refused = pool.refusals()[0]?.reason ?? log.errors.find((e) => /failed to start/.test(e));
    if (refused !== undefined) throw new DeidCommandError('AIB_CLI_DEID_WORKERS_FAILED', `no de-identification worker could start: ${refused}`);
    if (Date.now() > deadline) {
      throw new DeidCommandError('AIB_CLI_DEID_WORKERS_FAILED', `no de-identification worker became ready in ${READY_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Copies a failed input to OUT/quarantine/<relative> (owner-only: it is an original); a name already used gets a suffix. */
function quarantine(out: string, failure: Failure): string | undefined {
  if (!failure.quarantine) return undefined;
  const base = path.join(out, QUARANTINE, failure.relative);
  fs.mkdirSync(path.dirname(base), { recursive: true, mode: 0o700 });
  let target = base;
  for (let n = 1; ; n++) {
    try {
      fs.copyFileSync(failure.absolute, target, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(target, 0o600);
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A copy from an earlier run of the same input is replaced; another input's copy is kept.
      if (n === 1 && failure.code !== 'AIB_CLI_DEID_DUPLICATE_OUTPUT') {
        fs.rmSync(target, { force: true });
        continue;
      }
      target = `${base}.${n}`;
    }
  }
}

function reportFailure(out: string, failure: Failure): void {
  let where: string;
  try {
    const copied = quarantine(out, failure);
    where = copied === undefined ? 'not copied to quarantine' : `copied to ${path.relative(out, copied)}`;
  } catch (e) {
    where = `copying it to quarantine failed: ${reason(e).message}`;
  }
  process.stderr.write(`${PREFIX}: FAILED ${failure.display}: ${failure.code} ${failure.message.replace(/\s*\n\s*/g, ' ')} (${where})\n`);
}

interface Run {
  readonly options: DeidFilesOptions;
  readonly pool: DeidWorkerPool;
  readonly staging: string;
  readonly vault: SqlitePhiVault | undefined;
  /** Folders of OUT made so far. */
  readonly folders: Set<string>;
}

async function deidentifyOnce(run: Run, input: DeidInput, lane: string): Promise<DeidResult> {
  // The worker reads the file itself, and only its header: the pixel data is copied file to
  // file, and the UIDs the vault links on come from the worker's parse. Each lane stages into
  // its own folder, so two inputs with one SOP Instance UID never share a staged file.
  // No SHA-256 of the input: the command records none (one pass over every byte saved).
  const request = { instanceId: input.display, inputPath: input.absolute, outputFolder: lane, hashInput: false };
  try {
    return await run.pool.deidentify(request);
  } catch (e) {
    // A worker that died mid-instance is replaced by the pool: one more try on a fresh one.
    if (e instanceof AiBridgeError && e.code === 'AIB_DEID_WORKER_LOST') return run.pool.deidentify(request);
    throw e;
  }
}

/** One input through the sealed pool: worker, vault, move into place. The driver never reads the file. undefined on success. */
async function processFile(run: Run, input: DeidInput, lane: string): Promise<Failure | undefined> {
  try {
    const result = await deidentifyOnce(run, input, lane);
    if (!result.ok) return { ...input, code: result.code, message: result.message, quarantine: true };
    const staged = path.resolve(run.staging, result.outputPath);
    if (!staged.startsWith(`${path.join(run.staging, lane)}${path.sep}`)) {
      return { ...input, code: 'AIB_DEID_WORKER_PROTOCOL', message: 'the worker named an output outside its folder', quarantine: true };
    }
    try {
      // Vault first: a refused mapping (AIB_VAULT_CONFLICT) leaves nothing in OUT (the staged copy is removed below).
      await run.vault?.record(input.absolute, result.vault);
      const target = path.join(run.options.out, input.relative);
      const folder = path.dirname(target);
      // Made once per run (the command owns OUT): one mkdir per folder, not per file.
      if (!run.folders.has(folder)) {
        fs.mkdirSync(folder, { recursive: true });
        run.folders.add(folder);
      }
      fs.renameSync(staged, target);
      if (result.undecodableText) {
        process.stderr.write(`${PREFIX}: note: ${input.display}: ${String(result.undecodableText.length)} text element(s) not valid in their declared character set were replaced or removed (${result.undecodableText.map((u) => u.keyword || u.path).join(', ')})\n`);
      }
      return undefined;
    } finally {
      fs.rmSync(staged, { force: true });
    }
  } catch (e) {
    return { ...input, ...reason(e), quarantine: true };
  }
}

async function runFiles(options: DeidFilesOptions): Promise<number> {
  const started = process.hrtime.bigint();
  const { out } = options;
  const staging = path.join(out, STAGING);
  const vaultFiles = options.vault === undefined ? [] : ['', '-wal', '-shm', '-journal'].map((s) => `${options.vault ?? ''}${s}`);
  const { files, problems } = collectInputs(options.inputs, [out, options.keyFile, ...vaultFiles]);

  let vault: SqlitePhiVault | undefined;
  try {
    fs.mkdirSync(out, { recursive: true });
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { mode: 0o700 });
    const keyExisted = fs.existsSync(options.keyFile);
    // Created here, before any worker starts, so concurrent workers all load the same key.
    SiteKey.loadOrCreate(options.keyFile);
    if (!keyExisted) {
      process.stderr.write(`${PREFIX}: created site key ${options.keyFile} (mode 0600); keep it secret and reuse it to get the same pseudonyms\n`);
    }
    if (options.vault === undefined) {
      process.stderr.write(`${PREFIX}: no --vault given: no re-link mapping is kept\n`);
    } else {
      fs.mkdirSync(path.dirname(options.vault), { recursive: true, mode: 0o700 });
      vault = new SqlitePhiVault(options.vault);
    }
  } catch (e) {
    if (e instanceof AiBridgeError) throw e;
    throw new DeidCommandError('AIB_CLI_DEID_OUTPUT_FAILED', `cannot prepare the run: ${reason(e).message}`);
  }

  const log = new StderrLogger();
  const pool = new DeidWorkerPool({
    workers: Math.max(1, Math.min(options.workers, files.length)),
    script: path.join(repoRoot(), 'dist', 'plugin', 'deid', 'worker-main.js'),
    profile: options.profile,
    deidDirectory: staging,
    siteKeyFile: options.keyFile,
    // The sealed workers read the inputs themselves: their folders, and nothing else of the disk.
    inputDirectories: [...new Set(files.map((file) => path.dirname(file.absolute)))],
    cleanPixels: { apply: options.cleanPixels, modalities: DEFAULT_CLEAN_PIXELS_MODALITIES, mode: 'all-text' },
  }, log);
  const run: Run = { options, pool, staging, vault, folders: new Set() };
  let written = 0;
  let failed = 0;
  try {
    for (const p of problems) {
      reportFailure(out, p);
      failed++;
    }
    if (files.length > 0) {
      pool.start();
      await waitForWorkers(pool, log);
      let next = 0;
      const lane = async (_: unknown, index: number): Promise<void> => {
        for (let i = next++; i < files.length; i = next++) {
          const input = files[i];
          if (input === undefined) continue;
          const failure = await processFile(run, input, `lane${String(index)}`);
          if (failure === undefined) written++;
          else {
            reportFailure(out, failure);
            failed++;
          }
        }
      };
      // Two in flight per worker: one being de-identified while the other's reply is handled.
      await Promise.all(Array.from({ length: Math.min(files.length, options.workers * 2) }, lane));
    }
  } finally {
    await pool.stop();
    await vault?.close();
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = seconds > 0 ? written / seconds : 0;
  process.stderr.write(`${PREFIX}: ${written} written, ${failed} failed, ${seconds.toFixed(2)} s, ${rate.toFixed(1)} instances/s\n`);
  if (written + failed === 0) process.stderr.write(`${PREFIX}: warning: the inputs hold no files\n`);
  return failed === 0 ? 0 : 1;
}

async function runReport(reportFile: string, headerFile: string | undefined): Promise<number> {
  // Loaded for a report only: it brings dcmjs, which the files mode never needs.
  const { deidentifyReport } = await import('./deid-report.js');
  let scrubbed;
  try {
    scrubbed = deidentifyReport(reportFile, headerFile);
  } catch (e) {
    const { message } = reason(e);
    throw new DeidCommandError('AIB_CLI_DEID_REPORT_FAILED', `cannot de-identify the report: ${message}`);
  }
  process.stdout.write(scrubbed.text.endsWith('\n') || scrubbed.text.endsWith('\r') ? scrubbed.text : `${scrubbed.text}\n`);
  const kinds = Object.entries(scrubbed.hits).map(([kind, n]) => `${kind} ${n}`).join(', ');
  process.stderr.write(`${PREFIX}: report de-identified, ${Object.values(scrubbed.hits).reduce((a, b) => a + b, 0)} replacements${kinds === '' ? '' : ` (${kinds})`}\n`);
  return 0;
}

/** `orthanc-ai-bridge deid …`: exit status 0 when every input was written, 1 otherwise (usage errors are thrown: 2). */
export async function runDeid(args: readonly string[]): Promise<number> {
  const options = parseDeidOptions(args);
  if (options.mode === 'help') {
    process.stdout.write(DEID_USAGE);
    return 0;
  }
  if (options.mode === 'report') return runReport(options.report, options.header);
  return runFiles(options);
}
