import type { ReportReceivedView } from '../../core/report-link-api';
import type { SqlConnection } from '../work-queue/sql-connection';
import type { WorkItem } from '../work-queue/work-item';
import type { WorkQueue } from '../work-queue/work-queue';
import type { InboundReport } from './inbound-report';

export const REPORT_MESSAGE_KIND = 'report-message';

/** A stored report as the admin views it (keys and states, never its text): the REST contract's view. */
export type ReportReceived = ReportReceivedView;

/** The study an instance belongs to, as Orthanc's index has it. */
export interface StudyKeys {
  readonly studyInstanceUid: string;
  readonly accessionNumber: string;
  readonly patientId: string;
}

interface ReportRow {
  id: number; item_id: number; message_type: string; control_id: string; peer: string; via: string;
  study_uid: string; result_status: string; received_at: number;
}

/**
 * The reports received from the report system (PHI zone): one row in the
 * `reports` table per accepted message, made in the same transaction as the
 * message's 'report-message' work item, whose key (sender and control ID)
 * makes a resent message a no-op. The newest report of a study is the one an
 * instance's de-identification uses, so a correction (result status C)
 * replaces what came before it.
 */
export class ReportStore {
  readonly #queue: WorkQueue;
  readonly #sql: SqlConnection;
  #any: boolean | undefined;

  constructor(queue: WorkQueue, sql: SqlConnection) {
    this.#queue = queue;
    this.#sql = sql;
  }

  /** Stores the report and queues its study's re-check; `created` false: this message was received before (a resend). */
  async receive(report: InboundReport, peer: string, via: 'mllp' | 'rest'): Promise<{ reportId: number; itemId: number; created: boolean }> {
    const result = await this.#queue.transaction(async (queue, sql) => {
      const { item, created } = await queue.enqueue({
        kind: REPORT_MESSAGE_KIND, key: `${report.sender}|${report.controlId}`, payload: {}, detail: `${report.messageType} from ${peer} (${via})`,
      });
      if (!created) {
        const rows = await sql.all<{ id: number }>(`SELECT id FROM reports WHERE item_id = ?`, [item.id]);
        return { reportId: rows[0]?.id ?? 0, itemId: item.id, created };
      }
      const rows = await sql.all<{ id: number }>(
        `INSERT INTO reports (item_id, message_type, control_id, sender, peer, via, accession, patient_id, study_uid, result_status, body, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [item.id, report.messageType, report.controlId, report.sender, peer, via, report.accessionNumber, report.patientId,
          report.studyInstanceUid, report.resultStatus, report.text, Date.now()]);
      return { reportId: rows[0]?.id ?? 0, itemId: item.id, created };
    });
    this.#any = true;
    return result;
  }

  /**
   * The newest report of the study: by its Study Instance UID, or by its
   * Accession Number when the report carries no UID (and then by the same
   * Patient ID when both name one, so two patients' equal accessions never mix).
   */
  async newestFor(keys: StudyKeys): Promise<{ id: number; text: string } | undefined> {
    if (!await this.hasAny()) return undefined;
    const rows = await this.#sql.all<{ id: number; body: string }>(
      `SELECT id, body FROM reports
       WHERE (study_uid <> '' AND study_uid = ?)
          OR (study_uid = '' AND accession <> '' AND accession = ? AND (patient_id = '' OR ? = '' OR patient_id = ?))
       ORDER BY id DESC LIMIT 1`,
      [keys.studyInstanceUid, keys.accessionNumber, keys.patientId, keys.patientId]);
    const row = rows[0];
    return row === undefined ? undefined : { id: row.id, text: row.body };
  }

  /** The keys of a stored report (for its study's re-check). */
  async keysOf(itemId: number): Promise<(StudyKeys & { id: number }) | undefined> {
    const rows = await this.#sql.all<{ id: number; study_uid: string; accession: string; patient_id: string }>(
      `SELECT id, study_uid, accession, patient_id FROM reports WHERE item_id = ?`, [itemId]);
    const row = rows[0];
    return row === undefined ? undefined : { id: row.id, studyInstanceUid: row.study_uid, accessionNumber: row.accession, patientId: row.patient_id };
  }

  /** Most instances have no report: one cheap look decides whether Orthanc must be asked for the study's keys. */
  async hasAny(): Promise<boolean> {
    if (this.#any === true) return true;
    const rows = await this.#sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM reports`);
    this.#any = (rows[0]?.n ?? 0) > 0;
    return this.#any;
  }

  async list(limit: number): Promise<ReportReceived[]> {
    const rows = await this.#sql.all<ReportRow>(
      `SELECT id, item_id, message_type, control_id, peer, via, study_uid, result_status, received_at FROM reports ORDER BY id DESC LIMIT ?`, [limit]);
    const out: ReportReceived[] = [];
    for (const row of rows) {
      const item: WorkItem | undefined = await this.#queue.get(row.item_id);
      out.push({
        id: row.id, itemId: row.item_id, messageType: row.message_type, controlId: row.control_id, peer: row.peer, via: row.via,
        studyInstanceUid: row.study_uid, resultStatus: row.result_status, receivedAt: row.received_at,
        state: item?.state ?? 'unknown', outcome: item?.outcome ?? null,
      });
    }
    return out;
  }
}
