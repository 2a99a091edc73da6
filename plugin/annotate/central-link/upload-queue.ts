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
 */
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

import { AiBridgeError } from '../../core/ai-bridge-error';

import { readJson, writeJsonAtomic } from './link-state';

export interface UploadOrder {
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
  }

  /** The queued copy of an order's de-identified instance. */
  copyOf(order: StoredOrder): string {
    return order.file.replace(/\.json$/, '.dcm');
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
