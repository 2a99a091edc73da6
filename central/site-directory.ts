/** Sites and their credentials: the admin issues a token once; only its sha256 is kept. */
import { randomBytes } from 'node:crypto';

import type Database from 'better-sqlite3';

import type { IssuedSite, SiteView } from '../plugin/core/central-api';
import { tokenHash } from './actor';
import { CentralError } from './central-error';
import { field } from './request-body';

export const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MODEL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
// last_seen_at is written at most this often per site, so polling stays read-only.
const SEEN_RESOLUTION_MS = 30_000;

interface SiteRow { site_id: string; name: string; models_json: string | null; created_at: string; last_seen_at: string | null; uploads: number }

export class SiteDirectory {
  readonly #seen = new Map<string, number>();

  constructor(readonly db: Database.Database) {}

  add(body: unknown): IssuedSite {
    const siteId = field(body, 'siteId', SITE_ID);
    const name = field(body, 'name');
    const models = (body as { models?: unknown }).models;
    if (models !== undefined && (!Array.isArray(models) || !models.every((m) => typeof m === 'string' && MODEL_ID.test(m))))
      throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"models" must be a list of model ids');
    const token = randomBytes(32).toString('base64url');
    try {
      this.db.prepare('INSERT INTO sites (site_id, name, models_json, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(siteId, name, models === undefined ? null : JSON.stringify(models), tokenHash(token), new Date().toISOString());
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new CentralError('CENTRAL_SITE_EXISTS', 409, `site ${siteId} exists`);
      throw e;
    }
    return { siteId, token };
  }

  list(): SiteView[] {
    const rows = this.db.prepare(`SELECT s.*, (SELECT COUNT(*) FROM uploads u WHERE u.site_id = s.site_id) AS uploads
      FROM sites s ORDER BY s.site_id`).all() as SiteRow[];
    return rows.map((r) => ({
      siteId: r.site_id, name: r.name, models: r.models_json === null ? null : (JSON.parse(r.models_json) as string[]),
      createdAt: r.created_at, lastSeenAt: r.last_seen_at, uploads: r.uploads,
    }));
  }

  seen(siteId: string): void {
    const now = Date.now();
    if (now - (this.#seen.get(siteId) ?? 0) < SEEN_RESOLUTION_MS) return;
    this.#seen.set(siteId, now);
    this.db.prepare('UPDATE sites SET last_seen_at = ? WHERE site_id = ?').run(new Date(now).toISOString(), siteId);
  }
}
