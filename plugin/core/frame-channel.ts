import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

import { encodeFrame, FrameDecoder, writeFrame, type Frame, type FrameHeader } from './frame-codec';

/**
 * Request/reply over frames (docs/wire-protocol.md framing) between the
 * gateway and a worker process: a request carries `id`, its reply carries
 * `re` with the same number. Bodies stay binary.
 */
export class FrameChannel extends EventEmitter<{ request: [Frame]; closed: [Error | undefined] }> {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #waiting = new Map<number, { resolve: (frame: Frame) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #closed = false;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (error) {
        this.#close(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      for (const frame of frames) this.#dispatch(frame);
    });
    socket.on('error', (error) => { this.#close(error); });
    socket.on('close', () => { this.#close(undefined); });
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(header: FrameHeader, body?: Buffer): Promise<Frame> {
    if (this.#closed) return Promise.reject(new Error('channel closed'));
    const id = this.#nextId++;
    return new Promise<Frame>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.send({ ...header, id }, body);
    });
  }

  reply(to: Frame, header: FrameHeader, body?: Buffer): void {
    this.send({ ...header, re: to.header['id'] ?? null }, body);
  }

  send(header: FrameHeader, body?: Buffer): void {
    if (this.#closed) return;
    writeFrame(this.#socket, encodeFrame(header, body));
  }

  close(): void {
    this.#socket.destroy();
    this.#close(undefined);
  }

  #dispatch(frame: Frame): void {
    const re = frame.header['re'];
    if (typeof re === 'number') {
      const waiting = this.#waiting.get(re);
      if (waiting === undefined) return;
      this.#waiting.delete(re);
      waiting.resolve(frame);
      return;
    }
    this.emit('request', frame);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    for (const [, waiting] of this.#waiting) waiting.reject(error ?? new Error('channel closed'));
    this.#waiting.clear();
    this.emit('closed', error);
  }
}
