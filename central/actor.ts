/**
 * Who is calling: the admin (DIR/admin.token) or one site (a token the admin
 * issued; only its sha256 is stored). Resolved once per request from the
 * bearer token; routes then require one kind or the other.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type Database from 'better-sqlite3';

import { CentralError } from './central-error';

export type Actor =
  | { readonly kind: 'admin' }
  | { readonly kind: 'site'; readonly siteId: string; readonly models: readonly string[] };

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  return timingSafeEqual(Buffer.from(tokenHash(a), 'hex'), Buffer.from(tokenHash(b), 'hex'));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

interface SiteRow { site_id: string; models_json: string | null; revoked_at: string | null }

/** A site's entitlement: NULL (a site added before grants were required) is no model at all. */
export function entitledModels(modelsJson: string | null): string[] {
  return modelsJson === null ? [] : (JSON.parse(modelsJson) as string[]);
}

export function resolveActor(db: Database.Database, adminToken: string, authorization: string | undefined): Actor {
  const token = bearerToken(authorization);
  if (token === undefined) throw new CentralError('CENTRAL_UNAUTHENTICATED', 401, 'Authorization: Bearer <token> is required');
  if (sameSecret(token, adminToken)) return { kind: 'admin' };
  const row = db.prepare('SELECT site_id, models_json, revoked_at FROM sites WHERE token_sha256 = ?').get(tokenHash(token)) as SiteRow | undefined;
  if (row === undefined) throw new CentralError('CENTRAL_UNAUTHENTICATED', 401, 'unknown token');
  if (row.revoked_at !== null) throw new CentralError('CENTRAL_TOKEN_REVOKED', 401, `this site token was revoked at ${row.revoked_at}; ask the central admin to rotate it`);
  return { kind: 'site', siteId: row.site_id, models: entitledModels(row.models_json) };
}

export function requireAdmin(actor: Actor): void {
  if (actor.kind !== 'admin') throw new CentralError('CENTRAL_FORBIDDEN', 403, 'this route takes the admin token');
}

export function requireSite(actor: Actor): { siteId: string; models: readonly string[] } {
  if (actor.kind !== 'site') throw new CentralError('CENTRAL_FORBIDDEN', 403, 'this route takes a site token');
  return actor;
}

export function actorName(actor: Actor | undefined): string {
  if (actor === undefined) return 'anonymous';
  return actor.kind === 'admin' ? 'admin' : `site:${actor.siteId}`;
}
