/**
 * De-identified copies waiting to go to the central server, one order file
 * (<name>.json) and one copy of the de-identified instance (<name>.dcm) each
 * in central/uploads/pending/. Any annotator process may add an order (the
 * one that classified the copy, or the one the gateway asked); only the
 * uplink takes them, and it reads nothing but this queue (its seal has no
 * rule for deid/). An order names the path inside deid/ it was copied from,
 * never an original; order and copy are deleted once uploaded, or once the
 * server refused it or the attempts ran out (the refusal is recorded with the
 * server's reason).
 *
 * A study's de-identified radiology report (deid/<study>/report.txt, issue
 * 16) is its own order (`kind: 'report'`, copy <name>.txt) added with the
 * first instance of its study that is queued: it goes to the server as a
 * typed part of that study's upload. Its order is named after its content,
 * so a corrected report is queued (and replaces the old one centrally) while
 * the same text is queued once.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';

import { AiBridgeError } from '../../core/ai-bridge-error';

import { readJson, writeJsonAtomic } from './link-state';

function writeFileAtomic(path: string, bytes: Buffer): void {
  writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export interface UploadOrder {
  /** absent: one de-identified instance; 'report': its study's de-identified report. */
  readonly kind?: 'report';
  /** For a report: the pseudonymous Study Instance UID it belongs to (the name of its folder in deid/). */
  readonly studyInstanceUid?: string;
  readonly deidPath: string;
  readonly requestId?: string;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError?: string;
}

export interface StoredOrder extends UploadOrder {
  readonly file: string;
}

export class UploadQueue {
  readonly #pending: string;
  readonly #refusedLog: string;
  readonly #deidDirectory: string | undefined;

  /** `deidDirectory`: where `add` copies from (the annotator's side); the uplink's queue only takes. */
  constructor(centralDirectory: string, deidDirectory?: string) {
    this.#pending = join(centralDirectory, 'uploads', 'pending');
    this.#refusedLog = join(centralDirectory, 'uploads', 'refused.jsonl');
    this.#deidDirectory = deidDirectory === undefined ? undefined : resolve(deidDirectory);
    mkdirSync(this.#pending, { recursive: true, mode: 0o700 });
  }

  /** Adds an order (with its copy) unless the same copy for the same request is already waiting. */
  add(deidPath: string, requestId?: string): void {
    const deid = this.#deidDirectory;
    if (deid === undefined) throw new AiBridgeError('AIB_ANNOTATE_BAD_REQUEST', 'this upload queue takes orders, it does not add them');
    const source = resolve(deid, deidPath);
    if (!source.startsWith(`${deid}${sep}`)) throw new AiBridgeError('AIB_ANNOTATE_BAD_REQUEST', 'a path outside the de-identified store');
    const name = createHash('sha256').update(`${requestId ?? ''}\n${deidPath}`).digest('hex').slice(0, 40);
    const file = join(this.#pending, `${name}.json`);
    if (existsSync(file)) return;
    // The copy first, then the order: the uplink takes orders only, so it never sees half a copy.
    const copy = join(this.#pending, `${name}.dcm`);
    copyFileSync(source, `${copy}.tmp`);
    renameSync(`${copy}.tmp`, copy);
    const order: UploadOrder = { deidPath, ...(requestId === undefined ? {} : { requestId }), attempts: 0, nextAttemptAt: 0 };
    writeJsonAtomic(file, order);
    this.#addReport(deid, deidPath, requestId);
  }

  /** The study's de-identified report beside its series folders, when it has one (deid/[<folder>/]<study>/<series>/<sop>.dcm). */
  #addReport(deid: string, instancePath: string, requestId: string | undefined): void {
    const studyFolder = dirname(dirname(instancePath));
    const reportPath = join(studyFolder, 'report.txt');
    const source = resolve(deid, reportPath);
    if (studyFolder === '.' || !existsSync(source)) return;
    const text = readFileSync(source);
    const name = createHash('sha256').update(`report\n${requestId ?? ''}\n${reportPath}\n`).update(text).digest('hex').slice(0, 40);
    const file = join(this.#pending, `${name}.json`);
    if (existsSync(file)) return;
    const copy = join(this.#pending, `${name}.txt`);
    writeFileAtomic(copy, text);
    const order: UploadOrder = {
      kind: 'report', studyInstanceUid: basename(studyFolder), deidPath: reportPath, ...(requestId === undefined ? {} : { requestId }), attempts: 0, nextAttemptAt: 0,
    };
    writeJsonAtomic(file, order);
  }

  /** The queued copy of an order's de-identified instance or report. */
  copyOf(order: StoredOrder): string {
    return order.file.replace(/\.json$/, order.kind === 'report' ? '.txt' : '.dcm');
  }

  get size(): number {
    return readdirSync(this.#pending).filter((n) => n.endsWith('.json')).length;
  }

  due(now: number): StoredOrder[] {
    return readdirSync(this.#pending).filter((n) => n.endsWith('.json')).sort().flatMap((name) => {
      const file = join(this.#pending, name);
      const order = readJson<UploadOrder>(file);
      return order !== undefined && order.nextAttemptAt <= now ? [{ ...order, file }] : [];
    });
  }

  done(order: StoredOrder): void {
    rmSync(order.file, { force: true });
    rmSync(this.copyOf(order), { force: true });
  }

  retryLater(order: StoredOrder, at: number, error: string): void {
    const { file, ...rest } = order;
    writeJsonAtomic(file, { ...rest, attempts: order.attempts + 1, nextAttemptAt: at, lastError: error });
  }

  refuse(order: StoredOrder, reason: string): void {
    appendFileSync(this.#refusedLog, `${JSON.stringify({ at: new Date().toISOString(), deidPath: order.deidPath, requestId: order.requestId ?? null, reason })}\n`, { mode: 0o600 });
    rmSync(order.file, { force: true });
    rmSync(this.copyOf(order), { force: true });
  }
}
