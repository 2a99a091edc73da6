/**
 * The Koa application: one error-and-audit middleware around the routes of
 * plugin/core/central-api.ts. Each route states who may call it (admin or
 * site) before it reads anything. Every request first takes a token from its
 * address's bucket, and once its bearer token is known from that token's
 * bucket; over either it answers 429 with Retry-After. Requests by a known
 * caller go to the permanent audit; anonymous and rate-limited ones are
 * counted (RequestCounters), so a flood cannot fill the disk.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import Router from '@koa/router';
import Koa, { type Context } from 'koa';

import { CATEGORY_REQUEST_HEADER, CENTRAL_API_PREFIX, centralPaths } from '../plugin/core/central-api';
import { actorName, requireAdmin, requireSite, resolveActor, type Actor } from './actor';
import { AuditLog } from './audit-log';
import { CategoryRequests } from './category-requests';
import { CentralError } from './central-error';
import { AUDIT_FILE, type CentralStore } from './central-store';
import { DEFAULT_CATALOGUE_VALIDITY_SECONDS, ModelRegistry, type TrustedAuthorKey } from './model-registry';
import { RateLimiter, type RateLimit } from './rate-limiter';
import { readBody, readJson } from './request-body';
import { RequestCounters } from './request-counters';
import { SiteDirectory } from './site-directory';
import { StudyReports } from './study-reports';
import { TrainingIntake } from './training-intake';
import { parseTrainingJob, TrainingJobs } from './training/training-jobs';

const PACKAGE_LIMIT = 512 * 1024 * 1024;
const UPLOAD_LIMIT = 256 * 1024 * 1024;
// A report is text: the site's listener takes messages of 1 MiB by default.
const REPORT_LIMIT = 4 * 1024 * 1024;
const JSON_LIMIT = 64 * 1024;

/** Defaults: a site polls every few minutes and uploads in bursts; an address may hold several sites and the admin. */
export const DEFAULT_RATE_LIMITS: CentralRateLimits = {
  perAddress: { ratePerSecond: 50, burst: 500 },
  perToken: { ratePerSecond: 20, burst: 200 },
};

export interface CentralRateLimits {
  readonly perAddress: RateLimit;
  readonly perToken: RateLimit;
}

export interface CentralPolicy {
  readonly rateLimits?: CentralRateLimits;
  readonly catalogueValiditySeconds?: number;
  /** Where a 500's details go (the answer carries only a reference). */
  readonly log?: (line: string) => void;
}

export interface CentralServices {
  readonly store: CentralStore;
  readonly registry: ModelRegistry;
  readonly sites: SiteDirectory;
  readonly requests: CategoryRequests;
  readonly intake: TrainingIntake;
  readonly reports: StudyReports;
  readonly training: TrainingJobs;
  readonly audit: AuditLog;
  readonly counters: RequestCounters;
  readonly addressLimiter: RateLimiter;
  readonly tokenLimiter: RateLimiter;
  readonly log: (line: string) => void;
}

export function centralServices(store: CentralStore, trustedAuthorKeys: readonly TrustedAuthorKey[], policy: CentralPolicy = {}): CentralServices {
  const registry = new ModelRegistry(store, trustedAuthorKeys, store.trainerPublicKeyPem, policy.catalogueValiditySeconds ?? DEFAULT_CATALOGUE_VALIDITY_SECONDS);
  const intake = new TrainingIntake(store.db, store.uploadsDir);
  const limits = policy.rateLimits ?? DEFAULT_RATE_LIMITS;
  return {
    store, registry, intake, reports: new StudyReports(store.db, store.uploadsDir),
    sites: new SiteDirectory(store.db, () => { registry.bumpSerial(); }),
    requests: new CategoryRequests(store.db),
    training: new TrainingJobs(store.db, intake, registry, store.trainerPrivateKeyPem),
    audit: new AuditLog(store.db, join(store.dir, AUDIT_FILE)),
    counters: new RequestCounters(store.db),
    addressLimiter: new RateLimiter(limits.perAddress),
    tokenLimiter: new RateLimiter(limits.perToken),
    log: policy.log ?? ((line) => { process.stderr.write(`${line}\n`); }),
  };
}

function rateLimited(retryAfterSeconds: number, what: string): CentralError {
  return new CentralError('CENTRAL_RATE_LIMITED', 429, `too many requests from this ${what}; try again in ${String(retryAfterSeconds)} s`, undefined, retryAfterSeconds);
}

function actorOf(ctx: Context, s: CentralServices): Actor {
  const actor = resolveActor(s.store.db, s.store.adminToken, ctx.get('authorization') || undefined);
  ctx.state.actor = actor;
  // Per site token: one site (misbehaving, or its token stolen) cannot starve the others. The admin is limited by address only.
  const wait = actor.kind === 'site' ? s.tokenLimiter.take(actorName(actor)) : null;
  if (wait !== null) throw rateLimited(wait, 'token');
  if (actor.kind === 'site') s.sites.seen(actor.siteId);
  return actor;
}

function param(ctx: Context, name: string): string {
  return (ctx.params as Record<string, string | undefined>)[name] ?? '';
}

function json(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

function routes(s: CentralServices): Router {
  const router = new Router();
  router.get(centralPaths.registryKey, (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.body = s.store.registryPublicKeyPem;
  });
  router.get(centralPaths.catalogue, (ctx) => {
    const site = requireSite(actorOf(ctx, s));
    const catalogue = s.registry.catalogue(site.siteId, site.models);
    ctx.set('ETag', catalogue.etag);
    ctx.set('Cache-Control', 'no-cache');
    // RFC 9110 13.1.2: If-None-Match may list several tags, or be weak-prefixed by a proxy.
    if (ctx.get('if-none-match').split(',').some((tag) => tag.trim().replace(/^W\//, '') === catalogue.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/json';
    ctx.body = catalogue.body;
  });
  router.get(`${CENTRAL_API_PREFIX}/models/:id/:version/package`, (ctx) => {
    const actor = actorOf(ctx, s);
    ctx.type = 'application/json';
    ctx.body = s.registry.packageArchive(param(ctx, 'id'), param(ctx, 'version'), actor.kind === 'admin' ? null : actor.models);
  });
  router.post(centralPaths.uploads, async (ctx) => {
    const site = requireSite(actorOf(ctx, s));
    if (ctx.get('content-type').split(';')[0]?.trim() !== 'application/dicom')
      throw new CentralError('CENTRAL_UNSUPPORTED_MEDIA_TYPE', 415, 'uploads are one instance, Content-Type: application/dicom');
    const requestId = ctx.get(CATEGORY_REQUEST_HEADER) || null;
    if (requestId !== null && !s.requests.exists(requestId)) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no category request ${requestId}`);
    const { receipt, created } = s.intake.receive(site.siteId, await readBody(ctx, UPLOAD_LIMIT), requestId);
    json(ctx, created ? 201 : 200, receipt);
  });
  router.put(`${CENTRAL_API_PREFIX}/uploads/studies/:study/report`, async (ctx) => {
    const site = requireSite(actorOf(ctx, s));
    if (ctx.get('content-type').split(';')[0]?.trim() !== 'text/plain')
      throw new CentralError('CENTRAL_UNSUPPORTED_MEDIA_TYPE', 415, 'a study report is Content-Type: text/plain; charset=utf-8');
    const requestId = ctx.get(CATEGORY_REQUEST_HEADER) || null;
    if (requestId !== null && !s.requests.exists(requestId)) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no category request ${requestId}`);
    const { receipt, created } = s.reports.receive(site.siteId, param(ctx, 'study'), await readBody(ctx, REPORT_LIMIT), requestId);
    json(ctx, created ? 201 : 200, receipt);
  });
  router.get(centralPaths.requests, (ctx) => {
    json(ctx, 200, s.requests.list(requireSite(actorOf(ctx, s)).siteId));
  });
  router.post(`${CENTRAL_API_PREFIX}/requests/:id/progress`, async (ctx) => {
    const site = requireSite(actorOf(ctx, s));
    json(ctx, 200, s.requests.progress(site.siteId, param(ctx, 'id'), await readJson(ctx, JSON_LIMIT)));
  });
  adminRoutes(router, s);
  return router;
}

function adminRoutes(router: Router, s: CentralServices): void {
  const admin = (ctx: Context): void => { requireAdmin(actorOf(ctx, s)); };
  router.post(centralPaths.adminModels, async (ctx) => {
    admin(ctx);
    const { receipt, created } = s.registry.publish(await readJson(ctx, PACKAGE_LIMIT));
    json(ctx, created ? 201 : 200, receipt);
  });
  router.get(centralPaths.adminModels, (ctx) => {
    admin(ctx);
    ctx.type = 'application/json';
    ctx.body = s.registry.catalogue('*', null).body;
  });
  router.post(centralPaths.adminSites, async (ctx) => {
    admin(ctx);
    json(ctx, 201, s.sites.add(await readJson(ctx, JSON_LIMIT)));
  });
  router.get(centralPaths.adminSites, (ctx) => { admin(ctx); json(ctx, 200, s.sites.list()); });
  router.post(`${centralPaths.adminSites}/:id/revoke`, (ctx) => { admin(ctx); json(ctx, 200, s.sites.revoke(param(ctx, 'id'))); });
  router.post(`${centralPaths.adminSites}/:id/rotate`, (ctx) => { admin(ctx); json(ctx, 200, s.sites.rotate(param(ctx, 'id'))); });
  router.put(`${centralPaths.adminSites}/:id/models`, async (ctx) => {
    admin(ctx);
    json(ctx, 200, s.sites.entitle(param(ctx, 'id'), await readJson(ctx, JSON_LIMIT)));
  });
  router.get(centralPaths.adminCounters, (ctx) => { admin(ctx); json(ctx, 200, s.counters.read()); });
  router.post(centralPaths.adminRequests, async (ctx) => {
    admin(ctx);
    json(ctx, 201, s.requests.create(await readJson(ctx, JSON_LIMIT)));
  });
  router.get(centralPaths.adminRequests, (ctx) => { admin(ctx); json(ctx, 200, s.requests.list(null)); });
  router.post(`${centralPaths.adminRequests}/:id/close`, (ctx) => { admin(ctx); json(ctx, 200, s.requests.close(param(ctx, 'id'))); });
  router.post(centralPaths.adminTraining, async (ctx) => {
    admin(ctx);
    const job = parseTrainingJob(await readJson(ctx, JSON_LIMIT));
    const known = new Set(s.sites.list().map((site) => site.siteId));
    const unknown = [...job.trainSites, ...job.evaluationSites].filter((id) => !known.has(id));
    if (unknown.length > 0) throw new CentralError('CENTRAL_BAD_REQUEST', 400, `unknown sites: ${unknown.join(', ')}`);
    json(ctx, 202, s.training.start(job));
  });
  router.get(centralPaths.adminTraining, (ctx) => { admin(ctx); json(ctx, 200, s.training.list()); });
  router.get(`${centralPaths.adminTraining}/:id`, (ctx) => { admin(ctx); json(ctx, 200, s.training.get(param(ctx, 'id'))); });
  router.get(centralPaths.adminAudit, (ctx) => {
    admin(ctx);
    ctx.type = 'application/x-ndjson';
    ctx.body = readFileSync(s.audit.file);
  });
}

function bodyLength(ctx: Context): number {
  const body: unknown = ctx.body;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  return 0;
}

/** A bug's answer says nothing of the server's inside (paths, SQL, stack); the log keeps the details under the same reference. */
function internalError(e: unknown, ctx: Context, s: CentralServices): CentralError {
  const reference = randomBytes(6).toString('hex');
  s.log(`central: CENTRAL_INTERNAL ${reference} on ${ctx.method} ${ctx.path}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return new CentralError('CENTRAL_INTERNAL', 500, `internal error (reference ${reference}); the details are in the central server's log`);
}

export function centralApp(s: CentralServices): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    let result = 'ok';
    try {
      const wait = s.addressLimiter.take(`address:${ctx.ip}`);
      if (wait !== null) throw rateLimited(wait, 'address');
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no route ${ctx.method} ${ctx.path}`);
    } catch (e) {
      const error = e instanceof CentralError ? e : internalError(e, ctx, s);
      result = error.code;
      json(ctx, error.status, error.toBody());
      if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
    } finally {
      const actor = ctx.state.actor as Actor | undefined;
      if (result === 'CENTRAL_RATE_LIMITED') s.counters.count('rateLimited');
      else if (actor === undefined) s.counters.count('unauthenticated');
      else {
        // The audit names the path, never a query string or body: nothing a site sends is echoed into it.
        s.audit.record({
          at: new Date().toISOString(), actor: actorName(actor), method: ctx.method, path: ctx.path,
          status: ctx.status, bytesIn: (ctx.state.bytesIn as number | undefined) ?? 0, bytesOut: bodyLength(ctx), result,
        });
      }
    }
  });
  const router = routes(s);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
