/**
 * De-identified copies waiting to go to the central server, one order file
 * each in central/uploads/pending/. Any annotator process may add an order
 * (the one that classified the copy, or the one the gateway asked); only the
 * link's process takes them. An order names a path inside deid/, never an
 * original; it is deleted once uploaded, or once the server refused it or the
 * attempts ran out (the refusal is recorded with the server's reason).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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

  constructor(centralDirectory: string) {
    this.#pending = join(centralDirectory, 'uploads', 'pending');
    this.#refusedLog = join(centralDirectory, 'uploads', 'refused.jsonl');
    mkdirSync(this.#pending, { recursive: true, mode: 0o700 });
  }

  /** Adds an order unless the same copy (for the same request) is already waiting. */
  add(deidPath: string, requestId?: string): void {
    const name = createHash('sha256').update(`${requestId ?? ''}\n${deidPath}`).digest('hex').slice(0, 40);
    const file = join(this.#pending, `${name}.json`);
    if (existsSync(file)) return;
    const order: UploadOrder = { deidPath, ...(requestId === undefined ? {} : { requestId }), attempts: 0, nextAttemptAt: 0 };
    writeJsonAtomic(file, order);
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
  }

  retryLater(order: StoredOrder, at: number, error: string): void {
    const { file, ...rest } = order;
    writeJsonAtomic(file, { ...rest, attempts: order.attempts + 1, nextAttemptAt: at, lastError: error });
  }

  refuse(order: StoredOrder, reason: string): void {
    appendFileSync(this.#refusedLog, `${JSON.stringify({ at: new Date().toISOString(), deidPath: order.deidPath, requestId: order.requestId ?? null, reason })}\n`, { mode: 0o600 });
    rmSync(order.file, { force: true });
  }
}
