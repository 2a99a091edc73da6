import { Hl7Message } from '@medplum/core';

import { escapeHl7 } from './acknowledgement';
import type { PreliminaryReportFacts } from './preliminary-report-facts';

/** The payload of a 'report-outbound' work item: everything the ORU^R01 is built from, so every retry sends the same message. */
export interface OutboundReport extends PreliminaryReportFacts {
  /** MSH-10, derived from the SR's UID: a retry after a crash sends the same control ID, and the report system can tell. */
  readonly controlId: string;
  /** OBR-3 (filler order number): the same for every revision of one annotation, so a correction replaces its report. */
  readonly resultId: string;
  /** 'P' the first report of a result, 'C' a correction of one the report system already has. */
  readonly status: 'P' | 'C';
  readonly annotationId: number;
  /** When the result was made (HL7 DTM), fixed with the item so retries are equal. */
  readonly observedAt: string;
}

export interface OruSettings {
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly receivingApplication: string;
  readonly receivingFacility: string;
}

/**
 * The ORU^R01 (HL7 v2.5.1 chapter 7) that carries an AI preliminary report:
 * PID with the original Patient ID and name, OBR with the Accession Number
 * (OBR-2 placer and OBR-18), the result id (OBR-3) and status P or C
 * (OBR-25), ZDS-1 with the Study Instance UID (IHE RAD convention), one OBX
 * TX per line of the text, and OBX lines for the study and SR UIDs.
 */
export function preliminaryReportOru(report: OutboundReport, settings: OruSettings): Hl7Message {
  const e = escapeHl7;
  const obxStatus = report.status === 'C' ? 'C' : 'P';
  const lines = report.text.split(/\r\n|\r|\n/);
  let n = 0;
  const obx = (type: string, id: string, value: string): string => `OBX|${String(++n)}|${type}|${id}||${value}||||||${obxStatus}`;
  const segments = [
    `MSH|^~\\&|${e(settings.sendingApplication)}|${e(settings.sendingFacility)}|${e(settings.receivingApplication)}|${e(settings.receivingFacility)}|${report.observedAt}||ORU^R01^ORU_R01|${e(report.controlId)}|P|2.5.1|||AL|NE|||||`,
    `PID|1||${e(report.patientId)}||${e(report.patientName)}`,
    `OBR|1|${e(report.accessionNumber)}|${e(report.resultId)}|AIPRELIM^AI preliminary report^L|||${report.observedAt}|||||||||||${e(report.accessionNumber)}|||||||${report.status === 'C' ? 'C' : 'P'}`,
    `ZDS|${e(report.studyInstanceUid)}^^Application^DICOM`,
    ...lines.map((line) => obx('TX', 'AIPRELIM^AI preliminary report^L', e(line))),
    obx('ST', '113014^Study Instance UID^DCM', e(report.studyInstanceUid)),
    obx('ST', 'SRUID^SR SOP Instance UID^L', e(report.srSopInstanceUid)),
  ];
  return Hl7Message.parse(segments.join('\r'));
}
