import { Hl7Message } from '@medplum/core';

import { fieldText } from './hl7-field';
import type { ReportErrorCode } from './report-errors';

/** What the gateway keeps of an accepted report: its keys and its whole text (PHI zone, state database). */
export interface InboundReport {
  readonly messageType: 'ORU^R01' | 'MDM^T02';
  /** MSH-10, with MSH-3/MSH-4: a peer's resend of the same message is recognised, not stored twice. */
  readonly controlId: string;
  readonly sender: string;
  readonly accessionNumber: string;
  readonly patientId: string;
  readonly studyInstanceUid: string;
  /** OBR-25 (ORU) or TXA-17 (MDM): 'C' is a correction of an earlier report of the same study. */
  readonly resultStatus: string;
  readonly text: string;
}

/** A refusal: the ACK code to answer, the code to record, and the reason given in MSA-3 (never a patient value). */
export interface InboundRefusal {
  readonly ackCode: 'AE' | 'AR';
  readonly code: ReportErrorCode;
  readonly reason: string;
}

export type InboundResult = { readonly ok: true; readonly report: InboundReport; readonly message: Hl7Message } | ({ readonly ok: false; readonly message?: Hl7Message } & InboundRefusal);

const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const ACCEPTED = new Set(['ORU^R01', 'MDM^T02']);
/** DICOM's "Study Instance UID" concept, as OBX-3 carries it in IHE RAD messages, or a plain label. */
const STUDY_UID_CODES = new Set(['113014', 'STUDYINSTANCEUID', 'STUDY INSTANCE UID', 'STUDYUID']);

function refuse(ackCode: 'AE' | 'AR', code: ReportErrorCode, reason: string, message?: Hl7Message): InboundResult {
  return { ok: false, ackCode, code, reason, ...(message === undefined ? {} : { message }) };
}

/**
 * Reads one HL7 v2 message with @medplum/core's parser and decides whether it
 * is a report the bridge takes: ORU^R01 or MDM^T02, standard encoding
 * characters, every line a segment, a control ID, and at least one key to
 * find its study by. Segment terminators may be CR (the standard), LF or CRLF.
 */
export function readInboundReport(raw: string): InboundResult {
  const text = raw.replace(/\r\n|\n/g, '\r').replace(/\r+$/, '');
  if (!text.startsWith('MSH')) return refuse('AE', 'AIB_REPORT_MALFORMED', 'the message does not start with an MSH segment');
  // MSH-1 is the character after "MSH"; MSH-2 the four that follow it.
  if (text.slice(3, 4) !== '|' || text.slice(4, 8) !== '^~\\&' || text.slice(8, 9) !== '|') {
    return refuse('AR', 'AIB_REPORT_ENCODING', 'MSH-1 and MSH-2 must be the standard encoding characters |^~\\&');
  }
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(text);
  } catch {
    return refuse('AE', 'AIB_REPORT_MALFORMED', 'the message cannot be parsed as HL7 v2');
  }
  const lines = text.split('\r');
  const bad = lines.findIndex((line) => !SEGMENT_NAME.test(line.slice(0, 3)) || (line.length > 3 && line[3] !== '|'));
  if (bad >= 0) return refuse('AE', 'AIB_REPORT_MALFORMED', `line ${String(bad + 1)} is not an HL7 segment (a segment starts with a three-character name and "|")`, message);
  const header = message.header;
  const type = `${fieldText(header, 9, 1)}^${fieldText(header, 9, 2)}`;
  const controlId = fieldText(header, 10);
  if (controlId === '') return refuse('AE', 'AIB_REPORT_MALFORMED', 'MSH-10 (message control ID) is empty', message);
  if (!ACCEPTED.has(type)) return refuse('AR', 'AIB_REPORT_UNSUPPORTED_TYPE', `message type ${type.slice(0, 16)} is not accepted; only ORU^R01 and MDM^T02`, message);

  const obr = message.getSegment('OBR');
  const orc = message.getSegment('ORC');
  const first = (...values: (string | undefined)[]): string => values.find((v) => v !== undefined && v.trim() !== '')?.trim() ?? '';
  const accessionNumber = first(fieldText(obr, 18, 1), fieldText(obr, 3, 1), fieldText(orc, 3, 1), fieldText(message.getSegment('TXA'), 14, 1));
  const patientId = first(fieldText(message.getSegment('PID'), 3, 1));
  const studyUidObx = message.getAllSegments('OBX').find((o) => STUDY_UID_CODES.has(fieldText(o, 3, 1).toUpperCase()));
  const studyInstanceUid = first(fieldText(message.getSegment('ZDS'), 1, 1), fieldText(studyUidObx, 5, 1));
  if (studyInstanceUid !== '' && !/^[0-9.]{1,64}$/.test(studyInstanceUid)) {
    return refuse('AE', 'AIB_REPORT_MALFORMED', 'the Study Instance UID (ZDS-1 or OBX 113014) is not a DICOM UID', message);
  }
  if (accessionNumber === '' && patientId === '' && studyInstanceUid === '') {
    return refuse('AE', 'AIB_REPORT_NO_STUDY_KEY', 'the report names no Accession Number, Patient ID or Study Instance UID', message);
  }
  const resultStatus = first(type === 'ORU^R01' ? fieldText(obr, 25) : fieldText(message.getSegment('TXA'), 17));
  return {
    ok: true,
    message,
    report: {
      messageType: type as InboundReport['messageType'], controlId, sender: `${fieldText(header, 3, 1)}|${fieldText(header, 4, 1)}`,
      accessionNumber, patientId, studyInstanceUid, resultStatus, text,
    },
  };
}
