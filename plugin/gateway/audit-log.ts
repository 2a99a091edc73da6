import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

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
  /** Newlines counted up to `size` of the file with inode `ino`: the next count reads only what was appended since. */
  #counted: { readonly ino: number; readonly size: number; readonly newlines: number } | undefined;

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
    return parseLines(this.text());
  }

  /**
   * The newest `limit` entries, oldest first, read from the end of the file:
   * the admin UI's view costs the same on a log of years as on a new one.
   */
  newest(limit: number): AuditLine[] {
    if (limit <= 0 || !existsSync(this.#path)) return [];
    const fd = openSync(this.#path, 'r');
    try {
      const chunks: Buffer[] = [];
      let newlines = 0;
      // limit + 1 line breaks before the end bound the newest `limit` lines whole (the file's last byte is one).
      for (let end = statSync(this.#path).size; end > 0 && newlines <= limit;) {
        const start = Math.max(0, end - READ_CHUNK);
        const chunk = Buffer.alloc(end - start);
        readSync(fd, chunk, 0, chunk.length, start);
        newlines += countNewlines(chunk);
        chunks.unshift(chunk);
        end = start;
      }
      return parseLines(Buffer.concat(chunks).toString('utf8')).slice(-limit);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * How many entries the file holds. Counted once, then only what was
   * appended since; a file replaced (rotated by logrotate, say) or shortened
   * is counted again.
   */
  count(): number {
    let stat;
    try {
      stat = statSync(this.#path);
    } catch {
      this.#counted = undefined;
      return 0;
    }
    const known = this.#counted !== undefined && this.#counted.ino === stat.ino && this.#counted.size <= stat.size
      ? this.#counted : { ino: stat.ino, size: 0, newlines: 0 };
    const fd = openSync(this.#path, 'r');
    try {
      let newlines = known.newlines;
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, Math.max(1, stat.size - known.size)));
      for (let at = known.size; at < stat.size;) {
        const read = readSync(fd, chunk, 0, Math.min(chunk.length, stat.size - at), at);
        if (read === 0) break;
        newlines += countNewlines(chunk.subarray(0, read));
        at += read;
      }
      this.#counted = { ino: stat.ino, size: stat.size, newlines };
      if (stat.size === 0) return 0;
      // A torn last write (no line break yet) is an entry too, as entries() shows it.
      readSync(fd, chunk, 0, 1, stat.size - 1);
      return newlines + (chunk[0] === NEWLINE ? 0 : 1);
    } finally {
      closeSync(fd);
    }
  }
}

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;

function countNewlines(buffer: Buffer): number {
  let count = 0;
  for (let at = buffer.indexOf(NEWLINE); at !== -1; at = buffer.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

function parseLines(text: string): AuditLine[] {
  return text.split('\n').filter((l) => l !== '').map((l): AuditLine => {
    try {
      return JSON.parse(l) as AuditLine;
    } catch {
      return { at: '', event: 'unreadable', detail: l.slice(0, 200) };
    }
  });
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
