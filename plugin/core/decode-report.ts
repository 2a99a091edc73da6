/** A report's bytes as text: UTF-8 when they are valid UTF-8, else Latin-1 (HL7 feeds often are; MSH-18 is rarely filled in). */
export function decodeReport(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}
