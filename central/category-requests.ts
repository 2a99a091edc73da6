/** New-category requests (claim 7): the admin asks every site for N studies of a modality + body part; sites report progress. */
import { randomBytes } from 'node:crypto';

import type Database from 'better-sqlite3';

import type { CategoryRequest, CategoryRequestProgress, NewCategoryRequest } from '../plugin/core/central-api';
import { CentralError } from './central-error';
import { field } from './request-body';

const UPPER = /^[A-Z0-9 _]{1,16}$/;
const PROGRESS_STATES = new Set(['awaiting-approval', 'declined', 'searching', 'uploading', 'done', 'failed']);

interface RequestRow { id: string; modality: string; body_part: string; studies_per_site: number; reason: string; created_at: string; state: 'open' | 'closed' }
interface ProgressRow {
  request_id: string; site_id: string; studies_found: number; studies_uploaded: number; instances_uploaded: number;
  state: CategoryRequestProgress['state']; detail: string | null; updated_at: string;
}

function count(body: unknown, name: string): number {
  const v = (body as Record<string, unknown>)[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CentralError('CENTRAL_BAD_REQUEST', 400, `"${name}" must be a non-negative integer`);
  return v;
}

export class CategoryRequests {
  constructor(readonly db: Database.Database) {}

  create(body: unknown): CategoryRequest {
    const category = (body as { category?: unknown } | null)?.category;
    const request: NewCategoryRequest = {
      category: { modality: field(category, 'modality', UPPER), bodyPart: field(category, 'bodyPart', UPPER) },
      studiesPerSite: count(body, 'studiesPerSite'),
      reason: field(body, 'reason'),
    };
    if (request.studiesPerSite === 0) throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"studiesPerSite" must be at least 1');
    const id = `req-${randomBytes(6).toString('hex')}`;
    const createdAt = new Date().toISOString();
    this.db.prepare('INSERT INTO requests (id, modality, body_part, studies_per_site, reason, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, request.category.modality, request.category.bodyPart, request.studiesPerSite, request.reason, createdAt, 'open');
    return { ...request, id, createdAt, state: 'open', progress: [] };
  }

  close(id: string): CategoryRequest {
    if (this.db.prepare("UPDATE requests SET state = 'closed' WHERE id = ?").run(id).changes === 0) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no request ${id}`);
    return this.#view(this.db.prepare('SELECT * FROM requests WHERE id = ?').get(id) as RequestRow, null);
  }

  #view(r: RequestRow, siteId: string | null): CategoryRequest {
    const rows = (siteId === null
      ? this.db.prepare('SELECT * FROM request_progress WHERE request_id = ? ORDER BY site_id').all(r.id)
      : this.db.prepare('SELECT * FROM request_progress WHERE request_id = ? AND site_id = ?').all(r.id, siteId)) as ProgressRow[];
    return {
      id: r.id, createdAt: r.created_at, state: r.state, reason: r.reason, studiesPerSite: r.studies_per_site,
      category: { modality: r.modality, bodyPart: r.body_part },
      progress: rows.map((p) => ({
        siteId: p.site_id, studiesFound: p.studies_found, studiesUploaded: p.studies_uploaded, instancesUploaded: p.instances_uploaded,
        state: p.state, updatedAt: p.updated_at, ...(p.detail === null ? {} : { detail: p.detail }),
      })),
    };
  }

  /** Admin: every request with every site's progress. Site: open requests with its own progress only. */
  list(siteId: string | null): CategoryRequest[] {
    const rows = (siteId === null
      ? this.db.prepare('SELECT * FROM requests ORDER BY created_at').all()
      : this.db.prepare("SELECT * FROM requests WHERE state = 'open' ORDER BY created_at").all()) as RequestRow[];
    return rows.map((r) => this.#view(r, siteId));
  }

  progress(siteId: string, requestId: string, body: unknown): CategoryRequestProgress {
    const row = this.db.prepare('SELECT state FROM requests WHERE id = ?').get(requestId) as { state: string } | undefined;
    if (row === undefined) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no request ${requestId}`);
    if (row.state !== 'open') throw new CentralError('CENTRAL_BAD_REQUEST', 400, `request ${requestId} is closed`);
    const state = field(body, 'state');
    if (!PROGRESS_STATES.has(state)) throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"state" must be awaiting-approval, declined, searching, uploading, done or failed');
    const detail = (body as { detail?: unknown }).detail;
    if (detail !== undefined && typeof detail !== 'string') throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"detail" must be a string');
    const progress: CategoryRequestProgress = {
      siteId, studiesFound: count(body, 'studiesFound'), studiesUploaded: count(body, 'studiesUploaded'), instancesUploaded: count(body, 'instancesUploaded'),
      state: state as CategoryRequestProgress['state'], updatedAt: new Date().toISOString(), ...(detail === undefined ? {} : { detail }),
    };
    this.db.prepare(`INSERT INTO request_progress (request_id, site_id, studies_found, studies_uploaded, instances_uploaded, state, detail, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id, site_id) DO UPDATE SET studies_found = excluded.studies_found,
      studies_uploaded = excluded.studies_uploaded, instances_uploaded = excluded.instances_uploaded, state = excluded.state,
      detail = excluded.detail, updated_at = excluded.updated_at`)
      .run(requestId, siteId, progress.studiesFound, progress.studiesUploaded, progress.instancesUploaded, progress.state, detail ?? null, progress.updatedAt);
    return progress;
  }

  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM requests WHERE id = ?').get(id) !== undefined;
  }
}
