/**
 * The Koa application: one error-and-audit middleware around the routes of
 * plugin/core/central-api.ts. Each route states who may call it (admin or
 * site) before it reads anything.
 */
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
import { ModelRegistry } from './model-registry';
import { readBody, readJson } from './request-body';
import { SiteDirectory } from './site-directory';
import { TrainingIntake } from './training-intake';
import { parseTrainingJob, TrainingJobs } from './training/training-jobs';

const PACKAGE_LIMIT = 512 * 1024 * 1024;
const UPLOAD_LIMIT = 256 * 1024 * 1024;
const JSON_LIMIT = 64 * 1024;

export interface CentralServices {
  readonly store: CentralStore;
  readonly registry: ModelRegistry;
  readonly sites: SiteDirectory;
  readonly requests: CategoryRequests;
  readonly intake: TrainingIntake;
  readonly training: TrainingJobs;
  readonly audit: AuditLog;
}

export function centralServices(store: CentralStore, trustedAuthorKeys: readonly string[]): CentralServices {
  const registry = new ModelRegistry(store, [...trustedAuthorKeys, store.trainerPublicKeyPem]);
  const intake = new TrainingIntake(store.db, store.uploadsDir);
  return {
    store, registry, intake,
    sites: new SiteDirectory(store.db),
    requests: new CategoryRequests(store.db),
    training: new TrainingJobs(store.db, intake, registry, store.trainerPrivateKeyPem),
    audit: new AuditLog(store.db, join(store.dir, AUDIT_FILE)),
  };
}

function actorOf(ctx: Context, s: CentralServices): Actor {
  const actor = resolveActor(s.store.db, s.store.adminToken, ctx.get('authorization') || undefined);
  ctx.state.actor = actor;
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

export function centralApp(s: CentralServices): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    let result = 'ok';
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no route ${ctx.method} ${ctx.path}`);
    } catch (e) {
      const error = e instanceof CentralError ? e : new CentralError('CENTRAL_INTERNAL', 500, e instanceof Error ? e.message : String(e));
      result = error.code;
      json(ctx, error.status, error.toBody());
    } finally {
      // The audit names the path, never a query string or body: nothing a site sends is echoed into it.
      s.audit.record({
        at: new Date().toISOString(), actor: actorName(ctx.state.actor as Actor | undefined), method: ctx.method, path: ctx.path,
        status: ctx.status, bytesIn: (ctx.state.bytesIn as number | undefined) ?? 0, bytesOut: bodyLength(ctx), result,
      });
    }
  });
  const router = routes(s);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
