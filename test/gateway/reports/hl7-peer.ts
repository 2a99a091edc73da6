// A report system on loopback for the report link's tests, built on other HL7
// libraries than the bridge's (node-hl7-server to receive ORU^R01,
// node-hl7-client to send and to parse): a message the bridge builds or
// answers is read by an independent parser. Runs as its own process; prints
// one JSON line per event on stdout.
//
//   node hl7-peer.js receive PORT        (PEER_HOLD_FIRST=1: the first message is recorded but not ACKed)
//   node hl7-peer.js send PORT FILE      (FILE: JSON array of { text } sent with the client, or { raw } (base64) written framed as is
//                                         PEER_TLS_CA=FILE: both over TLS trusting FILE only; PEER_TLS_CERT/PEER_TLS_KEY: a client certificate)
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

import { Client, Message } from 'node-hl7-client';
import { Server, type InboundRequest, type SendResponse } from 'node-hl7-server';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function field(message: Message, path: string): string {
  return message.get(path).toString();
}

function receive(port: number): void {
  const holdFirst = process.env['PEER_HOLD_FIRST'] === '1';
  const seen = new Map<string, number>();
  const server = new Server({ bindAddress: '127.0.0.1' });
  const inbound = server.createInbound({ port }, (request, response) => { void answer(request, response); });
  async function answer(request: InboundRequest, response: SendResponse): Promise<void> {
    const message = request.getMessage();
    const controlId = field(message, 'MSH.10');
    const copies = (seen.get(controlId) ?? 0) + 1;
    seen.set(controlId, copies);
    const lines: string[] = [];
    message.get('OBX').forEach((obx) => { if (obx.get(2).toString() === 'TX') lines.push(obx.get(5).toString()); });
    emit({
      event: 'received', controlId, copies, type: field(message, 'MSH.9.1') + '^' + field(message, 'MSH.9.2'),
      patientId: field(message, 'PID.3.1'), accession: field(message, 'OBR.18'), placer: field(message, 'OBR.2'),
      status: field(message, 'OBR.25'), studyUid: field(message, 'ZDS.1.1'), text: lines.join('\n'),
    });
    if (holdFirst && seen.size === 1 && copies === 1) {
      emit({ event: 'held', controlId });
      return;
    }
    // A resend of a message already taken is acknowledged again, and counted once (copies > 1 says it was a resend).
    await response.sendResponse('AA');
  }
  inbound.on('listen', () => { emit({ event: 'listening', port }); });
}

/** TLS settings from the environment: PEER_TLS_CA (trust only it), PEER_TLS_CERT + PEER_TLS_KEY (a client certificate); undefined: plain. */
function tlsOptions(): ConnectionOptions | undefined {
  const ca = process.env['PEER_TLS_CA'];
  if (ca === undefined) return undefined;
  const cert = process.env['PEER_TLS_CERT'];
  const key = process.env['PEER_TLS_KEY'];
  return { ca: readFileSync(ca), rejectUnauthorized: true, ...(cert === undefined || key === undefined ? {} : { cert: readFileSync(cert), key: readFileSync(key) }) };
}

async function sendRaw(port: number, frame: Buffer, tls: ConnectionOptions | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls === undefined ? connect({ host: '127.0.0.1', port }) : tlsConnect({ ...tls, host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on(tls === undefined ? 'connect' : 'secureConnect', () => { socket.write(Buffer.concat([Buffer.from([0x0b]), frame, Buffer.from([0x1c, 0x0d])])); });
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      const all = Buffer.concat(chunks);
      if (all.length >= 2 && all[all.length - 2] === 0x1c && all[all.length - 1] === 0x0d) {
        socket.end();
        resolve(all.subarray(1, all.length - 2).toString('utf8'));
      }
    });
    socket.on('close', () => { if (chunks.length === 0) resolve(''); });
    // A listener that refuses the connection closes it while the message is being written: that is a refusal too.
    // Over TLS the listener's refusal of a client certificate arrives as a TLS alert.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || (tls !== undefined && (error.code ?? '').startsWith('ERR_SSL_'))) resolve('');
      else reject(error);
    });
  });
}

async function send(port: number, file: string): Promise<void> {
  const messages = JSON.parse(readFileSync(file, 'utf8')) as { text?: string; raw?: string }[];
  const tls = tlsOptions();
  const client = new Client({ host: '127.0.0.1', ...(tls === undefined ? {} : { tls }) });
  let answer: ((ack: string) => void) | undefined;
  const connection = client.createConnection({ port, waitAck: true }, (response) => {
    answer?.(response.getMessage().toString());
  });
  for (const [index, item] of messages.entries()) {
    let ack: string;
    if (item.text !== undefined) {
      const acked = new Promise<string>((resolve) => { answer = resolve; });
      await connection.sendMessage(new Message({ text: item.text }));
      ack = await acked;
    } else {
      ack = await sendRaw(port, Buffer.from(item.raw ?? '', 'base64'), tls);
    }
    if (ack === '') {
      emit({ event: 'closed', index });
      continue;
    }
    const parsed = new Message({ text: ack });
    emit({ event: 'ack', index, code: field(parsed, 'MSA.1'), controlId: field(parsed, 'MSA.2'), reason: field(parsed, 'MSA.3') });
  }
  await connection.close();
  client.closeAll();
}

const [mode, portText, file] = process.argv.slice(2);
const port = Number(portText);
if (mode === 'receive') receive(port);
else if (mode === 'send' && file !== undefined) void send(port, file).then(() => { process.exit(0); }, (error: unknown) => { emit({ event: 'error', message: String(error) }); process.exit(1); });
else {
  process.stderr.write('usage: hl7-peer receive PORT | send PORT FILE\n');
  process.exit(2);
}
