/**
 * Fixture for seal.test.ts, run as a fresh `node` process:
 *   node dist/test/deid/sealed-child.js '<ChildConfig JSON>'
 * Does a control round (network works), seals itself, tries every way out it
 * knows and prints one JSON line (ChildResult) on stdout.
 *
 * Every payload it sends carries the word of its phase ("control" before the
 * seal, "sealed" / "grandchild" after), so the test's servers can tell which
 * phase reached them.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

import { runtimeReadablePaths } from '../../plugin/seal/runtime-paths.js';
import { loadSealAddon, sealProcess, sealStatus, type SealReport } from '../../plugin/seal/seal-process.js';

export interface ChildConfig {
  mode: 'full' | 'open-socket' | 'late-thread';
  tcpPort: number;
  udpPort: number;
  writableDir: string;
  outsideDir: string;
}

/** ok: the operation succeeded; otherwise the error code (or message) it failed with. */
export interface Attempt {
  ok: boolean;
  code: string;
  detail: string;
}

export interface ChildResult {
  statusBefore: SealReport;
  badOptions: Attempt[];
  statusAfterBadOptions: SealReport;
  control: { tcp: Attempt; udp: Attempt; dns: Attempt };
  report: SealReport;
  secondReport: SealReport;
  statusAfter: SealReport;
  threads: { total: number; filtered: number };
  tcp: Attempt;
  tcp6: Attempt;
  udp: Attempt;
  dnsLookup: Attempt;
  dnsResolve: Attempt;
  fetch: Attempt;
  grandchild: Attempt;
  writeInside: Attempt;
  writeOutside: Attempt;
  writeOutsideAsync: Attempt;
  readInside: Attempt;
  readOutside: Attempt;
  readOutsideAsync: Attempt;
  unixSocket: Attempt;
}

export interface OpenSocketResult {
  seal: Attempt;
  status: SealReport;
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, cause } = error as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    // fetch wraps the socket error: TypeError('fetch failed', { cause })
    if (cause !== undefined) return codeOf(cause);
  }
  return error instanceof Error ? error.message : String(error);
}

async function attempt(run: () => Promise<string> | string): Promise<Attempt> {
  try {
    return { ok: true, code: '', detail: await run() };
  } catch (error: unknown) {
    return { ok: false, code: codeOf(error), detail: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`${what}: no answer in ${ms} ms`), { code: 'TIMEOUT' }));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Connects, writes `payload`, waits until the socket is closed (fd released). */
function tcpSend(options: net.NetConnectOpts, payload: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(options, () => {
        socket.end(payload);
      });
      socket.on('error', reject);
      socket.on('close', (hadError) => {
        if (!hadError) resolve('sent');
      });
      socket.resume();
    }),
    5000,
    'tcp',
  );
}

function udpSend(port: number, payload: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.on('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.send(payload, port, '127.0.0.1', (error) => {
        if (error) {
          socket.close();
          reject(error);
          return;
        }
        socket.close(() => {
          resolve('sent');
        });
      });
    }),
    5000,
    'udp',
  );
}

/** A DNS query for <label>.aib.test to the test's UDP server, which never answers. */
async function dnsQuery(port: number, label: string): Promise<string> {
  const resolver = new dnsPromises.Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    return (await resolver.resolve4(`${label}.aib.test`)).join(',');
  } finally {
    resolver.cancel();
  }
}

function unixRoundTrip(path: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const server = net.createServer((connection) => {
        connection.once('data', (data) => {
          connection.end(`pong:${data.toString()}`);
        });
      });
      server.on('error', reject);
      server.listen(path, () => {
        const client = net.connect(path);
        let answer = '';
        client.on('data', (data) => (answer += data.toString()));
        client.on('error', reject);
        client.on('end', () => {
          server.close();
          resolve(answer);
        });
        client.write('ping');
      });
    }),
    5000,
    'unix socket',
  );
}

function grandchild(port: number): Promise<string> {
  const script =
    `const s=require('node:net').connect(${port},'127.0.0.1',()=>s.end('grandchild'));` +
    `s.on('error',e=>{process.stdout.write(e.code);process.exitCode=3});s.on('close',h=>{if(!h)process.stdout.write('connected')})`;
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      // stdio 'ignore': pipes would be socketpairs, refused under the seal; the execve is what is tried here.
      const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (status) => {
        if (status === 0) resolve('connected');
        else reject(Object.assign(new Error(`grandchild exited with ${String(status)}`), { code: 'NO_OUTPUT' }));
      });
    }),
    10000,
    'grandchild',
  );
}

function threadCounts(): { total: number; filtered: number } {
  const tasks = readdirSync('/proc/self/task');
  const filtered = tasks.filter((tid) => /^Seccomp:\s*2$/m.test(readFileSync(`/proc/self/task/${tid}/status`, 'utf8')));
  return { total: tasks.length, filtered: filtered.length };
}

async function full(config: ChildConfig): Promise<ChildResult> {
  const statusBefore = sealStatus();
  const badOptions = [
    await attempt(() => JSON.stringify(sealProcess({ writablePaths: ['relative/dir'], readablePaths: [] }))),
    await attempt(() => JSON.stringify(sealProcess({ writablePaths: [join(config.writableDir, 'missing')], readablePaths: [] }))),
  ];
  const statusAfterBadOptions = sealStatus();

  const control = {
    tcp: await attempt(() => tcpSend({ port: config.tcpPort, host: '127.0.0.1' }, 'control')),
    udp: await attempt(() => udpSend(config.udpPort, 'control')),
    dns: await attempt(() => dnsQuery(config.udpPort, 'control')),
  };

  writeFileSync(join(config.outsideDir, 'secret.txt'), 'outside');
  writeFileSync(join(config.writableDir, 'mine.txt'), 'inside');
  // /proc/self: only so this fixture can count its threads' filters; the product grants no /proc/<pid>.
  const report = sealProcess({ writablePaths: [config.writableDir], readablePaths: [...runtimeReadablePaths(), '/proc/self'] });
  const secondReport = sealProcess({ writablePaths: ['/'], readablePaths: [] });

  return {
    statusBefore,
    badOptions,
    statusAfterBadOptions,
    control,
    report,
    secondReport,
    statusAfter: sealStatus(),
    threads: threadCounts(),
    tcp: await attempt(() => tcpSend({ port: config.tcpPort, host: '127.0.0.1' }, 'sealed')),
    tcp6: await attempt(() => tcpSend({ port: config.tcpPort, host: '::1' }, 'sealed')),
    udp: await attempt(() => udpSend(config.udpPort, 'sealed')),
    dnsLookup: await attempt(async () => JSON.stringify(await dnsPromises.lookup('localhost', { all: true }))),
    dnsResolve: await attempt(() => dnsQuery(config.udpPort, 'sealed')),
    fetch: await attempt(async () => (await withTimeout(fetch(`http://127.0.0.1:${config.tcpPort}/sealed`), 5000, 'fetch')).statusText),
    grandchild: await attempt(() => grandchild(config.tcpPort)),
    writeInside: await attempt(() => {
      writeFileSync(join(config.writableDir, 'inside.txt'), 'sealed');
      return 'written';
    }),
    writeOutside: await attempt(() => {
      writeFileSync(join(config.outsideDir, 'outside.txt'), 'sealed');
      return 'written';
    }),
    writeOutsideAsync: await attempt(async () => {
      // fs.promises runs on libuv's thread pool, not the main thread.
      await writeFile(join(config.outsideDir, 'outside-async.txt'), 'sealed');
      return 'written';
    }),
    readInside: await attempt(() => readFileSync(join(config.writableDir, 'mine.txt'), 'utf8')),
    readOutside: await attempt(() => readFileSync(join(config.outsideDir, 'secret.txt'), 'utf8')),
    readOutsideAsync: await attempt(async () => (await readFile(join(config.outsideDir, 'secret.txt'))).toString()),
    unixSocket: await attempt(() => unixRoundTrip(join(config.writableDir, 'worker.sock'))),
  };
}

/** Seal must refuse while an AF_INET connection is open (it would bypass the filter). */
async function openSocket(config: ChildConfig): Promise<OpenSocketResult> {
  const socket = net.connect(config.tcpPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write('control');
  const seal = await attempt(() => JSON.stringify(sealProcess({ writablePaths: [config.writableDir], readablePaths: [] })));
  const status = sealStatus();
  socket.destroy();
  return { seal, status };
}

// First, as every sealed entry point does: the addon notes Node's start-up threads.
loadSealAddon();

/** Below Landlock ABI 8 the seal must refuse once libuv's pool runs (its threads would stay outside Landlock). */
async function lateThread(config: ChildConfig): Promise<OpenSocketResult> {
  await readFile(__filename);
  const seal = await attempt(() => JSON.stringify(sealProcess({ writablePaths: [config.writableDir], readablePaths: [] })));
  return { seal, status: sealStatus() };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  const result = config.mode === 'open-socket' ? await openSocket(config) : config.mode === 'late-thread' ? await lateThread(config) : await full(config);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sealed-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
