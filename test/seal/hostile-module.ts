/**
 * Hostile code for the proof tests (sealed-processes.test.ts). The product's
 * own entry points load it after their seal (plugin/seal/after-seal-hook.ts,
 * enabled by AIBRIDGE_TEST_AFTER_SEAL in Orthanc's environment). It tries
 * every way out the threat model names and writes what the kernel answered
 * to hostile-<role>.json in the one folder its process may write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';

import type { AfterSealContext } from '../../plugin/seal/after-seal-hook';

/** What the test tells the hostile code (AIBRIDGE_TEST_AFTER_SEAL_ARGS). */
export interface HostileTargets {
  /** AiBridge DataDirectory: phi/vault.sqlite, phi/site.key, state.sqlite, deid/, models/ ... */
  readonly dataDirectory: string;
  /** Orthanc's configuration file (RegisteredUsers' passwords). */
  readonly orthancConfig: string;
  readonly orthancPort: number;
  /** A listening AF_UNIX socket (path) and an abstract one ('@name'). */
  readonly unixSocket: string;
  readonly abstractSocket: string;
  /** The central server's port: the uplink's control (allowed) connection. */
  readonly centralPort: number;
}

/** 'ok', or the errno name the kernel answered. */
export type Outcome = string;

export interface HostileReport {
  readonly role: string;
  readonly pid: number;
  readonly control: { readonly readOwnFolder: Outcome; readonly writeOwnFolder: Outcome; readonly centralConnect: Outcome | null };
  readonly attempts: Readonly<Record<string, Outcome>>;
}

interface Probe {
  ptraceAttach(pid: number): number;
  processVmRead(pid: number): number;
  socket(domain: number, type: number): number;
  recvmsgPeek(fd: number): number;
  sendmsgRights(fd: number): number;
  connectUnix(name: string): number;
  signal(pid: number): number;
  openRead(path: string): number;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

function errnoName(errno: number): Outcome {
  return errno === 0 ? 'ok' : ERRNO_NAMES.get(errno) ?? `errno ${String(errno)}`;
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') return (error as { code: string }).code;
  return error instanceof Error ? error.message : String(error);
}

async function attempt(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return codeOf(error);
  }
}

function tcpConnect(port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => { socket.destroy(); resolve(); });
    socket.on('error', reject);
    setTimeout(() => { socket.destroy(); reject(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })); }, 5000).unref();
  });
}

/**
 * The gateway's other children (de-id worker, annotator, uplink) have pids
 * near the gateway's: every pid in that range but this one is tried. 'EPERM'
 * when all were refused, else the pids and answers that were not.
 */
function ptraceNeighbours(probe: Probe): Outcome {
  const other: string[] = [];
  for (let pid = process.ppid + 1; pid <= process.ppid + 400; pid++) {
    if (pid === process.pid) continue;
    const answer = errnoName(probe.ptraceAttach(pid));
    if (answer !== 'EPERM') other.push(`${String(pid)}:${answer}`);
  }
  return other.length === 0 ? 'EPERM' : other.join(' ');
}

export async function afterSeal(context: AfterSealContext): Promise<void> {
  const targets = JSON.parse(context.args) as HostileTargets;
  // The probe addon sits in build/Release, readable like the product's own addon.
  const probe = createRequire(__filename)(join(__dirname, '..', '..', '..', 'build', 'Release', 'aibridge_hostile_probe.node')) as Probe;
  const data = targets.dataDirectory;
  const attempts: Record<string, Outcome> = {
    readVault: await attempt(() => readFileSync(join(data, 'phi', 'vault.sqlite'))),
    readVaultAsync: await attempt(() => readFile(join(data, 'phi', 'vault.sqlite'))),
    readSiteKey: await attempt(() => readFileSync(join(data, 'phi', 'site.key'))),
    readState: await attempt(() => readFileSync(join(data, 'state.sqlite'))),
    readOrthancConfig: await attempt(() => readFileSync(targets.orthancConfig)),
    openOrthancConfigRaw: errnoName(probe.openRead(targets.orthancConfig)),
    readPasswd: errnoName(probe.openRead('/etc/passwd')),
    readGatewayEnviron: errnoName(probe.openRead(`/proc/${String(process.ppid)}/environ`)),
    connectOrthancRest: await attempt(() => tcpConnect(targets.orthancPort)),
    connectUnixPath: errnoName(probe.connectUnix(targets.unixSocket)),
    connectAbstract: errnoName(probe.connectUnix(targets.abstractSocket)),
    nodeConnectUnixPath: await attempt(() => new Promise<void>((resolve, reject) => {
      const socket = net.connect(targets.unixSocket, () => { socket.destroy(); resolve(); });
      socket.on('error', reject);
    })),
    socketUdp: errnoName(probe.socket(2, 2)), // AF_INET, SOCK_DGRAM
    socketNetlink: errnoName(probe.socket(16, 3)), // AF_NETLINK, SOCK_RAW
    receiveDescriptor: errnoName(probe.recvmsgPeek(3)),
    sendDescriptor: errnoName(probe.sendmsgRights(3)),
    ptraceGateway: errnoName(probe.ptraceAttach(process.ppid)),
    ptraceSiblings: ptraceNeighbours(probe),
    readGatewayMemory: errnoName(probe.processVmRead(process.ppid)),
    signalGateway: errnoName(probe.signal(process.ppid)),
    writeDataRoot: await attempt(() => { writeFileSync(join(data, 'hostile.txt'), 'x'); }),
    writePhi: await attempt(() => { writeFileSync(join(data, 'phi', 'hostile.txt'), 'x'); }),
    writeTmp: await attempt(() => { writeFileSync(join('/tmp', `aib-hostile-${String(process.pid)}.txt`), 'x'); }),
  };
  // Each role also tries the folders of the others.
  if (context.role !== 'deid-worker') attempts['writeDeid'] = await attempt(() => { writeFileSync(join(data, 'deid', 'hostile.dcm'), 'x'); });
  if (context.role === 'uplink') {
    attempts['listDeid'] = errnoName(probe.openRead(join(data, 'deid')));
    attempts['readModels'] = errnoName(probe.openRead(join(data, 'models')));
  }
  if (context.role === 'deid-worker') {
    attempts['writeModels'] = await attempt(() => { writeFileSync(join(data, 'models', 'hostile.txt'), 'x'); });
    attempts['writeOutbox'] = await attempt(() => { writeFileSync(join(data, 'outbox', 'hostile.txt'), 'x'); });
  }
  const report: HostileReport = {
    role: context.role,
    pid: process.pid,
    control: {
      readOwnFolder: errnoName(probe.openRead(context.writable)),
      writeOwnFolder: await attempt(() => { writeFileSync(join(context.writable, 'hostile-control.txt'), 'x'); }),
      centralConnect: context.role === 'uplink' ? await attempt(() => tcpConnect(targets.centralPort)) : null,
    },
    attempts,
  };
  writeFileSync(join(context.writable, `hostile-${context.role}.json`), JSON.stringify(report));
}
