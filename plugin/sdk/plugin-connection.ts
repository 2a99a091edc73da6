import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';

import type { SdkArgValue, SdkCallReply, SdkCallTransport } from './call-transport';
import { encodeFrame, FrameDecoder, writeFrame, type Frame, type FrameHeader } from '../core/frame-codec';
import { ChangeType, ResourceType } from './generated/enums';
import { OrthancSdkError } from './orthanc-sdk-error';

/** One Orthanc change, as the plugin's OnChange callback saw it. */
export interface ChangeNotice {
  /** undefined for a value this SDK's header does not define (a newer Orthanc). */
  readonly changeType: ChangeType | undefined;
  readonly resourceType: ResourceType | undefined;
  readonly resourceId: string;
}

export interface HttpRequestFrame {
  readonly id: number;
  readonly method: string;
  /** Full URI as Orthanc received it, e.g. `/ai-bridge/jobs/3`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface HelloFrame {
  readonly pluginVersion: string;
  readonly orthancVersion: string;
  readonly sdkVersion: string;
  /** Unix seconds when Orthanc loaded the plugin. */
  readonly pluginLoadedAt: number;
}

interface PendingCall {
  readonly fn: string;
  readonly resolve: (reply: SdkCallReply) => void;
  readonly reject: (error: Error) => void;
}

type HttpHandler = (request: HttpRequestFrame) => Promise<HttpReply>;

/**
 * The gateway's end of the plugin socket (fd 3): SDK calls out, changes and
 * HTTP requests in. Many calls overlap; replies are matched by id.
 */
export class PluginConnection extends EventEmitter<{
  change: [ChangeNotice];
  hello: [HelloFrame];
  shutdown: [];
  closed: [Error | undefined];
}> implements SdkCallTransport {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #closed = false;
  #httpHandler: HttpHandler | undefined;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk); });
    socket.on('error', (error) => { this.#close(error); });
    socket.on('close', () => { this.#close(undefined); });
  }

  static fromFd(fd: number): PluginConnection {
    return new PluginConnection(new Socket({ fd, readable: true, writable: true }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  onHttp(handler: HttpHandler): void {
    this.#httpHandler = handler;
  }

  call(fn: string, args: Readonly<Record<string, SdkArgValue>>, body?: Buffer): Promise<SdkCallReply> {
    if (this.#closed) return Promise.reject(new OrthancSdkError(fn, -1, 'the plugin socket is closed'));
    const id = this.#nextId++;
    return new Promise<SdkCallReply>((resolve, reject) => {
      this.#pending.set(id, { fn, resolve, reject });
      this.send({ k: 'call', id, fn, args }, body);
    });
  }

  send(header: FrameHeader, body?: Buffer): void {
    if (this.#closed) return;
    writeFrame(this.#socket, encodeFrame(header, body));
  }

  /** Sends a last frame and waits until it has left the process. */
  async sendAndFlush(header: FrameHeader): Promise<void> {
    if (this.#closed) return;
    const parts = encodeFrame(header);
    await new Promise<void>((resolve) => { this.#socket.write(Buffer.concat(parts), () => { resolve(); }); });
  }

  close(): void {
    this.#socket.destroy();
    this.#close(undefined);
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#socket.destroy();
      this.#close(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const frame of frames) this.#dispatch(frame);
  }

  #dispatch({ header, body }: Frame): void {
    switch (header.k) {
      case 'result':
        this.#onResult(header, body);
        break;
      case 'change':
        this.emit('change', {
          changeType: enumMember(ChangeType, header['changeType']),
          resourceType: enumMember(ResourceType, header['resourceType']),
          resourceId: String(header['resourceId']),
        });
        break;
      case 'http':
        this.#onHttp(header, body);
        break;
      case 'ping':
        this.send({ k: 'pong', id: header['id'] ?? 0 });
        break;
      case 'hello':
        this.emit('hello', {
          pluginVersion: String(header['pluginVersion']),
          orthancVersion: String(header['orthancVersion']),
          sdkVersion: String(header['sdkVersion']),
          pluginLoadedAt: Number(header['pluginLoadedAt'] ?? 0),
        });
        break;
      case 'shutdown':
        this.emit('shutdown');
        break;
      default:
        // A newer plugin may send kinds this gateway does not know; ignoring
        // them keeps the two upgradable separately.
        break;
    }
  }

  #onResult(header: FrameHeader, body: Buffer): void {
    const id = Number(header['id']);
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (header['ok'] === true) {
      pending.resolve({ value: header['value'] ?? null, body: body.length > 0 || header['hasBody'] === true ? body : undefined });
    } else {
      const code = typeof header['code'] === 'number' ? header['code'] : -1;
      const reason = typeof header['error'] === 'string' ? header['error'] : 'unknown error';
      pending.reject(new OrthancSdkError(pending.fn, code, reason));
    }
  }

  #onHttp(header: FrameHeader, body: Buffer): void {
    const request: HttpRequestFrame = {
      id: Number(header['id']),
      method: String(header['method']),
      path: String(header['path']),
      query: stringRecord(header['query']),
      headers: stringRecord(header['headers']),
      body,
    };
    const handler = this.#httpHandler;
    const answer = handler === undefined
      ? Promise.resolve(jsonReply(503, { error: { code: 'AIB_GATEWAY_STARTING', message: 'the gateway is still starting', details: {} } }))
      : handler(request).catch((error: unknown) => jsonReply(500, {
        error: { code: 'AIB_API_INTERNAL', message: error instanceof Error ? error.message : String(error), details: {} },
      }));
    void answer.then((reply) => {
      this.send({ k: 'httpReply', id: request.id, status: reply.status, contentType: reply.contentType, headers: reply.headers ?? {} }, reply.body);
    });
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [, pending] of this.#pending) pending.reject(new OrthancSdkError(pending.fn, -1, 'the plugin socket closed'));
    this.#pending.clear();
    this.emit('closed', error);
  }
}

export function jsonReply(status: number, value: unknown): HttpReply {
  return { status, contentType: 'application/json', body: Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8') };
}

/** The member of a numeric enum whose value this is, via the enum's reverse mapping. */
function enumMember<E extends number>(enumeration: Readonly<Record<string, string | E>>, value: unknown): E | undefined {
  if (typeof value !== 'number') return undefined;
  const name = enumeration[value];
  if (typeof name !== 'string') return undefined;
  const member = enumeration[name];
  return typeof member === 'number' ? member : undefined;
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}
