import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The compiled peer (hl7-peer.ts), run as its own process. */
export const PEER_SCRIPT = join(__dirname, 'hl7-peer.js');

export type PeerEvent = Readonly<Record<string, unknown>> & { readonly event: string };

/** Sends `messages` (each { text } or { raw } base64) from the peer process (`env`: e.g. PEER_TLS_CA); its events once it exits. */
export async function peerSend(port: number, messages: readonly ({ text: string } | { raw: string })[], workDir: string, env: Readonly<Record<string, string>> = {}): Promise<PeerEvent[]> {
  const file = join(workDir, `messages-${String(Date.now())}.json`);
  writeFileSync(file, JSON.stringify(messages));
  const child = spawn(process.execPath, [PEER_SCRIPT, 'send', String(port), file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`peer send exited ${String(code)}: ${err}${out}`);
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as PeerEvent);
}

/** The peer as a report system: receives ORU^R01 on `port`; `events` grows as messages arrive. */
export class PeerReceiver {
  readonly events: PeerEvent[] = [];
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.events.push(JSON.parse(line) as PeerEvent);
    });
  }

  static async start(port: number, holdFirst = false): Promise<PeerReceiver> {
    const child = spawn(process.execPath, [PEER_SCRIPT, 'receive', String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PEER_HOLD_FIRST: holdFirst ? '1' : '0' },
    });
    const peer = new PeerReceiver(child);
    for (let i = 0; i < 300 && !peer.events.some((e) => e.event === 'listening'); i++) await new Promise((r) => setTimeout(r, 50));
    if (!peer.events.some((e) => e.event === 'listening')) throw new Error('the peer did not start listening');
    return peer;
  }

  received(): PeerEvent[] {
    return this.events.filter((e) => e.event === 'received');
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }
}

/** The peer library takes a fixed port: one free on loopback now, never handed out twice in this process. */
export { freePort } from '../../../plugin/cli/orthanc-launcher';

/** An ORU^R01 as a RIS sends it (segments joined with CR). */
export function oruR01(options: { controlId: string; patientId: string; patientName: string; accession: string; studyUid?: string; referring?: string; status?: string; body: readonly string[] }): string {
  return [
    `MSH|^~\\&|RIS|HOSP|AIBRIDGE|SITE|20240105120000||ORU^R01|${options.controlId}|P|2.5`,
    `PID|1||${options.patientId}^^^HOSP^MR||${options.patientName}||19600101|M`,
    `PV1|1|O|||||${options.referring ?? ''}`,
    `OBR|1|${options.accession}|${options.accession}|CTCHEST^CT chest|||20240105110000|||||||||${options.referring ?? ''}||${options.accession}|||||||${options.status ?? 'F'}`,
    ...(options.studyUid === undefined ? [] : [`ZDS|${options.studyUid}^^Application^DICOM`]),
    ...options.body.map((line, i) => `OBX|${String(i + 1)}|TX|REPORT^Report^L||${line}||||||F`),
  ].join('\r');
}
