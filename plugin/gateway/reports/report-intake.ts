import { Hl7Message } from '@medplum/core';

import { decodeReport } from '../../core/decode-report';
import type { AuditLog } from '../audit-log';
import { acknowledgement } from './acknowledgement';
import { readInboundReport } from './inbound-report';
import type { ReportErrorCode } from './report-errors';
import type { ReportStore } from './report-store';

/** One refused message or connection, for the admin: where from, why; never its content. */
export interface ReportIntakeError {
  readonly at: number;
  readonly peer: string;
  readonly via: 'mllp' | 'rest';
  readonly code: ReportErrorCode;
  readonly reason: string;
}

export interface IntakeAnswer {
  readonly ackCode: 'AA' | 'AE' | 'AR';
  readonly ack: string;
  readonly reason: string;
  readonly code?: ReportErrorCode;
  readonly reportId?: number;
  readonly duplicate?: boolean;
}

const KEPT_ERRORS = 200;

/**
 * Everything an inbound report goes through, whichever way it came (MLLP or
 * POST /ai-bridge/reports): size, parse, checks; an accepted report is stored
 * (with its work item) before AA is answered, so an ACKed report is never
 * lost; a refused one stores nothing and is answered AE or AR with its reason.
 */
export class ReportIntake {
  readonly #store: ReportStore;
  readonly #audit: AuditLog;
  readonly #maxBytes: number;
  readonly #onStored: () => void;
  readonly #errors: ReportIntakeError[] = [];

  constructor(store: ReportStore, audit: AuditLog, maxBytes: number, onStored: () => void) {
    this.#store = store;
    this.#audit = audit;
    this.#maxBytes = maxBytes;
    this.#onStored = onStored;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** The newest refusals first. */
  errors(): readonly ReportIntakeError[] {
    return [...this.#errors].reverse();
  }

  recordError(peer: string, via: 'mllp' | 'rest', code: ReportErrorCode, reason: string): void {
    this.#errors.push({ at: Date.now(), peer, via, code, reason });
    if (this.#errors.length > KEPT_ERRORS) this.#errors.shift();
    this.#audit.append({ event: 'report-refused', detail: `${code} from ${peer} (${via}): ${reason}` });
  }

  /** A message longer than the limit: answered from its first bytes, nothing kept. */
  oversize(head: Buffer, length: number, peer: string, via: 'mllp' | 'rest'): IntakeAnswer {
    let message: Hl7Message | undefined;
    try {
      const text = head.toString('utf8').split(/\r|\n/)[0] ?? '';
      message = text.startsWith('MSH|^~\\&|') ? Hl7Message.parse(text) : undefined;
    } catch {
      message = undefined;
    }
    const reason = `message of ${String(length)} bytes is longer than Reports.MaxMessageBytes (${String(this.#maxBytes)})`;
    this.recordError(peer, via, 'AIB_REPORT_TOO_LARGE', reason);
    return { ackCode: 'AR', ack: acknowledgement(message, 'AR', reason), reason, code: 'AIB_REPORT_TOO_LARGE' };
  }

  async accept(bytes: Buffer, peer: string, via: 'mllp' | 'rest'): Promise<IntakeAnswer> {
    if (bytes.length > this.#maxBytes) return this.oversize(bytes.subarray(0, 4096), bytes.length, peer, via);
    const read = readInboundReport(decodeReport(bytes));
    if (!read.ok) {
      this.recordError(peer, via, read.code, read.reason);
      return { ackCode: read.ackCode, ack: acknowledgement(read.message, read.ackCode, read.reason), reason: read.reason, code: read.code };
    }
    const stored = await this.#store.receive(read.report, peer, via);
    if (stored.created) {
      this.#audit.append({ event: 'report-received', detail: `report ${String(stored.reportId)}: ${read.report.messageType} status ${read.report.resultStatus || '-'} from ${peer} (${via})` });
      this.#onStored();
    }
    const reason = stored.created ? `stored as report ${String(stored.reportId)}` : `already stored as report ${String(stored.reportId)}`;
    return { ackCode: 'AA', ack: acknowledgement(read.message, 'AA', ''), reason, reportId: stored.reportId, duplicate: !stored.created };
  }
}
