import { CR, FS, VT } from '@medplum/hl7';

/** What the reader hands on: a whole message, or the head of one that was too long (its rest was read and dropped). */
export type MllpFrame =
  | { readonly kind: 'message'; readonly bytes: Buffer }
  | { readonly kind: 'oversize'; readonly head: Buffer; readonly length: number };

/** Bytes of an oversize message kept to answer it: enough for its MSH (the control ID the ACK names). */
const HEAD_BYTES = 4096;

/**
 * MLLP framing (HL7 v2 Appendix C: VT, message, FS CR) of a listening socket,
 * with a bound. @medplum/hl7's Hl7Connection buffers a message without limit
 * and keeps its buffer after a message it cannot parse (the next message is
 * then read together with it), so the listener reads frames here and parses
 * them with @medplum/core; the framing bytes are the library's constants and
 * the sending side is the library's Hl7Client. A message longer than
 * `maxBytes` is read to its end without being kept, and reported with its
 * first bytes, so it can be answered AR and the connection goes on.
 */
export class MllpFrameReader {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #inFrame = false;
  #head: Buffer[] = [];
  #headLength = 0;
  /** The last byte of the previous chunk was FS: a CR at the start of this one ends the frame. */
  #pendingFs = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds bytes as they arrive; returns the frames they complete. Bytes outside a frame (between VT…FS CR) are ignored. */
  push(chunk: Buffer): MllpFrame[] {
    const frames: MllpFrame[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (!this.#inFrame) {
        if (byte === VT) {
          this.#inFrame = true;
          start = i + 1;
        }
        continue;
      }
      if (this.#pendingFs) {
        this.#pendingFs = false;
        if (byte === CR) {
          frames.push(this.#finish());
          start = i + 1;
          continue;
        }
        // The FS was data after all.
        this.#append(Buffer.from([FS]));
      }
      if (byte === FS) {
        if (i + 1 < chunk.length && chunk[i + 1] === CR) {
          this.#append(chunk.subarray(start, i));
          frames.push(this.#finish());
          i++;
          start = i + 1;
        } else if (i + 1 === chunk.length) {
          this.#append(chunk.subarray(start, i));
          this.#pendingFs = true;
          start = i + 1;
        }
      }
    }
    if (this.#inFrame && start < chunk.length) this.#append(chunk.subarray(start));
    return frames;
  }

  #append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#headLength < HEAD_BYTES) {
      const part = bytes.subarray(0, HEAD_BYTES - this.#headLength);
      this.#head.push(part);
      this.#headLength += part.length;
    }
    this.#length += bytes.length;
    if (this.#length <= this.#maxBytes) this.#chunks.push(bytes);
    else this.#chunks = [];
  }

  #finish(): MllpFrame {
    const frame: MllpFrame = this.#length <= this.#maxBytes
      ? { kind: 'message', bytes: Buffer.concat(this.#chunks) }
      : { kind: 'oversize', head: Buffer.concat(this.#head), length: this.#length };
    this.#chunks = [];
    this.#head = [];
    this.#headLength = 0;
    this.#length = 0;
    this.#inFrame = false;
    return frame;
  }
}

/** One message in its MLLP envelope. */
export function mllpFrame(text: string): Buffer {
  return Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);
}
