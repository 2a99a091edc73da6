import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CENTRAL_TRAFFIC_FILE, type CentralTraffic } from '../../core/central-api';

/**
 * Counts what the link sends to the central server, so the privacy officer
 * sees it without trusting our word: the count is of the bytes this module
 * hands to fetch (request line, headers, body), not an estimate made later.
 * Persisted by rename after each request: a reader sees one complete count.
 */
export class TrafficCounter {
  readonly #path: string;
  #traffic: CentralTraffic;

  constructor(centralDirectory: string) {
    this.#path = join(centralDirectory, CENTRAL_TRAFFIC_FILE);
    this.#traffic = readTraffic(this.#path);
  }

  record(sent: number, received: number, at: Date = new Date()): void {
    const t = this.#traffic;
    this.#traffic = { bytesSent: t.bytesSent + sent, bytesReceived: t.bytesReceived + received, requests: t.requests + 1, lastAt: at.toISOString() };
    writeFileSync(`${this.#path}.tmp`, `${JSON.stringify(this.#traffic)}\n`);
    renameSync(`${this.#path}.tmp`, this.#path);
  }
}

export function readTraffic(path: string): CentralTraffic {
  const none: CentralTraffic = { bytesSent: 0, bytesReceived: 0, requests: 0, lastAt: null };
  if (!existsSync(path)) return none;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<keyof CentralTraffic, unknown>>;
    const n = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
    return { bytesSent: n(v.bytesSent), bytesReceived: n(v.bytesReceived), requests: n(v.requests), lastAt: typeof v.lastAt === 'string' ? v.lastAt : null };
  } catch {
    return none;
  }
}
