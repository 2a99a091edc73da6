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

/**
 * A body up to this size is copied behind the header, so the frame leaves in
 * one write: each write to the plugin socket is a system call that wakes
 * Orthanc's reader thread, and most frames (SDK calls, replies) have a small
 * body or none.
 */
export const INLINE_BODY_BYTES = 16 * 1024;

/**
 * The frame as one buffer, or two (header part, body) when the body is larger
 * than INLINE_BODY_BYTES: a large DICOM body is written without being copied.
 */
export function encodeFrame(header: FrameHeader, body: Buffer = Buffer.alloc(0)): Buffer[] {
  const json = JSON.stringify(header);
  const jsonLength = Buffer.byteLength(json, 'utf8');
  if (jsonLength > MAX_HEADER_BYTES) throw new FrameProtocolError(`frame header of ${jsonLength} bytes exceeds the limit`);
  if (body.length > MAX_BODY_BYTES) throw new FrameProtocolError(`frame body of ${body.length} bytes exceeds the limit`);
  const inline = body.length <= INLINE_BODY_BYTES;
  const head = Buffer.allocUnsafe(8 + jsonLength + (inline ? body.length : 0));
  head.writeUInt32LE(jsonLength, 0);
  head.writeUInt32LE(body.length, 4);
  head.write(json, 8, 'utf8');
  if (!inline) return [head, body];
  body.copy(head, 8 + jsonLength);
  return [head];
}

/** Writes an encoded frame's parts with one system call (writev when there are two). */
export function writeFrame(stream: FrameSink, parts: readonly Buffer[]): void {
  if (parts.length === 1 && parts[0] !== undefined) {
    stream.write(parts[0]);
    return;
  }
  stream.cork();
  for (const part of parts) stream.write(part);
  stream.uncork();
}

/** What writeFrame writes to: a socket (node:net), without core importing it. */
export interface FrameSink {
  write(chunk: Buffer): unknown;
  cork(): void;
  uncork(): void;
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
