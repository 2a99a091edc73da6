import { orthancInstanceId } from '../../core/branded-ids';
import { jsonReply, type HttpReply, type HttpRequestFrame, type OrthancRest } from '../../sdk';
import type { AnnotationStore } from '../annotation/annotation-store';
import type {
  AuditResponse, BulkListResponse, BulkRequest, BulkView, JobDeletedResponse, QuarantineEntry, QuarantineIdentifiers, QuarantineResponse, StatsResponse,
} from '../../core/admin-api';
import { integerParameter, parseJobId, parsePositive, toJobView, type Route } from '../api/api-router';
import { auditCsv, type AuditLine, type AuditLog } from '../audit-log';
import type { BulkRun, BulkStore } from '../bulk/bulk-store';
import type { AiBridgeConfig } from '../config-loader';
import { GatewayError } from '../gateway-errors';
import type { InstanceJobs } from '../instance-jobs';
import type { Job } from '../job';
import { maskBulkAuditDetail, maskBulkQuery } from './bulk-query-mask';
import { configView } from './config-view';
import { basicUser, phiAccess, type PhiAccess, type PhiAccessPolicy } from './phi-access';
import { privacySummary } from './privacy-summary';
import { statsReport } from './stats-report';
import type { StaticUi } from './static-ui';

export interface AdminContext {
  readonly store: InstanceJobs;
  readonly annotations: AnnotationStore;
  readonly bulk: BulkStore;
  readonly audit: AuditLog;
  readonly orthanc: OrthancRest;
  readonly ui: StaticUi;
  readonly config: AiBridgeConfig;
  /** The AiBridge section as the site wrote it (to tell set keys from defaults). */
  readonly rawConfig: Readonly<Record<string, unknown>>;
  readonly phi: PhiAccessPolicy;
  /** Called after jobs were put in the queue. */
  readonly onQueued: () => void;
}

const UI_PREFIX = '/ai-bridge/ui/';

/** The routes behind the admin UI: static files, dashboard numbers, quarantine, audit, settings, bulk runs. */
export function adminRoutes(context: AdminContext): Route[] {
  return [
    { method: 'GET', pattern: /^ui(\/.*)?$/, handler: (request) => context.ui.serve(request.path.slice(UI_PREFIX.length), request.headers) },
    { method: 'GET', pattern: /^stats$/, handler: (request) => stats(context, request) },
    { method: 'GET', pattern: /^quarantine$/, handler: (request) => quarantine(context, request) },
    { method: 'DELETE', pattern: /^jobs\/([^/]+)$/, handler: (request, params) => deleteJob(context, request, params[0] ?? '') },
    { method: 'GET', pattern: /^audit$/, handler: (request) => audit(context, request) },
    { method: 'GET', pattern: /^config$/, handler: () => jsonReply(200, configView(context.config, context.rawConfig)) },
    { method: 'GET', pattern: /^privacy$/, handler: () => jsonReply(200, privacySummary(context.config.DeidProfile, context.audit, context.config.DataDirectory)) },
    { method: 'POST', pattern: /^bulk$/, handler: (request) => startBulk(context, request) },
    { method: 'GET', pattern: /^bulk$/, handler: async (request) => {
      const access = phiAccess(request.headers, context.phi);
      return jsonReply(200, { runs: (await context.bulk.list(50)).map((run) => toBulkView(run, access)) } satisfies BulkListResponse);
    } },
    { method: 'GET', pattern: /^bulk\/([^/]+)$/, handler: async (request, params) =>
      jsonReply(200, toBulkView(await context.bulk.get(parsePositive(params[0] ?? '', 'bulk id')), phiAccess(request.headers, context.phi))) },
  ];
}

async function stats(context: AdminContext, request: HttpRequestFrame): Promise<HttpReply> {
  const minutes = integerParameter(request.query['minutes'], 'minutes', 30, 1, 24 * 60);
  const body: StatsResponse = await statsReport(context.store, context.annotations, context.bulk, minutes);
  return jsonReply(200, body);
}

async function quarantine(context: AdminContext, request: HttpRequestFrame): Promise<HttpReply> {
  const limit = integerParameter(request.query['limit'], 'limit', 50, 1, 200);
  const offset = integerParameter(request.query['offset'], 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const access = phiAccess(request.headers, context.phi);
  const { jobs, total } = await context.store.list({ state: 'quarantined', limit, offset });
  const entries: QuarantineEntry[] = [];
  for (const job of jobs) {
    entries.push({
      job: toJobView(job),
      reason: job.errorMessage ?? '',
      rule: job.errorCode ?? '',
      fileName: job.deidPath ?? `${job.instanceId}.dcm`,
      identifiers: access.allowed ? await identifiers(context.orthanc, job) : null,
    });
  }
  const body: QuarantineResponse = { entries, total, phiView: access };
  return jsonReply(200, body);
}

/** Patient and study attributes from Orthanc's index; null fields when the instance is gone. */
async function identifiers(orthanc: OrthancRest, job: Job): Promise<QuarantineIdentifiers> {
  const tags = async (level: 'patient' | 'study'): Promise<Record<string, unknown>> => {
    try {
      const value = await orthanc.getJson(`/instances/${job.instanceId}/${level}`) as { MainDicomTags?: Record<string, unknown> };
      return value.MainDicomTags ?? {};
    } catch {
      return {};
    }
  };
  const patient = await tags('patient');
  const study = await tags('study');
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    patientName: text(patient['PatientName']), patientId: text(patient['PatientID']),
    studyDescription: text(study['StudyDescription']), accessionNumber: text(study['AccessionNumber']),
  };
}

async function deleteJob(context: AdminContext, request: HttpRequestFrame, raw: string): Promise<HttpReply> {
  const id = parseJobId(raw);
  const job = await context.store.remove(id);
  const user = basicUser(request.headers['authorization']);
  // The entry names the instance (Orthanc's opaque id), never a patient attribute.
  const line = context.audit.append({
    event: 'job-deleted', jobId: job.id, instanceId: job.instanceId,
    detail: `was ${job.state}${job.errorCode === null ? '' : ` (${job.errorCode})`}`,
    ...(user === null ? {} : { user }),
  });
  const body: JobDeletedResponse = { deleted: job.id, audit: line };
  return jsonReply(200, body);
}

function audit(context: AdminContext, request: HttpRequestFrame): HttpReply {
  const format = request.query['format'];
  const stamp = new Date().toISOString().slice(0, 10);
  // A bulk run's query in a line an earlier version wrote may name a patient: masked for users outside PhiViewers.
  const viewer = phiAccess(request.headers, context.phi).allowed;
  const masked = (lines: AuditLine[]): AuditLine[] => (viewer ? lines : lines.map(maskBulkAuditDetail));
  const entries = (): AuditLine[] => masked(context.audit.entries());
  if (format === 'jsonl') {
    const text = viewer ? context.audit.text() : entries().map((e) => `${JSON.stringify(e)}\n`).join('');
    return {
      status: 200, contentType: 'application/x-ndjson',
      headers: { 'content-disposition': `attachment; filename="ai-bridge-audit-${stamp}.jsonl"` }, body: Buffer.from(text, 'utf8'),
    };
  }
  if (format === 'csv') {
    return {
      status: 200, contentType: 'text/csv; charset=utf-8',
      headers: { 'content-disposition': `attachment; filename="ai-bridge-audit-${stamp}.csv"` }, body: Buffer.from(auditCsv(entries()), 'utf8'),
    };
  }
  if (format !== undefined && format !== '' && format !== 'json') {
    throw new GatewayError('AIB_API_BAD_PARAMETER', 'format must be json, csv or jsonl', { parameter: 'format' });
  }
  const limit = integerParameter(request.query['limit'], 'limit', 200, 1, 10_000);
  const body: AuditResponse = { entries: masked(context.audit.newest(limit)), total: context.audit.count() };
  return jsonReply(200, body);
}

async function startBulk(context: AdminContext, request: HttpRequestFrame): Promise<HttpReply> {
  const query = parseBulkRequest(request.body);
  let answer: unknown;
  try {
    answer = await context.orthanc.postJson('/tools/find', { Level: 'Instance', Query: query, Expand: false });
  } catch (error) {
    throw new GatewayError('AIB_BULK_QUERY_FAILED', `Orthanc /tools/find refused the query: ${error instanceof Error ? error.message : String(error)}`, { query: JSON.stringify(query) });
  }
  if (!Array.isArray(answer) || !answer.every((id): id is string => typeof id === 'string')) {
    throw new GatewayError('AIB_BULK_QUERY_FAILED', 'Orthanc /tools/find did not answer a list of instance ids', { query: JSON.stringify(query) });
  }
  const user = basicUser(request.headers['authorization']);
  const jobs = await context.store.enqueueInstances(answer.map(orthancInstanceId), 'bulk action');
  const id = await context.bulk.create(query, user, jobs);
  // The audit is shown to every user: it records the query masked (the run's full query is in the work queue's database, for PhiViewers).
  context.audit.append({ event: 'bulk-started', detail: `bulk ${id}: ${answer.length} instance(s) for ${JSON.stringify(maskBulkQuery(query))}`, ...(user === null ? {} : { user }) });
  context.onQueued();
  return jsonReply(202, toBulkView(await context.bulk.get(id), phiAccess(request.headers, context.phi)));
}

function parseBulkRequest(body: Buffer): Readonly<Record<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError('AIB_API_BAD_PARAMETER', 'the body must be JSON: {"query": {"Modality": "CT", ...}}', { parameter: 'body' });
  }
  const query = typeof value === 'object' && value !== null ? (value as Partial<BulkRequest>).query : undefined;
  if (typeof query !== 'object' || Array.isArray(query) || Object.keys(query).length === 0
    || !Object.entries(query).every(([k, v]) => /^[A-Za-z0-9]+$/.test(k) && typeof v === 'string')) {
    throw new GatewayError('AIB_API_BAD_PARAMETER', 'query must be a non-empty object of DICOM keyword → string (Orthanc /tools/find syntax)', { parameter: 'query' });
  }
  return query;
}

/** A run as the requesting user may see it: its query's identifying values masked unless the user is a PhiViewer. */
function toBulkView(run: BulkRun, access: PhiAccess): BulkView {
  const pending = run.jobs.queued + run.jobs.running + run.jobs.retrying;
  return { id: run.id, query: access.allowed ? run.query : maskBulkQuery(run.query), queryMasked: !access.allowed, createdAt: new Date(run.createdAt).toISOString(), user: run.user, instances: run.instances, jobs: run.jobs, finished: pending === 0 };
}
