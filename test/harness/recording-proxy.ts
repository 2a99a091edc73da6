import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One exchange through the proxy: every byte the client sent (request line, headers, body). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly raw: Buffer;
  readonly status: number;
}

/** Rewrites a response body before the client sees it (tests use it to tamper with a package in transit). */
export type ResponseRewrite = (method: string, path: string, body: Buffer) => Buffer | undefined;

/**
 * A loopback reverse proxy in front of the central server that keeps a copy
 * of everything the sites send through it: the egress proof searches these
 * bytes for identifiers. Sites are configured with the proxy's URL, so the
 * capture is every byte they send to the central server.
 */
export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  rewrite: ResponseRewrite | undefined;
  readonly #server: Server;
  #target = '';

  constructor() {
    this.#server = createServer((incoming, outgoing) => { void this.#forward(incoming, outgoing); });
  }

  async start(target: string): Promise<string> {
    this.#target = target.replace(/\/$/, '');
    await new Promise<void>((resolve) => { this.#server.listen(0, '127.0.0.1', resolve); });
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  /** Everything sent to the central server, concatenated. */
  capture(): Buffer {
    return Buffer.concat(this.requests.map((r) => r.raw));
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => { this.#server.close(() => { resolve(); }); });
  }

  async #forward(incoming: IncomingMessage, outgoing: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const head = `${incoming.method ?? ''} ${incoming.url ?? ''} HTTP/${incoming.httpVersion}\r\n` +
      `${incoming.rawHeaders.map((v, i) => (i % 2 === 0 ? `${v}: ` : `${v}\r\n`)).join('')}\r\n`;
    const url = new URL(`${this.#target}${incoming.url ?? '/'}`);
    const headers = { ...incoming.headers, host: url.host };
    const upstream = httpRequest(url, { method: incoming.method ?? 'GET', headers }, (response) => {
      const responseChunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => { responseChunks.push(chunk); });
      response.on('end', () => {
        let responseBody: Buffer = Buffer.concat(responseChunks);
        const rewritten = this.rewrite?.(incoming.method ?? 'GET', incoming.url ?? '/', responseBody);
        if (rewritten !== undefined) responseBody = rewritten;
        this.requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', raw: Buffer.concat([Buffer.from(head, 'latin1'), body]), status: response.statusCode ?? 0 });
        const responseHeaders = { ...response.headers, 'content-length': String(responseBody.length) };
        delete responseHeaders['transfer-encoding'];
        outgoing.writeHead(response.statusCode ?? 502, responseHeaders);
        outgoing.end(responseBody);
      });
    });
    upstream.on('error', (error) => {
      this.requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', raw: Buffer.concat([Buffer.from(head, 'latin1'), body]), status: 502 });
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(error.message);
    });
    upstream.end(body);
  }
}
