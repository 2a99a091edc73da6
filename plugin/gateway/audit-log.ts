import { appendFileSync } from 'node:fs';

import type { PixelCleaningRecord } from '../core/deid-messages';

export interface AuditEntry {
  readonly event: string;
  readonly jobId?: number;
  readonly instanceId?: string;
  readonly annotationId?: number;
  readonly detail?: string;
  /** event 'pixels-cleaned': what Clean Pixel Data covered in the instance. */
  readonly pixels?: PixelCleaningRecord;
}

/**
 * audit.jsonl (PHI zone): append-only, one JSON object per line, written
 * synchronously so an entry exists before the action it records is reported.
 */
export class AuditLog {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  append(entry: AuditEntry): void {
    appendFileSync(this.#path, JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n', { mode: 0o600 });
  }
}
