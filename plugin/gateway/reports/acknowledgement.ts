import { Hl7Field, Hl7Message, Hl7Segment } from '@medplum/core';

/** HL7 v2 escape sequences (v2.5 section 2.7): a reason put in MSA-3 cannot break the ACK's structure. */
export function escapeHl7(text: string): string {
  return text.replace(/\\/g, '\\E\\').replace(/\|/g, '\\F\\').replace(/\^/g, '\\S\\').replace(/&/g, '\\T\\').replace(/~/g, '\\R\\').replace(/[\r\n]+/g, ' ');
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * The ACK for a message: original mode (MSA-1 AA, AE or AR), MSA-3 the
 * reason of a refusal. Built by @medplum/core from the message when it could
 * be parsed (sender and receiver swapped, MSA-2 its control ID); otherwise a
 * minimal ACK from the bridge whose MSA-2 is empty, since no control ID could
 * be read.
 */
export function acknowledgement(message: Hl7Message | undefined, ackCode: 'AA' | 'AE' | 'AR', reason: string, now = new Date()): string {
  if (message !== undefined) {
    const ack = message.buildAck({ ackCode });
    const msa = ack.getSegment('MSA');
    msa?.setField(3, Hl7Field.parse(escapeHl7(reason.slice(0, 80))));
    if (ackCode !== 'AA') ack.segments.push(new Hl7Segment(['ERR', '', '', '', ackCode === 'AR' ? 'E' : 'W', '', '', '', escapeHl7(reason)]));
    return ack.toString();
  }
  return [
    `MSH|^~\\&|AIBRIDGE|AIBRIDGE|||${timestamp(now)}||ACK|AIB${String(now.getTime())}|P|2.5`,
    `MSA|${ackCode}||${escapeHl7(reason.slice(0, 80))}`,
    `ERR||||E||||${escapeHl7(reason)}`,
  ].join('\r');
}
