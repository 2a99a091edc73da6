/**
 * What the central link remembers, in <DataDirectory>/central/ (de-identified
 * zone): link-state.json is written by the one process that runs the link
 * and read by every annotator process (status messages), so it is replaced
 * by rename and a reader sees a whole file. Other processes hand work to the
 * link through files in uploads/pending/ and requests/ (written the same way).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { CentralLinkStatus, RefusedPackage, SiteCategoryRequest } from '../../core/annotate-messages';
import type { AcceptedCatalogue } from './catalogue-freshness';

export interface RequestState extends SiteCategoryRequest {
  /** De-identified Study Instance UIDs uploaded for it (2.25. pseudonyms): counts studies. */
  readonly studyUids: readonly string[];
  /** The last progress posted, to post only changes. */
  readonly postedProgress: string | null;
}

export interface LinkState {
  readonly lastPollAt: string | null;
  readonly etag: string | null;
  readonly catalogueSerial: number | null;
  /** The catalogue accepted last (serial, issuedAt, models digest): a newer one must not be older. */
  readonly accepted: AcceptedCatalogue | null;
  readonly lastError: string | null;
  /** lastError is a refused package (kept until a later catalogue is handled cleanly), not a failed poll. */
  readonly lastErrorIsRefusal: boolean;
  /** The site id the last verified catalogue was issued to. */
  readonly siteId: string | null;
  readonly refused: readonly RefusedPackage[];
  readonly uploads: { readonly uploaded: number; readonly refused: number; readonly lastError: string | null; /** study reports uploaded (issue 16) */ readonly reports?: number };
  readonly requests: Readonly<Record<string, RequestState>>;
}

const EMPTY: LinkState = {
  lastPollAt: null, etag: null, catalogueSerial: null, accepted: null, lastError: null, lastErrorIsRefusal: false, siteId: null, refused: [],
  uploads: { uploaded: 0, refused: 0, lastError: null }, requests: {},
};

/** Atomic JSON file write (write then rename). */
export function writeJsonAtomic(path: string, value: unknown): void {
  const temp = `${path}.${String(process.pid)}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it stored
export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export class LinkStateFile {
  readonly #path: string;

  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.#path = join(directory, 'link-state.json');
  }

  read(): LinkState {
    const stored = readJson<Partial<LinkState>>(this.#path);
    return { ...EMPTY, ...stored };
  }

  update(change: (state: LinkState) => LinkState): LinkState {
    const next = change(this.read());
    writeJsonAtomic(this.#path, next);
    return next;
  }

  status(url: string, pending: number): CentralLinkStatus {
    const s = this.read();
    return {
      url, lastPollAt: s.lastPollAt, catalogueSerial: s.catalogueSerial, lastError: s.lastError, refused: s.refused,
      uploads: { pending, ...s.uploads },
    };
  }

  requests(): SiteCategoryRequest[] {
    return Object.values(this.read().requests).map((r) => ({
      id: r.id, modality: r.modality, bodyPart: r.bodyPart, studiesPerSite: r.studiesPerSite, reason: r.reason, open: r.open,
      instancesUploaded: r.instancesUploaded, studiesUploaded: r.studiesUploaded, instancesRefused: r.instancesRefused,
    }));
  }
}
