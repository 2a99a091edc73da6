import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';

import type { PixelCleaningRecord, UndecodableText } from '../core/deid-messages';

export interface AuditEntry {
  readonly event: string;
  readonly jobId?: number;
  readonly instanceId?: string;
  readonly annotationId?: number;
  readonly detail?: string;
  /** The Orthanc user who asked for the action, when one did (admin UI). */
  readonly user?: string;
  /** event 'pixels-cleaned': what Clean Pixel Data covered in the instance. */
  readonly pixels?: PixelCleaningRecord;
  /** event 'text-undecodable': text elements not valid in their character set, each given its row's strictest action. */
  readonly undecodableText?: readonly UndecodableText[];
}

export type AuditLine = AuditEntry & { readonly at: string };

/** Columns of the CSV download, in order. */
export const AUDIT_COLUMNS = ['at', 'event', 'jobId', 'instanceId', 'annotationId', 'user', 'detail'] as const;

/**
 * audit.jsonl (PHI zone): append-only, one JSON object per line, written
 * synchronously so an entry exists before the action it records is reported.
 */
export class AuditLog {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  append(entry: AuditEntry): AuditLine {
    const line: AuditLine = { at: new Date().toISOString(), ...entry };
    appendFileSync(this.#path, JSON.stringify(line) + '\n', { mode: 0o600 });
    return line;
  }

  /** The raw file, as the JSONL download serves it. */
  text(): string {
    return existsSync(this.#path) ? readFileSync(this.#path, 'utf8') : '';
  }

  sizeBytes(): number {
    return existsSync(this.#path) ? statSync(this.#path).size : 0;
  }

  /** Every entry, oldest first; a line that does not parse (a torn last write) is kept as an 'unreadable' entry, never hidden. */
  entries(): AuditLine[] {
    return this.text().split('\n').filter((l) => l !== '').map((l): AuditLine => {
      try {
        return JSON.parse(l) as AuditLine;
      } catch {
        return { at: '', event: 'unreadable', detail: l.slice(0, 200) };
      }
    });
  }
}

/** RFC 4180 CSV of audit lines, with a header row. */
export function auditCsv(lines: readonly AuditLine[]): string {
  const cell = (value: unknown): string => {
    const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = lines.map((line) => AUDIT_COLUMNS.map((c) => cell((line as unknown as Record<string, unknown>)[c])).join(','));
  return [AUDIT_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
