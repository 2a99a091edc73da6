import { createHash } from 'node:crypto';

import { AiBridgeError } from '../../core/ai-bridge-error';
import { jobId } from '../../core/branded-ids';
import { jsonReply, type HttpReply, type HttpRequestFrame } from '../../sdk';
import { GatewayError } from '../gateway-errors';
import { ANNOTATION_STATES, type Annotation, type AnnotationState, type AnnotationStore } from '../annotation/annotation-store';
import type { InstanceJobs } from '../instance-jobs';
import { isJobState, JOB_STATES, type Job } from '../job';
import type { AuditLog } from '../audit-log';
import { basicUser } from '../admin/phi-access';
import { routingLua } from './routing-lua';
import { requireSameOrigin } from './same-origin';
import type { SiteModelsApi } from './site-models-api';
import type {
  AnnotationDetailResponse, AnnotationListResponse, AnnotationView, EventView, HealthResponse, JobDetailResponse, JobListResponse, JobView,
} from '../../core/admin-api';

export interface ApiContext {
  readonly store: InstanceJobs;
  readonly annotations: AnnotationStore;
  readonly health: () => Promise<HealthResponse>;
  /** Called after a job was put back in the queue. */
  readonly onRequeued: () => void;
  /** Called after an annotation was put back in the queue. */
  readonly onAnnotationRequeued: () => void;
  /** The study an instance belongs to, from Orthanc's index (undefined when the instance is gone). */
  readonly studyOf?: (instanceId: string) => Promise<{ orthancId: string; studyInstanceUid: string | null } | undefined>;
  /** AiBridge.ViewerUrl: {StudyInstanceUID} is replaced. */
  readonly viewerUrl?: string;
  /** The link from an annotation to its results: {StudyInstanceUID} and {ResultSOPInstanceUIDs} (comma-separated) are replaced; default viewerUrl. */
  readonly resultsViewerUrl?: string;
  /** Models, categories and central requests (asked of the annotator). */
  readonly models: SiteModelsApi;
  /** Where an approval or a decline of a category request is recorded. */
  readonly audit?: AuditLog;
}

const PREFIX = '/ai-bridge/';
const MAX_LIMIT = 1000;

export type Handler = (request: HttpRequestFrame, params: readonly string[]) => HttpReply | Promise<HttpReply>;
export interface Route { readonly method: string; readonly pattern: RegExp; readonly handler: Handler }

/** The /ai-bridge/ REST API. Every error answers JSON with a stable code. */
export class ApiRouter {
  readonly #context: ApiContext;
  readonly #routes: readonly Route[];

  /** `extra`: further routes (the admin UI's), matched after these. */
  constructor(context: ApiContext, extra: readonly Route[] = []) {
    this.#context = context;
    this.#routes = [
      { method: 'GET', pattern: /^health$/, handler: async () => jsonReply(200, await this.#context.health()) },
      { method: 'GET', pattern: /^jobs$/, handler: (request) => this.#listJobs(request) },
      { method: 'GET', pattern: /^jobs\/([^/]+)$/, handler: async (_request, params) => this.#getJob(params[0] ?? '') },
      { method: 'POST', pattern: /^jobs\/([^/]+)\/retry$/, handler: (_request, params) => this.#retryJob(params[0] ?? '') },
      { method: 'GET', pattern: /^annotations$/, handler: (request) => this.#listAnnotations(request) },
      { method: 'GET', pattern: /^annotations\/([^/]+)$/, handler: (_request, params) => this.#getAnnotation(params[0] ?? '') },
      { method: 'POST', pattern: /^annotations\/([^/]+)\/retry$/, handler: (_request, params) => this.#retryAnnotation(params[0] ?? '') },
      { method: 'GET', pattern: /^models$/, handler: async () => jsonReply(200, await this.#context.models.list()) },
      { method: 'POST', pattern: /^models\/([^/]+)\/rollback$/, handler: async (_request, params) => jsonReply(200, await this.#context.models.rollback(modelIdParameter(params[0]))) },
      { method: 'POST', pattern: /^models\/([^/]+)\/activate$/, handler: (request, params) => this.#activate(request, modelIdParameter(params[0])) },
      { method: 'GET', pattern: /^categories$/, handler: async () => jsonReply(200, await this.#context.models.categories()) },
      { method: 'GET', pattern: /^categories\/orthanc\.lua$/, handler: (request) => this.#routingLua(request) },
      { method: 'GET', pattern: /^central\/requests$/, handler: async () => jsonReply(200, await this.#context.models.requests()) },
      { method: 'POST', pattern: /^central\/requests\/([^/]+)\/(approve|decline)$/, handler: (request, params) => this.#decide(request, params[0] ?? '', params[1] === 'approve') },
      ...extra,
    ];
  }

  async handle(request: HttpRequestFrame): Promise<HttpReply> {
    try {
      requireSameOrigin(request);
      return withEtag(request, await this.#route(request));
    } catch (error) {
      return errorReply(error);
    }
  }

  async #activate(request: HttpRequestFrame, id: string): Promise<HttpReply> {
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      body = undefined;
    }
    const version = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['version'] : undefined;
    if (typeof version !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(version))
      throw new GatewayError('AIB_API_BAD_PARAMETER', 'the body must be {"version": "<installed version>"}', { parameter: 'version' });
    return jsonReply(200, await this.#context.models.activate(id, version));
  }

  /** An administrator's approval or decline of a category request, recorded in the audit with the Orthanc user. */
  async #decide(request: HttpRequestFrame, raw: string, approve: boolean): Promise<HttpReply> {
    const id = decodeURIComponent(raw);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new GatewayError('AIB_API_BAD_PARAMETER', 'a request id is letters, digits, ".", "_" and "-"', { parameter: 'id' });
    let reason = '';
    if (!approve && request.body.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8'));
      } catch {
        body = undefined;
      }
      const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['reason'] : undefined;
      if (given !== undefined && (typeof given !== 'string' || given.length > 500))
        throw new GatewayError('AIB_API_BAD_PARAMETER', 'the body is {"reason": "<at most 500 characters>"} or empty', { parameter: 'reason' });
      reason = given ?? '';
    }
    const user = basicUser(request.headers['authorization']);
    await this.#context.models.decide(id, approve, user, reason);
    // The reason is the administrator's words about a category, never read from an instance.
    this.#context.audit?.append({
      event: approve ? 'category-request-approved' : 'category-request-declined',
      detail: `central category request ${id}${reason === '' ? '' : `: ${reason}`}`, ...(user === null ? {} : { user }),
    });
    const view = (await this.#context.models.requests()).requests.find((r) => r.id === id);
    return jsonReply(200, view ?? {});
  }

  async #routingLua(request: HttpRequestFrame): Promise<HttpReply> {
    const target = request.query['target'] ?? 'ai-bridge';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(target)) throw new GatewayError('AIB_API_BAD_PARAMETER', 'target must be a DicomModalities name (letters, digits, - and _)', { parameter: 'target' });
    const script = routingLua(await this.#context.models.categories(), target, new Date().toISOString());
    return { status: 200, contentType: 'text/x-lua; charset=utf-8', body: Buffer.from(script, 'utf8') };
  }

  #route(request: HttpRequestFrame): HttpReply | Promise<HttpReply> {
    const path = request.path.startsWith(PREFIX) ? request.path.slice(PREFIX.length).replace(/\/$/, '') : request.path;
    const matching = this.#routes.map((route) => ({ route, match: route.pattern.exec(path) })).filter((m) => m.match !== null);
    if (matching.length === 0) {
      throw new GatewayError('AIB_API_NOT_FOUND', `no route ${request.method} ${request.path}`, { path: request.path });
    }
    const hit = matching.find((m) => m.route.method === request.method);
    if (hit === undefined || hit.match === null) {
      throw new GatewayError('AIB_API_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}`, {
        path: request.path, allowed: matching.map((m) => m.route.method).join(','),
      });
    }
    return hit.route.handler(request, hit.match.slice(1));
  }

  async #listJobs(request: HttpRequestFrame): Promise<HttpReply> {
    const query = request.query;
    const state = query['state'];
    if (state !== undefined && state !== '' && !isJobState(state)) {
      throw new GatewayError('AIB_API_BAD_PARAMETER', `state must be one of ${JOB_STATES.join(', ')}`, { parameter: 'state' });
    }
    const limit = integerParameter(query['limit'], 'limit', 100, 1, MAX_LIMIT);
    const offset = integerParameter(query['offset'], 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const text = (name: string): { [key: string]: string } => {
      const value = query[name];
      return value === undefined || value === '' ? {} : { [name]: value };
    };
    const createdFrom = dateParameter(query['from'], 'from');
    const createdTo = dateParameter(query['to'], 'to', true);
    const { jobs, total } = await this.#context.store.list({
      ...(state === undefined || state === '' ? {} : { state }), ...text('modality'), ...text('model'),
      ...(query['q'] === undefined || query['q'] === '' ? {} : { text: query['q'] }),
      ...(createdFrom === undefined ? {} : { createdFrom }), ...(createdTo === undefined ? {} : { createdTo }),
      limit, offset,
    });
    const body: JobListResponse = { jobs: jobs.map(toJobView), total, limit, offset };
    return jsonReply(200, body);
  }

  async #getJob(raw: string): Promise<HttpReply> {
    const id = parseJobId(raw);
    const before = await this.#context.store.get(id);
    if (before === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `job ${raw} does not exist`, { jobId: raw });
    const study = await this.#context.studyOf?.(before.instanceId);
    // Read the job and its events after the study lookup, so state and events agree.
    const job = await this.#context.store.get(id);
    if (job === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `job ${raw} does not exist`, { jobId: raw });
    const viewerUrl = this.#context.viewerUrl ?? '';
    const body: JobDetailResponse = {
      ...toJobView(job),
      events: (await this.#context.store.events(id)).map(toEventView),
      study: study === undefined ? null : {
        ...study,
        explorerPath: `/app/explorer.html#study?uuid=${encodeURIComponent(study.orthancId)}`,
        viewerUrl: viewerUrl === '' || study.studyInstanceUid === null ? null : viewerUrl.replace(/\{StudyInstanceUID\}/g, encodeURIComponent(study.studyInstanceUid)),
      },
      annotations: (await this.#context.annotations.forJob(id)).map((a) => this.#withViewer(toAnnotationView(a))),
    };
    return jsonReply(200, body);
  }

  async #listAnnotations(request: HttpRequestFrame): Promise<HttpReply> {
    const state = request.query['state'];
    if (state !== undefined && !(ANNOTATION_STATES as readonly string[]).includes(state)) {
      throw new GatewayError('AIB_API_BAD_PARAMETER', `state must be one of ${ANNOTATION_STATES.join(', ')}`, { parameter: 'state' });
    }
    const limit = integerParameter(request.query['limit'], 'limit', 100, 1, MAX_LIMIT);
    const offset = integerParameter(request.query['offset'], 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const { annotations, total } = await this.#context.annotations.list(
      state === undefined ? { limit, offset } : { state: state as AnnotationState, limit, offset });
    const body: AnnotationListResponse = { annotations: annotations.map((a) => this.#withViewer(toAnnotationView(a))), total, limit, offset };
    return jsonReply(200, body);
  }

  async #getAnnotation(raw: string): Promise<HttpReply> {
    const id = parsePositive(raw, 'annotation id');
    const annotation = await this.#context.annotations.get(id);
    if (annotation === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `annotation ${raw} does not exist`, { annotationId: raw });
    const body: AnnotationDetailResponse = { ...this.#withViewer(toAnnotationView(annotation)), events: (await this.#context.annotations.events(id)).map(toEventView) };
    return jsonReply(200, body);
  }

  /** The annotation's delivered results in the viewer (OHIF opens the SR among them with its measurements drawn). */
  #withViewer(view: AnnotationView): AnnotationView {
    const template = this.#context.resultsViewerUrl ?? this.#context.viewerUrl ?? '';
    if (template === '' || view.results.length === 0) return { ...view, viewerUrl: null };
    return {
      ...view,
      viewerUrl: template.replace(/\{StudyInstanceUID\}/g, encodeURIComponent(view.studyInstanceUid))
        .replace(/\{ResultSOPInstanceUIDs\}/g, view.results.map(encodeURIComponent).join(',')),
    };
  }

  async #retryAnnotation(raw: string): Promise<HttpReply> {
    const annotation = await this.#context.annotations.requeue(parsePositive(raw, 'annotation id'));
    this.#context.onAnnotationRequeued();
    return jsonReply(202, toAnnotationView(annotation));
  }

  async #retryJob(raw: string): Promise<HttpReply> {
    const job = await this.#context.store.requeue(parseJobId(raw));
    this.#context.onRequeued();
    return jsonReply(202, toJobView(job));
  }
}

export function toJobView(job: Job): JobView {
  return {
    id: job.id, instanceId: job.instanceId, sopInstanceUid: job.sopInstanceUid, seriesInstanceUid: job.seriesInstanceUid,
    modality: job.modality, sopClassUid: job.sopClassUid, transferSyntaxUid: job.transferSyntaxUid,
    sha256: job.sha256, sizeBytes: job.sizeBytes, originalRead: job.originalRead, deidPath: job.deidPath, linkToken: job.linkToken, categoryRequest: job.categoryRequest, changeSeq: job.changeSeq, state: job.state, stage: job.stage,
    attempts: job.attempts, nextAttemptAt: job.state === 'retrying' ? iso(job.nextAttemptAt) : null, outcome: job.outcome,
    error: job.errorCode === null ? null : { code: job.errorCode, message: job.errorMessage ?? '' },
    createdAt: new Date(job.createdAt).toISOString(), updatedAt: new Date(job.updatedAt).toISOString(), finishedAt: iso(job.finishedAt),
  };
}

function modelIdParameter(raw: string | undefined): string {
  const id = decodeURIComponent(raw ?? '');
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) throw new GatewayError('AIB_API_BAD_PARAMETER', 'a model id is lower-case letters, digits, ".", "_" and "-"', { parameter: 'id' });
  return id;
}

export function parsePositive(raw: string, what: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) {
    throw new GatewayError('AIB_API_BAD_PARAMETER', `${what} must be a positive integer, got ${JSON.stringify(raw.slice(0, 40))}`, { parameter: 'id' });
  }
  return Number(raw);
}

export function parseJobId(raw: string): ReturnType<typeof jobId> {
  return jobId(parsePositive(raw, 'job id'));
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toEventView(e: { at: number; event: string; stage: string; detail: string | null }): EventView {
  return { at: new Date(e.at).toISOString(), event: e.event, stage: e.stage, detail: e.detail };
}

export function toAnnotationView(a: Annotation): AnnotationView {
  return {
    id: a.id, unit: a.unit, studyInstanceUid: a.studyInstanceUid, seriesInstanceUid: a.seriesInstanceUid,
    model: { id: a.modelId, version: a.modelVersion }, members: a.members, expectedInstances: a.expectedInstances,
    state: a.state, stage: a.stage, attempts: a.attempts, nextAttemptAt: a.state === 'retrying' ? iso(a.nextAttemptAt) : null,
    outcome: a.outcome, error: a.errorCode === null ? null : { code: a.errorCode, message: a.errorMessage ?? '' }, results: a.results, revision: a.revision,
    createdAt: new Date(a.createdAt).toISOString(), updatedAt: new Date(a.updatedAt).toISOString(), finishedAt: iso(a.finishedAt),
  };
}

export function integerParameter(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GatewayError('AIB_API_BAD_PARAMETER', `${name} must be an integer from ${min} to ${max}`, { parameter: name });
  }
  return value;
}

/**
 * A date (YYYY-MM-DD, UTC) or ISO 8601 date-time, as epoch ms. An end bound
 * given as a date includes that whole day.
 */
function dateParameter(raw: string | undefined, name: string, endOfDay = false): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const ms = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(ms)) throw new GatewayError('AIB_API_BAD_PARAMETER', `${name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time`, { parameter: name });
  return dateOnly && endOfDay ? ms + 86_400_000 : ms;
}

/**
 * GET answers carry a strong ETag; a poll with the same If-None-Match gets
 * 304 and no body (the dashboard polls; nothing changed, nothing re-sent).
 */
function withEtag(request: HttpRequestFrame, reply: HttpReply): HttpReply {
  if (request.method !== 'GET' || reply.status !== 200 || reply.headers?.['etag'] !== undefined) return reply;
  const etag = `"${createHash('sha256').update(reply.body).digest('base64url').slice(0, 22)}"`;
  const headers = { ...reply.headers, etag, 'cache-control': 'no-cache' };
  if (request.headers['if-none-match'] === etag) return { status: 304, contentType: '', headers, body: Buffer.alloc(0) };
  return { ...reply, headers };
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  AIB_API_NOT_FOUND: 404, AIB_API_BAD_PARAMETER: 400, AIB_API_METHOD_NOT_ALLOWED: 405, AIB_API_CONFLICT: 409,
  AIB_UI_NOT_BUILT: 503, AIB_VIEWER_DISABLED: 404, AIB_VIEWER_NOT_INSTALLED: 503, AIB_BULK_QUERY_FAILED: 502, AIB_API_UNAVAILABLE: 503, AIB_API_CROSS_ORIGIN: 403, AIB_CATEGORY_REQUEST_REFUSED: 409,
  AIB_ANNOTATOR_LOST: 503, AIB_ANNOTATOR_PROTOCOL: 502,
};

export function errorReply(error: unknown): HttpReply {
  if (error instanceof AiBridgeError) {
    const reply = jsonReply(STATUS_BY_CODE[error.code] ?? 500, { error: error.toJSON() });
    const allowed = error.details['allowed'];
    // RFC 9110 15.5.6: a 405 names the methods that are allowed.
    return typeof allowed === 'string' ? { ...reply, headers: { allow: allowed } } : reply;
  }
  return jsonReply(500, { error: { code: 'AIB_API_INTERNAL', message: error instanceof Error ? error.message : String(error), details: {} } });
}
