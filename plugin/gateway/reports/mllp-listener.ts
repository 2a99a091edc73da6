import { readFileSync } from 'node:fs';
import { createServer as createPlainServer, isIPv4, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import { mllpFrame, MllpFrameReader } from './mllp-frame-reader';
import type { ReportIntake } from './report-intake';

export interface MllpListenerSettings {
  readonly host: string;
  readonly port: number;
  /** Addresses a report system may connect from (IPv4 or IPv6, as written); anything else is closed unread. */
  readonly allowedPeers: readonly string[];
  readonly tls?: { readonly certificateFile: string; readonly keyFile: string; readonly caFile?: string };
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export function peerAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  const mapped = /^::ffff:(.+)$/i.exec(address)?.[1];
  return mapped !== undefined && isIPv4(mapped) ? mapped : address;
}

/**
 * The MLLP listener of the report link (PHI zone, gateway process). A
 * connection from a peer not in AllowedPeers is closed before a byte is
 * read; each message is answered on its connection in order, with the ACK
 * the intake decided (AA only once the report is stored). TLS when
 * certificate and key are configured (mutual when a CA file is given).
 */
export class MllpListener {
  readonly #settings: MllpListenerSettings;
  readonly #intake: ReportIntake;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  constructor(settings: MllpListenerSettings, intake: ReportIntake) {
    this.#settings = settings;
    this.#intake = intake;
  }

  async start(): Promise<number> {
    const tls = this.#settings.tls;
    const server = tls === undefined
      ? createPlainServer((socket) => { this.#connected(socket); })
      : createTlsServer({
        cert: readFileSync(tls.certificateFile), key: readFileSync(tls.keyFile),
        ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile), requestCert: true, rejectUnauthorized: true }),
      }, (socket) => { this.#connected(socket); });
    // A failed handshake (a plain MLLP frame, no or an untrusted client certificate): Node closes the socket; it is listed with the reason.
    server.on('tlsClientError', (error: Error, socket: Socket) => {
      const peer = peerAddress(socket);
      this.#intake.recordError(peer, 'mllp', 'AIB_REPORT_TLS_REFUSED', `TLS handshake from ${peer} failed: ${error.message}`);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#settings.port, this.#settings.host, () => { server.off('error', reject); resolve(); });
    });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : this.#settings.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  }

  #connected(socket: Socket): void {
    const peer = peerAddress(socket);
    if (!this.#settings.allowedPeers.includes(peer)) {
      this.#intake.recordError(peer, 'mllp', 'AIB_REPORT_PEER_REFUSED', `connection from ${peer}, which is not in Reports.AllowedPeers`);
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    const reader = new MllpFrameReader(this.#intake.maxBytes);
    // Answers go out in the order the messages came, even though storing is asynchronous.
    let answered = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        answered = answered.then(async () => {
          const answer = frame.kind === 'oversize'
            ? this.#intake.oversize(frame.head, frame.length, peer, 'mllp')
            : await this.#intake.accept(frame.bytes, peer, 'mllp');
          if (!socket.destroyed) socket.write(mllpFrame(answer.ack));
        }).catch(() => {
          // Storing failed (the database): no ACK, so the peer resends; the connection is dropped so it knows.
          socket.destroy();
        });
      }
    });
    socket.on('error', () => { socket.destroy(); });
    socket.on('close', () => { this.#sockets.delete(socket); });
  }
}
