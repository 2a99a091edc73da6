import { createHash } from 'node:crypto';

import type { ReportsOverview } from '../../core/report-link-api';

import { jsonReply, type HttpReply, type HttpRequestFrame, type OrthancRest } from '../../sdk';
import type { Route } from '../api/api-router';
import type { AuditLog } from '../audit-log';
import type { ReportsConfig } from '../config-loader';
import type { OrthancLogger } from '../logger';
import type { SqlConnection } from '../work-queue/sql-connection';
import type { WorkQueue } from '../work-queue/work-queue';
import { MllpListener } from './mllp-listener';
import { preliminaryReportFacts } from './preliminary-report-facts';
import type { OutboundReport } from './preliminary-report-oru';
import { ReportIntake } from './report-intake';
import { REPORT_OUTBOUND_KIND, ReportQueueRunner, type StudyRecheck } from './report-queue-runner';
import { REPORT_MESSAGE_KIND, ReportStore, type StudyKeys } from './report-store';

/** A delivered annotation's results, as the deliver stage has them (relinked: original identifiers). */
export interface DeliveredResults {
  readonly annotationId: number;
  readonly modelId: string;
  /** The SOP Instance UIDs of the previous revision's results: a report sent for one of them is corrected, not repeated. */
  readonly previousResults: readonly string[];
  readonly relinked: readonly { readonly kind: 'sr' | 'gsps'; readonly bytes: Buffer; readonly sopInstanceUid: string }[];
}

function hl7Timestamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** 20 characters (MSH-10 is at most 20 in HL7 v2.3–2.5), the same for the same SR. */
export function controlIdFor(srSopInstanceUid: string): string {
  return `AIB${createHash('sha256').update(srSopInstanceUid).digest('hex').slice(0, 17).toUpperCase()}`;
}

/**
 * The report system link (issue 16), PHI zone: the MLLP listener and
 * POST /ai-bridge/reports take reports in; de-identification finds a study's
 * report through reportForInstance; a delivered annotation queues its AI
 * preliminary report (queuePreliminaryReport) which the runner sends.
 */
export class ReportLink {
  readonly store: ReportStore;
  readonly intake: ReportIntake;
  readonly #config: ReportsConfig;
  readonly #queue: WorkQueue;
  readonly #orthanc: OrthancRest;
  readonly #runner: ReportQueueRunner;
  readonly #listener: MllpListener | undefined;
  #port: number | undefined;

  /**
   * `queue` is the node's (its claims find nothing while the node drains);
   * `owner` is the gateway's lease owner.
   */
  constructor(config: ReportsConfig, queue: WorkQueue, owner: string, sql: SqlConnection, audit: AuditLog, orthanc: OrthancRest, log: OrthancLogger, recheck: StudyRecheck) {
    this.#config = config;
    this.#queue = queue;
    this.#orthanc = orthanc;
    this.store = new ReportStore(queue, sql);
    this.intake = new ReportIntake(this.store, audit, config.MaxMessageBytes, () => { this.#runner.kick(); });
    const outbound = config.Outbound;
    this.#runner = new ReportQueueRunner(queue, owner, this.store, recheck, outbound === undefined ? undefined : {
      host: outbound.Host, port: outbound.Port, ackTimeoutMs: outbound.AckTimeoutSeconds * 1000,
      sendingApplication: outbound.SendingApplication, sendingFacility: outbound.SendingFacility,
      receivingApplication: outbound.ReceivingApplication, receivingFacility: outbound.ReceivingFacility,
    }, log);
    const tls = config.Tls;
    this.#listener = config.ListenPort === undefined ? undefined : new MllpListener({
      host: config.ListenAddress, port: config.ListenPort, allowedPeers: config.AllowedPeers,
      ...(tls === undefined ? {} : { tls: { certificateFile: tls.CertificateFile, keyFile: tls.KeyFile, ...(tls.CaFile === undefined ? {} : { caFile: tls.CaFile }) } }),
    }, this.intake);
  }

  async start(): Promise<void> {
    if (this.#listener !== undefined) this.#port = await this.#listener.start();
    this.#runner.start();
  }

  async stop(): Promise<void> {
    this.#runner.stop();
    await this.#listener?.stop();
  }

  /** The newest report of an instance's study, for its de-identification (undefined: none, or no report at all yet). */
  async reportForInstance(instanceId: string): Promise<{ id: number; text: string } | undefined> {
    if (!await this.store.hasAny()) return undefined;
    const study = await this.#orthanc.getJson(`/instances/${instanceId}/study`) as { MainDicomTags?: Record<string, unknown>; PatientMainDicomTags?: Record<string, unknown> };
    const tag = (tags: Record<string, unknown> | undefined, name: string): string => (typeof tags?.[name] === 'string' ? tags[name] : '');
    const keys: StudyKeys = {
      studyInstanceUid: tag(study.MainDicomTags, 'StudyInstanceUID'), accessionNumber: tag(study.MainDicomTags, 'AccessionNumber'),
      patientId: tag(study.PatientMainDicomTags, 'PatientID'),
    };
    return this.store.newestFor(keys);
  }

  /**
   * Queues the AI preliminary report of a delivered annotation (the hook after
   * STOW-RS). Keyed by the SR's SOP Instance UID: delivering the same result
   * again queues nothing new. A later revision of the annotation (new SR UID)
   * is a correction (status C) of the report sent for the earlier one.
   */
  async queuePreliminaryReport(delivered: DeliveredResults): Promise<void> {
    if (this.#config.Outbound === undefined) return;
    for (const result of delivered.relinked.filter((r) => r.kind === 'sr')) {
      const facts = preliminaryReportFacts(result.bytes, delivered.annotationId);
      let corrects = false;
      for (const previous of delivered.previousResults) if (await this.#queue.find(REPORT_OUTBOUND_KIND, previous) !== undefined) corrects = true;
      const payload: OutboundReport = {
        ...facts, controlId: controlIdFor(result.sopInstanceUid), resultId: `AIB-A${String(delivered.annotationId)}-${delivered.modelId}`.slice(0, 50),
        status: corrects ? 'C' : 'P', annotationId: delivered.annotationId, observedAt: hl7Timestamp(Date.now()),
      };
      await this.#queue.enqueue({ kind: REPORT_OUTBOUND_KIND, key: result.sopInstanceUid, payload, detail: `annotation ${String(delivered.annotationId)}${corrects ? ' (correction)' : ''}` });
    }
    this.#runner.kick();
  }

  /** With the link off, the admin UI still learns that it is off. */
  static disabledRoutes(): Route[] {
    const off: ReportsOverview = { enabled: false };
    return [{ method: 'GET', pattern: /^reports$/, handler: () => jsonReply(200, off) }];
  }

  routes(): Route[] {
    return [
      { method: 'POST', pattern: /^reports$/, handler: (request) => this.#post(request) },
      { method: 'GET', pattern: /^reports$/, handler: async () => jsonReply(200, await this.#overview()) },
    ];
  }

  async #post(request: HttpRequestFrame): Promise<HttpReply> {
    const peer = `rest:${request.headers['x-forwarded-for'] ?? 'orthanc'}`;
    const answer = await this.intake.accept(request.body, peer, 'rest');
    return jsonReply(answer.ackCode === 'AA' ? 200 : 400, {
      ack: answer.ackCode, reason: answer.reason, ...(answer.code === undefined ? {} : { code: answer.code }),
      ...(answer.reportId === undefined ? {} : { reportId: answer.reportId, duplicate: answer.duplicate === true }), hl7: answer.ack,
    });
  }

  async #overview(): Promise<ReportsOverview> {
    const sent = await this.#queue.list<OutboundReport>(REPORT_OUTBOUND_KIND, { limit: 200, offset: 0 });
    return {
      enabled: true,
      listening: this.#port === undefined ? null : { address: this.#config.ListenAddress, port: this.#port, tls: this.#config.Tls !== undefined, allowedPeers: this.#config.AllowedPeers },
      outbound: this.#config.Outbound === undefined ? null : { host: this.#config.Outbound.Host, port: this.#config.Outbound.Port },
      received: await this.store.list(200),
      receivedCounts: await this.#queue.countsByState(REPORT_MESSAGE_KIND),
      sent: sent.items.map((item) => ({
        id: item.id, state: item.state, attempts: item.attempts, outcome: item.outcome, errorCode: item.errorCode, errorMessage: item.errorMessage,
        studyInstanceUid: item.payload.studyInstanceUid, srSopInstanceUid: item.payload.srSopInstanceUid, controlId: item.payload.controlId,
        status: item.payload.status, annotationId: item.payload.annotationId, createdAt: item.createdAt, nextAttemptAt: item.nextAttemptAt,
      })),
      sentCounts: await this.#queue.countsByState(REPORT_OUTBOUND_KIND),
      errors: this.intake.errors().slice(0, 100),
    };
  }
}
