import { Hl7Client } from '@medplum/hl7';

import { AiBridgeError } from '../../core/ai-bridge-error';
import type { OrthancLogger } from '../logger';
import type { WorkItem } from '../work-queue/work-item';
import type { WorkQueue } from '../work-queue/work-queue';
import { fieldText } from './hl7-field';
import { preliminaryReportOru, type OruSettings, type OutboundReport } from './preliminary-report-oru';
import { ReportError } from './report-errors';
import { REPORT_MESSAGE_KIND, type ReportStore, type StudyKeys } from './report-store';

export const REPORT_OUTBOUND_KIND = 'report-outbound';

export interface OutboundTarget extends OruSettings {
  readonly host: string;
  readonly port: number;
  readonly ackTimeoutMs: number;
}

/** Finds the study of a report in Orthanc and queues its instances again; the number queued (0: the study is not there yet). */
export type StudyRecheck = (keys: StudyKeys, why: string) => Promise<number>;

/** Longer than one send can take (connect + ACK timeout), so a live sender never loses its lease. */
const LEASE_MS = 120_000;
const IDLE_POLL_MS = 5_000;

/**
 * Works the report link's two kinds of queue item, one at a time, through the
 * one work queue (leases, retries, quarantine are the queue's):
 * - 'report-message': a stored report's study is re-checked (its instances
 *   de-identified again with the report's terms); a study not in Orthanc yet
 *   finds its report when its instances arrive.
 * - 'report-outbound': the ORU^R01 is sent and the item is done only on an
 *   ACK AA (or CA). A gateway killed after sending and before recording the
 *   ACK leaves the item leased; the next start expires that lease and sends
 *   the same message again, same control ID, which the report system
 *   recognises as a resend (HL7 v2 2.10.3: MSH-10 identifies the message).
 */
export class ReportQueueRunner {
  readonly #queue: WorkQueue;
  readonly #store: ReportStore;
  readonly #recheck: StudyRecheck;
  readonly #target: OutboundTarget | undefined;
  readonly #log: OrthancLogger;
  // The gateway's own lease owner (<node>:<pid>): the gateway ends its previous process's leases, these
  // included, before anything starts, and the node registry shows them under this node.
  readonly #owner: string;
  #running = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #again = false;

  constructor(queue: WorkQueue, owner: string, store: ReportStore, recheck: StudyRecheck, target: OutboundTarget | undefined, log: OrthancLogger) {
    this.#queue = queue;
    this.#owner = owner;
    this.#store = store;
    this.#recheck = recheck;
    this.#target = target;
    this.#log = log;
  }

  start(): void {
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#drain().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else {
        this.#schedule();
      }
    });
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    void Promise.all([this.#queue.nextDueAt(REPORT_MESSAGE_KIND), this.#queue.nextDueAt(REPORT_OUTBOUND_KIND)]).then((dues) => {
      const next = Math.min(...dues.map((d) => d ?? Infinity));
      const wait = Number.isFinite(next) ? Math.max(0, Math.min(next - Date.now(), IDLE_POLL_MS)) : IDLE_POLL_MS;
      this.#timer = setTimeout(() => { this.kick(); }, wait);
    }, () => { this.#timer = setTimeout(() => { this.kick(); }, IDLE_POLL_MS); });
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const message = await this.#queue.claim<object>(REPORT_MESSAGE_KIND, this.#owner, LEASE_MS);
      if (message !== undefined) {
        await this.#settle(message, () => this.#recheckStudy(message));
        continue;
      }
      const outbound = this.#target === undefined ? undefined : await this.#queue.claim<OutboundReport>(REPORT_OUTBOUND_KIND, this.#owner, LEASE_MS);
      if (outbound === undefined || this.#target === undefined) return;
      const target = this.#target;
      await this.#settle(outbound, () => this.#send(outbound, target));
    }
  }

  async #settle(item: WorkItem, work: () => Promise<string>): Promise<void> {
    const started = Date.now();
    try {
      const outcome = await work();
      await this.#queue.complete(item.id, this.#owner, outcome, { stages: [{ stage: item.kind, ms: Date.now() - started }] });
    } catch (error) {
      const failure = error instanceof AiBridgeError
        ? { code: error.code, message: error.message, transient: error.transient }
        : { code: 'AIB_REPORT_SEND_FAILED', message: error instanceof Error ? error.message : String(error), transient: true };
      const result = await this.#queue.fail(item.id, this.#owner, failure, { stages: [{ stage: item.kind, ms: Date.now() - started }] });
      this.#log.warn(`report-item-${result.state}`, { stage: item.kind, code: failure.code, attempt: item.attempts, message: `report item ${String(item.id)} (${item.kind}) ${result.state}: ${failure.code}: ${failure.message}` });
    }
  }

  async #recheckStudy(item: WorkItem): Promise<string> {
    const keys = await this.#store.keysOf(item.id);
    if (keys === undefined) return 'no report row (removed)';
    const queued = await this.#recheck(keys, `report ${String(keys.id)} received`);
    return queued === 0 ? `report ${String(keys.id)} stored; its study is not in Orthanc yet and will use it when it arrives`
      : `report ${String(keys.id)} stored; ${String(queued)} instance(s) of its study queued to be de-identified again with it`;
  }

  async #send(item: WorkItem<OutboundReport>, target: OutboundTarget): Promise<string> {
    const report = item.payload;
    const message = preliminaryReportOru(report, target);
    const client = new Hl7Client({ host: target.host, port: target.port, connectTimeout: target.ackTimeoutMs });
    let ack;
    try {
      ack = await client.sendAndWait(message, { timeoutMs: target.ackTimeoutMs });
    } catch (error) {
      throw new ReportError('AIB_REPORT_SEND_FAILED', `preliminary report ${report.controlId} to ${target.host}:${String(target.port)}: ${error instanceof Error ? error.message : String(error)}`,
        { controlId: report.controlId }, true);
    } finally {
      await client.close().catch(() => undefined);
    }
    const msa = ack.getSegment('MSA');
    const code = fieldText(msa, 1).toUpperCase();
    const why = fieldText(msa, 3);
    if (code === 'AA' || code === 'CA') return `ACK ${code} from ${target.host}:${String(target.port)} for ${report.controlId}${report.status === 'C' ? ' (correction)' : ''}`;
    throw new ReportError('AIB_REPORT_REJECTED', `the report system answered ${code || 'no MSA-1'} to ${report.controlId}${why === '' ? '' : `: ${why.slice(0, 200)}`}`,
      { controlId: report.controlId, ackCode: code }, code !== 'AR');
  }
}
