import { AiBridgeError, type ErrorDetails } from '../../core/ai-bridge-error';

/**
 * Every code the report link (issue 16) raises, with its meaning. README
 * lists them; test/core/error-codes.test.ts checks both agree.
 */
export const REPORT_ERROR_CODES = {
  AIB_REPORT_MALFORMED: 'an HL7 v2 message that cannot be read: no MSH first, a line that is no segment, no message control ID (ACK AE)',
  AIB_REPORT_ENCODING: 'MSH-1/MSH-2 are not the standard encoding characters |^~\\& (ACK AR)',
  AIB_REPORT_UNSUPPORTED_TYPE: 'a message type other than ORU^R01 or MDM^T02 (ACK AR)',
  AIB_REPORT_TOO_LARGE: 'a message longer than Reports.MaxMessageBytes; it was read to its end and dropped (ACK AR)',
  AIB_REPORT_NO_STUDY_KEY: 'the report names no Accession Number (OBR-18/OBR-3/ORC-3), Patient ID (PID-3) or Study Instance UID (ZDS-1) (ACK AE)',
  AIB_REPORT_PEER_REFUSED: 'a connection from an address not in Reports.AllowedPeers; closed before a byte was read',
  AIB_REPORT_TLS_REFUSED: 'a connection to a TLS listener whose TLS handshake failed (a plain connection, an untrusted or missing client certificate); closed, nothing read',
  AIB_REPORT_SEND_FAILED: 'the report system could not be reached, or did not answer the ORU^R01 in time (retried with the same message control ID)',
  AIB_REPORT_REJECTED: 'the report system answered the ORU^R01 with AE (retried) or AR (quarantined); its MSA-3 text is in the message',
  AIB_REPORT_NO_TEXT: 'a delivered SR has no AI preliminary report TEXT item (DCM 121111) or no Study Instance UID; nothing can be sent',
} as const;

export type ReportErrorCode = keyof typeof REPORT_ERROR_CODES;

export class ReportError extends AiBridgeError {
  constructor(code: ReportErrorCode, message: string, details: ErrorDetails = {}, transient = false) {
    super(code, message, details, transient);
  }
}
