/**
 * The de-identification worker's kernel seal, proved on a real process: a fresh
 * `node` child (sealed-child.ts) reaches this test's TCP and UDP servers
 * before sealing, seals itself, then tries TCP, UDP, DNS, fetch, a child
 * process, file writes and an AF_UNIX socket. The servers record what reached
 * them, so a leak shows up here even if the child misreports.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sealStatus } from '../../plugin/seal/seal-process.js';
import type { Attempt, ChildConfig, ChildResult, OpenSocketResult } from './sealed-child.js';

const CHILD = join(__dirname, 'sealed-child.js');

interface Servers {
  tcpPort: number;
  udpPort: number;
  /** one entry per accepted TCP connection: everything it sent */
  connections: string[];
  /** every UDP datagram received, as latin1 text */
  datagrams: string[];
  close(): Promise<void>;
}

async function startServers(): Promise<Servers> {
  const connections: string[] = [];
  const datagrams: string[] = [];
  const tcp = net.createServer((socket) => {
    const index = connections.push('') - 1;
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
      connections[index] = received;
    });
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (message) => datagrams.push(message.toString('latin1')));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const tcpAddress = tcp.address();
  assert.ok(tcpAddress !== null && typeof tcpAddress === 'object');
  return {
    tcpPort: tcpAddress.port,
    udpPort: udp.address().port,
    connections,
    datagrams,
    close: async () => {
      await new Promise<void>((resolve) => {
        tcp.close(() => {
          resolve();
        });
      });
      await new Promise<void>((resolve) => {
        udp.close(resolve);
      });
    },
  };
}

function runChild(config: ChildConfig): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status === 0) resolve(stdout);
      else reject(new Error(`sealed-child exited with ${String(status ?? signal)}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

function assertDenied(attempt: Attempt, what: string, codes: string[]): void {
  assert.equal(attempt.ok, false, `${what} succeeded under the seal: ${attempt.detail}`);
  assert.ok(codes.includes(attempt.code), `${what} failed with ${attempt.code} (${attempt.detail}), expected one of ${codes.join(', ')}`);
}

describe('deid seal (seccomp + Landlock, in a child process)', function () {
  this.timeout(60000);

  let servers: Servers;
  let writableDir: string;
  let outsideDir: string;
  let result: ChildResult;
  /** copies of what the servers had received when the child finished */
  let connections: string[];
  let datagrams: string[];

  before(async () => {
    servers = await startServers();
    writableDir = mkdtempSync(join(tmpdir(), 'aib-seal-rw-'));
    outsideDir = mkdtempSync(join(tmpdir(), 'aib-seal-out-'));
    const stdout = await runChild({ mode: 'full', tcpPort: servers.tcpPort, udpPort: servers.udpPort, writableDir, outsideDir });
    result = JSON.parse(stdout) as ChildResult;
    // Let anything in flight land before taking the servers' view.
    await new Promise((resolve) => setTimeout(resolve, 300));
    connections = [...servers.connections];
    datagrams = [...servers.datagrams];
  });

  after(async () => {
    await servers.close();
    rmSync(writableDir, { recursive: true, force: true });
    rmSync(outsideDir, { recursive: true, force: true });
  });

  it('reports nothing sealed before seal(), also in this (unsealed) test process', () => {
    const unsealed = {
      noNewPrivs: false, seccomp: false, landlock: 'unsupported', landlockAbi: 0, fsRestricted: false, network: 'none', scoped: [],
      threadsOutsideLandlock: 0, missing: [],
    };
    assert.deepEqual(sealStatus(), unsealed);
    assert.deepEqual(result.statusBefore, unsealed);
  });

  it('rejects bad options with AIB_SEAL_FAILED before touching the process', () => {
    for (const bad of result.badOptions) assertDenied(bad, 'seal with bad options', ['AIB_SEAL_FAILED']);
    assert.match(result.badOptions[0]?.detail ?? '', /absolute path/);
    assert.match(result.badOptions[1]?.detail ?? '', /missing: No such file or directory/);
    assert.equal(result.statusAfterBadOptions.seccomp, false);
  });

  it('control: before the seal TCP, UDP and a DNS query reach the test servers', () => {
    assert.equal(result.control.tcp.ok, true, result.control.tcp.detail);
    assert.equal(result.control.udp.ok, true, result.control.udp.detail);
    assert.equal(result.control.dns.ok, false, 'the test DNS server never answers');
    assert.ok(datagrams.some((d) => d.includes('\x07control\x03aib\x04test')), 'the control DNS query did not arrive');
  });

  it('seals: seccomp on every thread, Landlock as the kernel allows, idempotent', () => {
    const { report } = result;
    assert.equal(report.seccomp, true);
    assert.ok(['enforced', 'partial', 'unsupported'].includes(report.landlock));
    assert.equal(report.landlock === 'unsupported', report.landlockAbi === 0);
    if (report.landlockAbi >= 8) assert.equal(report.landlock, 'enforced');
    else if (report.landlockAbi > 0) assert.equal(report.landlock, 'partial');
    assert.deepEqual(result.secondReport, report);
    assert.deepEqual(result.statusAfter, report);
    assert.ok(result.threads.total > 1, 'node runs more than one thread');
    assert.equal(result.threads.filtered, result.threads.total, 'TSYNC: every thread carries the filter');
    console.log(`      kernel: Landlock ABI ${report.landlockAbi}, landlock '${report.landlock}', ${result.threads.total} threads filtered`);
  });

  it('refuses TCP over IPv4 and IPv6 with EACCES', () => {
    assertDenied(result.tcp, 'net.connect 127.0.0.1', ['EACCES']);
    assertDenied(result.tcp6, 'net.connect ::1', ['EACCES']);
  });

  it('refuses UDP', () => {
    assertDenied(result.udp, 'dgram send', ['EACCES']);
  });

  it('DNS cannot leave the process: resolve fails without sending a query', () => {
    // c-ares reports the refused socket as a connection failure.
    assertDenied(result.dnsResolve, 'dns resolve4', ['ECONNREFUSED', 'EACCES', 'ESERVFAIL', 'ETIMEOUT']);
    // getaddrinfo answers 'localhost' from /etc/hosts, without a socket; any
    // network lookup it tried was refused like the rest (see the server checks).
    console.log(`      dns.lookup('localhost') under the seal: ${result.dnsLookup.ok ? result.dnsLookup.detail : result.dnsLookup.code}`);
  });

  it('refuses fetch', () => {
    assertDenied(result.fetch, 'fetch', ['EACCES']);
  });

  it('nothing can be executed after the seal (execve refused)', () => {
    assertDenied(result.grandchild, 'spawning node after the seal', ['EACCES']);
  });

  it('the test servers received only the control phase', () => {
    assert.deepEqual(connections, ['control'], 'TCP connections seen by the test server');
    assert.ok(datagrams.length >= 2, 'control datagram and control DNS query');
    for (const datagram of datagrams) assert.ok(datagram.includes('control'), `a datagram from after the seal arrived: ${JSON.stringify(datagram)}`);
  });

  it('writes beneath writablePaths work; elsewhere they fail where Landlock runs', () => {
    assert.equal(result.writeInside.ok, true, result.writeInside.detail);
    assert.equal(readFileSync(join(writableDir, 'inside.txt'), 'utf8'), 'sealed');
    if (result.report.landlock === 'unsupported') {
      console.log('      note: this kernel has no Landlock; the write-outside assertions are not checked here');
      return;
    }
    assertDenied(result.writeOutside, 'write outside writablePaths (main thread)', ['EACCES']);
    assert.equal(existsSync(join(outsideDir, 'outside.txt')), false);
    // The thread pool started after the seal, from the main thread: it inherited the domain.
    assertDenied(result.writeOutsideAsync, 'write outside writablePaths (libuv thread pool)', ['EACCES']);
    assert.equal(existsSync(join(outsideDir, 'outside-async.txt')), false);
  });

  it('reads only beneath readablePaths and writablePaths, on the main thread and in the thread pool', () => {
    assert.equal(result.readInside.ok, true, result.readInside.detail);
    assertDenied(result.readOutside, 'read outside the readable paths (main thread)', ['EACCES']);
    assertDenied(result.readOutsideAsync, 'read outside the readable paths (libuv thread pool)', ['EACCES']);
  });

  it('no AF_UNIX socket either (the channel to the gateway is inherited, nothing needs a new one)', () => {
    assertDenied(result.unixSocket, 'an AF_UNIX server and client', ['EACCES']);
  });

  it('refuses to seal while an AF_INET socket is open (it would bypass the filter)', async () => {
    const stdout = await runChild({ mode: 'open-socket', tcpPort: servers.tcpPort, udpPort: servers.udpPort, writableDir, outsideDir });
    const open = JSON.parse(stdout) as OpenSocketResult;
    assertDenied(open.seal, 'seal with an open TCP connection', ['AIB_SEAL_FAILED']);
    assert.match(open.seal.detail, /socket of domain 2, not AF_UNIX/);
    // The filter was already on when the check ran: the process stays closed to new sockets.
    assert.equal(open.status.seccomp, true);
  });

  it('below Landlock ABI 8, refuses to seal once libuv\'s thread pool runs (those threads would escape Landlock)', async function () {
    if (result.report.landlockAbi >= 8 || result.report.landlockAbi === 0) this.skip();
    const stdout = await runChild({ mode: 'late-thread', tcpPort: servers.tcpPort, udpPort: servers.udpPort, writableDir, outsideDir });
    const late = JSON.parse(stdout) as OpenSocketResult;
    assertDenied(late.seal, 'seal after fs.promises started the pool', ['AIB_SEAL_FAILED']);
    assert.match(late.seal.detail, /thread\(s\) started after the addon loaded and before the seal/);
    // Refused before anything was installed.
    assert.equal(late.status.seccomp, false);
  });
});
