/**
 * Frames of the plugin socket (docs/wire-protocol.md): uint32 LE header
 * length, uint32 LE body length, a JSON header, raw body bytes.
 */
export const MAX_HEADER_BYTES = 1024 * 1024;
export const MAX_BODY_BYTES = 1024 * 1024 * 1024;

export interface FrameHeader {
  readonly k: string;
  readonly [field: string]: unknown;
}

export interface Frame {
  readonly header: FrameHeader;
  readonly body: Buffer;
}

export class FrameProtocolError extends Error {}

export function encodeFrame(header: FrameHeader, body: Buffer = Buffer.alloc(0)): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER_BYTES) throw new FrameProtocolError(`frame header of ${json.length} bytes exceeds the limit`);
  if (body.length > MAX_BODY_BYTES) throw new FrameProtocolError(`frame body of ${body.length} bytes exceeds the limit`);
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(json.length, 0);
  prefix.writeUInt32LE(body.length, 4);
  // Returned as parts so a large DICOM body is written without being copied.
  return [prefix, json, body];
}

/** Accumulates socket chunks and yields whole frames. */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffered < 8) break;
      const prefix = this.#peek(8);
      const headerLength = prefix.readUInt32LE(0);
      const bodyLength = prefix.readUInt32LE(4);
      if (headerLength > MAX_HEADER_BYTES || bodyLength > MAX_BODY_BYTES) {
        throw new FrameProtocolError(`frame announces header ${headerLength} / body ${bodyLength} bytes, over the limit`);
      }
      const total = 8 + headerLength + bodyLength;
      if (this.#buffered < total) break;
      const whole = this.#take(total);
      frames.push({ header: parseHeader(whole.subarray(8, 8 + headerLength)), body: whole.subarray(8 + headerLength) });
    }
    return frames;
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.#chunks).subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0] ?? Buffer.alloc(0) : Buffer.concat(this.#chunks);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return taken;
  }
}

function parseHeader(bytes: Buffer): FrameHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FrameProtocolError('frame header is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FrameProtocolError('frame header is not a JSON object');
  }
  const kind: unknown = (parsed as Record<string, unknown>)['k'];
  if (typeof kind !== 'string') throw new FrameProtocolError('frame header has no string "k"');
  return parsed as FrameHeader;
}
