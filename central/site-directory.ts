/**
 * Sites and their credentials: the admin issues a token once; only its
 * sha256 is kept. A token can be revoked (it stops working at once) or
 * rotated (a new one replaces it). A site receives no model until the admin
 * grants it (entitlement is empty unless granted).
 */
import { randomBytes } from 'node:crypto';

import type Database from 'better-sqlite3';

import type { IssuedSite, SiteView } from '../plugin/core/central-api';
import { entitledModels, tokenHash } from './actor';
import { CentralError } from './central-error';
import { field } from './request-body';

export const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MODEL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
// last_seen_at is written at most this often per site, so polling stays read-only.
const SEEN_RESOLUTION_MS = 30_000;

interface SiteRow {
  site_id: string; name: string; models_json: string | null; created_at: string; last_seen_at: string | null; revoked_at: string | null; uploads: number;
}

function modelList(body: unknown, required: boolean): string[] | undefined {
  const models = (body as { models?: unknown } | null)?.models;
  if (models === undefined && !required) return undefined;
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string' && MODEL_ID.test(m)))
    throw new CentralError('CENTRAL_BAD_REQUEST', 400, `"models" must be a list of model ids matching ${String(MODEL_ID)}`);
  return [...new Set(models as string[])].sort();
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class SiteDirectory {
  readonly #seen = new Map<string, number>();

  /** `onEntitlementChange`: a site's catalogue changed without a publish (the registry bumps its serial). */
  constructor(readonly db: Database.Database, readonly onEntitlementChange: () => void = () => undefined) {}

  add(body: unknown): IssuedSite {
    const siteId = field(body, 'siteId', SITE_ID);
    const name = field(body, 'name');
    const models = modelList(body, false) ?? [];
    const token = newToken();
    try {
      this.db.prepare('INSERT INTO sites (site_id, name, models_json, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(siteId, name, JSON.stringify(models), tokenHash(token), new Date().toISOString());
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new CentralError('CENTRAL_SITE_EXISTS', 409, `site ${siteId} exists`);
      throw e;
    }
    return { siteId, token };
  }

  /** The site's token stops working; its uploads and progress stay. */
  revoke(siteId: string): SiteView {
    this.#require(siteId);
    this.db.prepare('UPDATE sites SET revoked_at = COALESCE(revoked_at, ?) WHERE site_id = ?').run(new Date().toISOString(), siteId);
    return this.#view(siteId);
  }

  /** A new token (shown once) replaces the old one, which stops working; a revoked site is active again with it. */
  rotate(siteId: string): IssuedSite {
    this.#require(siteId);
    const token = newToken();
    this.db.prepare('UPDATE sites SET token_sha256 = ?, revoked_at = NULL WHERE site_id = ?').run(tokenHash(token), siteId);
    return { siteId, token };
  }

  /** Replaces the model ids the site may receive. */
  entitle(siteId: string, body: unknown): SiteView {
    this.#require(siteId);
    const models = modelList(body, true) ?? [];
    this.db.prepare('UPDATE sites SET models_json = ? WHERE site_id = ?').run(JSON.stringify(models), siteId);
    this.onEntitlementChange();
    return this.#view(siteId);
  }

  list(): SiteView[] {
    return (this.db.prepare(`SELECT s.*, (SELECT COUNT(*) FROM uploads u WHERE u.site_id = s.site_id) AS uploads
      FROM sites s ORDER BY s.site_id`).all() as SiteRow[]).map(toView);
  }

  seen(siteId: string): void {
    const now = Date.now();
    if (now - (this.#seen.get(siteId) ?? 0) < SEEN_RESOLUTION_MS) return;
    this.#seen.set(siteId, now);
    this.db.prepare('UPDATE sites SET last_seen_at = ? WHERE site_id = ?').run(new Date(now).toISOString(), siteId);
  }

  #require(siteId: string): void {
    if (!SITE_ID.test(siteId) || this.db.prepare('SELECT 1 FROM sites WHERE site_id = ?').get(siteId) === undefined)
      throw new CentralError('CENTRAL_NOT_FOUND', 404, `no site ${siteId}`);
  }

  #view(siteId: string): SiteView {
    return this.list().find((s) => s.siteId === siteId) ?? (() => { throw new CentralError('CENTRAL_NOT_FOUND', 404, `no site ${siteId}`); })();
  }
}

function toView(r: SiteRow): SiteView {
  return {
    siteId: r.site_id, name: r.name, models: entitledModels(r.models_json),
    createdAt: r.created_at, lastSeenAt: r.last_seen_at, revokedAt: r.revoked_at, uploads: r.uploads,
  };
}
