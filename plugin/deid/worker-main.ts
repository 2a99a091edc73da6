// First, before anything that could start a thread (seal-addon-first.ts).
import '../seal/seal-addon-first';

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import type { Frame } from '../core/frame-codec';
import { FrameChannel } from '../core/frame-channel';
import type { DeidFailure, DeidInitRequest, DeidReady, DeidSuccess, PixelCleaningRecord, UndecodableText, VaultEntry } from '../core/deid-messages';
import { createDeidEngine, createPixelCleaner, type DeidEngine } from './deid-engine';
import { deidentifyFileCleaningPixels, deidentifyInstanceCleaningPixels } from './deidentify-instance';
import { SiteKey } from './pseudonyms';
import { sealShortfall } from '../core/seal-report';
import { sealProcess } from '../seal/seal-process';
import { runtimeReadablePaths } from '../seal/runtime-paths';
import { runAfterSealHook } from '../seal/after-seal-hook';

/**
 * The sealed de-identification worker. On the init request it reads the site
 * key (the one file it may not read later), then seals itself before any
 * asynchronous work starts a thread: from then on it opens no socket, reads
 * only its input folders, the Node runtime and its own code and policy, and
 * writes only beneath the de-identified store. It loads its OCR models under
 * the seal, then tells the gateway it is ready; only then does PHI arrive.
 */
const channel = new FrameChannel(new Socket({ fd: 3, readable: true, writable: true }));
let engine: DeidEngine | undefined;
let deidDirectory = '';

channel.on('request', (frame) => {
  if (frame.header.k === 'init') void initialise(frame);
  else if (frame.header.k === 'deid') void handle(frame);
  else channel.reply(frame, { k: 'error', message: `unknown request ${frame.header.k}` });
});
// The gateway is our only reason to exist.
channel.on('closed', () => { process.exit(0); });

async function initialise(frame: Frame): Promise<void> {
  try {
    if (engine !== undefined) throw new Error('already initialised');
    const init = frame.header as unknown as DeidInitRequest;
    // Synchronous up to the seal: no thread may start before it (seal-process.ts).
    const siteKey = SiteKey.loadOrCreate(init.siteKeyFile);
    deidDirectory = init.deidDirectory;
    mkdirSync(deidDirectory, { recursive: true, mode: 0o700 });
    const seal = sealProcess({ readablePaths: [...runtimeReadablePaths(), ...init.inputDirectories], writablePaths: [deidDirectory] });
    const shortfall = sealShortfall('deid-worker', seal);
    if (shortfall !== undefined) throw new AiBridgeError('AIB_SEAL_INCOMPLETE', `sealed incompletely: ${shortfall}`, {}, false);
    // Device rules and the OCR models are files under the package, readable under the seal (a plain worker loads no models).
    const withOcr = init.ocr !== false;
    const pixels = await createPixelCleaner(init.cleanPixels, undefined, withOcr);
    engine = createDeidEngine(init.profile, siteKey, pixels);
    await runAfterSealHook('deid-worker', deidDirectory);
    const ready: DeidReady = { k: 'ready', seal, profile: init.profile, ocr: pixels?.ocr !== undefined };
    channel.reply(frame, { ...ready });
  } catch (error) {
    const code = error instanceof AiBridgeError ? error.code : 'AIB_SEAL_FAILED';
    channel.reply(frame, { k: 'initFailed', code, message: error instanceof Error ? error.message : String(error) });
    setTimeout(() => { process.exit(1); }, 100);
  }
}

async function handle(frame: Frame): Promise<void> {
  if (engine === undefined) {
    channel.reply(frame, failure('AIB_DEID_BAD_PLAN', 'worker not initialised', true));
    return;
  }
  const request = frame.header;
  try {
    const inputPath = request['inputPath'];
    const folder = outputFolderOf(request['outputFolder']);
    let reply: DeidSuccess;
    const instance = `instance ${String(request['instanceId'])}`;
    const report = reportOf(request['report']);
    // The original UIDs the vault links on come from this parse, not from the caller.
    if (typeof inputPath === 'string') {
      let relative = '';
      const result = await deidentifyFileCleaningPixels(engine, inputPath, undefined, (vault) => {
        relative = outputPathFor(vault, folder);
        return join(deidDirectory, relative);
      }, report?.text, request['hashInput'] !== false);
      reply = { k: 'deidResult', ok: true, outputPath: relative, routing: result.routing, scan: result.scan, sizeBytes: result.sizeBytes, vault: result.vault, textHits: result.textHits, ...pixelsOf(result), ...undecodableOf(result), ...writeReport(report, result, folder) };
    } else {
      const result = await deidentifyInstanceCleaningPixels(engine, frame.body, undefined, instance, report?.text);
      const relative = outputPathFor(result.vault, folder);
      writeAtomically(join(deidDirectory, relative), result.bytes);
      reply = { k: 'deidResult', ok: true, outputPath: relative, routing: result.routing, scan: result.scan, sizeBytes: result.bytes.length, vault: result.vault, textHits: result.textHits, ...pixelsOf(result), ...undecodableOf(result), ...writeReport(report, result, folder) };
    }
    channel.reply(frame, { ...reply });
  } catch (error) {
    if (error instanceof AiBridgeError) channel.reply(frame, failure(error.code, error.message, error.transient));
    else channel.reply(frame, failure('AIB_DEID_WRITE_FAILED', error instanceof Error ? error.message : String(error), true));
  }
}

/** The request's report, checked: a frame is data. */
function reportOf(value: unknown): { readonly id: number; readonly text: string } | undefined {
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v['id'] !== 'number' || typeof v['text'] !== 'string') {
    throw new AiBridgeError('AIB_DEID_BAD_PLAN', 'report is not { id, text }', {}, false);
  }
  return { id: v['id'], text: v['text'] };
}

/**
 * The report's de-identified copy goes beside its study in the store
 * (deid/[<outputFolder>/]<study>/report.txt, de-identified UID), so it travels
 * with the study's copies; each instance of the study writes the same text, and
 * a corrected report replaces it. Written atomically like the instances.
 */
function writeReport(
  report: { readonly id: number } | undefined, result: { readonly vault: VaultEntry; readonly report?: { readonly text: string; readonly hits: Readonly<Record<string, number>> } }, outputFolder: string,
): { report?: { id: number; path: string; hits: Readonly<Record<string, number>> } } {
  if (report === undefined || result.report === undefined) return {};
  const relative = join(outputFolder, result.vault.studyInstanceUid.deid, 'report.txt');
  mkdirSync(join(deidDirectory, outputFolder, result.vault.studyInstanceUid.deid), { recursive: true, mode: 0o700 });
  writeAtomically(join(deidDirectory, relative), Buffer.from(result.report.text, 'utf8'));
  return { report: { id: report.id, path: relative, hits: result.report.hits } };
}

function undecodableOf(result: { readonly undecodableText: readonly UndecodableText[] }): { undecodableText?: readonly UndecodableText[] } {
  return result.undecodableText.length > 0 ? { undecodableText: result.undecodableText } : {};
}

function pixelsOf(result: { readonly pixels?: PixelCleaningRecord }): { pixels?: PixelCleaningRecord } {
  return result.pixels ? { pixels: result.pixels } : {};
}

/** One plain folder name, or '' (none asked for); anything that could leave the output folder is refused. */
function outputFolderOf(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new AiBridgeError('AIB_DEID_BAD_PLAN', 'outputFolder is not a plain folder name', {}, false);
  }
  return value;
}

/**
 * deid/<study>/<series>/<sop>.dcm, all de-identified UIDs (what the gateway's readers expect),
 * or <outputFolder>/<sop>.dcm when the caller stages into a folder of its own and moves the
 * file on (the `deid` command: no folder per study and series to make and remove). The folders
 * are made every time (cheap when they exist): a retention job may remove them at any moment.
 */
function outputPathFor(vault: VaultEntry, outputFolder: string): string {
  const folder = outputFolder === '' ? join(vault.studyInstanceUid.deid, vault.seriesInstanceUid.deid) : outputFolder;
  mkdirSync(join(deidDirectory, folder), { recursive: true, mode: 0o700 });
  return join(folder, `${vault.sopInstanceUid.deid}.dcm`);
}

/** A reader of deid/ never sees half a file: write beside it, then rename. */
function writeAtomically(path: string, bytes: Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, bytes, { mode: 0o600 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function failure(code: string, message: string, transient: boolean): DeidFailure & { readonly [field: string]: unknown } {
  return { k: 'deidResult', ok: false, code, message, transient };
}
