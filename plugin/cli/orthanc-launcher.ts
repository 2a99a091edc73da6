import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CliError } from './errors.js';
import { orthancRequest, type HttpMethod, type OrthancResponse } from './orthanc-http.js';
import { buildOrthancConfig, isJsonObject, ORTHANC_BINARY, readUserConfig } from './orthanc-config.js';
import { repoRoot } from './repo-root.js';

export interface OrthancLaunchOptions {
  /** Orthanc storage and index go to dataDir/orthanc; AiBridge.DataDirectory defaults to dataDir/ai-bridge. */
  readonly dataDir: string;
  /** Default: a free port on 127.0.0.1. */
  readonly httpPort?: number;
  /** Default: a free port. */
  readonly dicomPort?: number;
  /** The AiBridge section (merged over {DataDirectory}); false: our plugin is not loaded. */
  readonly aiBridge?: Readonly<Record<string, unknown>> | false;
  /** Merged into orthanc.json at the top level. */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  /** Default: <repo>/build/Release/libOrthancAiBridge.so. */
  readonly pluginPath?: string;
  /** Load Debian's DICOMweb plugin (default true). */
  readonly dicomWeb?: boolean;
  /** Orthanc --verbose. */
  readonly verbose?: boolean;
  /** A user's own orthanc.json, merged over the generated one (CLI --config). */
  readonly configFile?: string;
  /** Extra environment for Orthanc (and so for the gateway it spawns). */
  readonly env?: Readonly<Record<string, string>>;
  /** Authorization header sent with every request (an Orthanc with AuthenticationEnabled). */
  readonly authorization?: string;
}

export interface RunningOrthanc {
  readonly httpPort: number;
  readonly dicomPort: number;
  /** http://127.0.0.1:port */
  readonly baseUrl: string;
  readonly aet: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly dataDir: string;
  pid(): number | undefined;
  request(method: HttpMethod, path: string, body?: Buffer | string | object): Promise<OrthancResponse>;
  /** Throws (AIB_CLI_ORTHANC_HTTP, with status and body text) on a non-2xx answer. */
  json<T>(method: HttpMethod, path: string, body?: Buffer | string | object): Promise<T>;
  /** Orthanc's stdout+stderr so far, as written to logPath. */
  logText(): string;
  /** Resolves with the first log line matching pattern, polling the log file. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM and wait; SIGKILL after 30 s. Idempotent. */
  stop(): Promise<void>;
  /** stop() then start again with the same configuration, ports and data. */
  restart(): Promise<void>;
  /** Resolves when the current Orthanc process has exited, for whatever reason. */
  exited(): Promise<void>;
}

export type { HttpMethod, OrthancResponse } from './orthanc-http.js';

export const DEFAULT_PLUGIN_PATH = path.join(repoRoot(), 'build', 'Release', 'libOrthancAiBridge.so');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 30_000;

// A test that throws before stop() must not leave an Orthanc behind: every
// child is killed when this process exits, however it exits (short of SIGKILL).
const liveChildren = new Set<ChildProcess>();
function killAll(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
// A signal's default action ends node without 'exit' (a CI runner stopping
// mocha with SIGTERM). When nobody else handles the signal, kill Orthanc and
// then let the signal do what it would have done; when someone does (the CLI
// stops Orthanc gracefully), leave it to them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    if (process.listenerCount(signal) > 1) return;
    killAll();
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

/**
 * Ports this process has handed out or been told to use. The kernel may give
 * a port that was just released again (CI once saw one port chosen for both
 * Orthanc's HTTP and DICOM servers), and a port chosen here is free only until
 * its owner binds it: never handing one out twice keeps the processes we
 * start off each other's ports.
 */
const claimedPorts = new Set<number>();

/** Marks ports as in use by something this process starts, so freePort never returns them. */
export function claimPorts(...ports: readonly number[]): void {
  for (const port of ports) claimedPorts.add(port);
}

/** A port free on 127.0.0.1 now, never one this process handed out or claimed before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await ephemeralPort();
    if (!claimedPorts.has(port)) {
      claimedPorts.add(port);
      return port;
    }
  }
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

function readLog(logPath: string): string {
  try {
    return fs.readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
}

function requireFile(file: string, what: string, hint: string): void {
  if (!fs.existsSync(file)) {
    throw new CliError('AIB_CLI_MISSING_FILE', `${what} not found at ${file}: ${hint}`, { file });
  }
}

class OrthancProcess implements RunningOrthanc {
  readonly baseUrl: string;
  readonly logPath: string;
  readonly configPath: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  constructor(
    readonly dataDir: string,
    readonly httpPort: number,
    readonly dicomPort: number,
    readonly aet: string,
    private readonly verbose: boolean,
    private readonly env: Readonly<Record<string, string>>,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {
    this.baseUrl = `http://127.0.0.1:${httpPort}`;
    this.configPath = path.join(dataDir, 'orthanc.json');
    this.logPath = path.join(dataDir, 'orthanc.log');
  }

  pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const logFd = fs.openSync(this.logPath, 'a');
    const args = [this.configPath, ...(this.verbose ? ['--verbose'] : [])];
    let child: ChildProcess;
    try {
      child = spawn(ORTHANC_BINARY, args, { stdio: ['ignore', logFd, logFd], cwd: this.dataDir, env: this.env });
    } finally {
      fs.closeSync(logFd);
    }
    // Unreferenced so a forgotten Orthanc never keeps mocha alive; stop() refs it again.
    child.unref();
    this.#child = child;
    this.#stopping = undefined;
    liveChildren.add(child);
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      const done = (description: string): void => {
        exitInfo ??= description;
        liveChildren.delete(child);
        resolve();
      };
      child.once('exit', (code, signal) => {
        done(`exited with ${signal ?? `code ${String(code)}`}`);
      });
      child.once('error', (e) => {
        done(`could not be started: ${e.message}`);
      });
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new CliError('AIB_CLI_ORTHANC_START_FAILED',
          `Orthanc ${exitInfo}; last lines of ${this.logPath}:\n${tail(this.logText())}`,
          { logPath: this.logPath });
      }
      try {
        const res = await orthancRequest(this.httpPort, 'GET', '/system', undefined, 2_000, this.headers);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new CliError('AIB_CLI_ORTHANC_START_FAILED',
          `Orthanc did not answer GET /system within ${START_TIMEOUT_MS / 1000} s; last lines of ${this.logPath}:\n${tail(this.logText())}`,
          { logPath: this.logPath });
      }
      await sleep(100);
    }
  }

  request(method: HttpMethod, urlPath: string, body?: Buffer | string | object): Promise<OrthancResponse> {
    return orthancRequest(this.httpPort, method, urlPath, body, undefined, this.headers);
  }

  async json<T>(method: HttpMethod, urlPath: string, body?: Buffer | string | object): Promise<T> {
    const res = await this.request(method, urlPath, body);
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status > 299) {
      throw new CliError('AIB_CLI_ORTHANC_HTTP', `${method} ${urlPath} answered ${res.status}: ${text}`,
        { method, path: urlPath, status: res.status });
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  logText(): string {
    return readLog(this.logPath);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logText().split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline) {
        throw new CliError('AIB_CLI_LOG_TIMEOUT',
          `no line of ${this.logPath} matched ${String(pattern)} within ${timeoutMs} ms`,
          { logPath: this.logPath, pattern: String(pattern) });
      }
      await sleep(100);
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !liveChildren.has(child)) return;
    child.ref();
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(killTimer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  exited(): Promise<void> {
    return this.#exited;
  }
}

/**
 * DCMTK (Orthanc's DICOM stack) leaves Nagle's algorithm on unless TCP_NODELAY=1;
 * with it on, every C-STORE response waits for a delayed ACK (about 40 ms per
 * instance on loopback, measured: 29 small MR files 1.6 s vs 0.34 s).
 */
function orthancEnv(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, TCP_NODELAY: '1', ...extra };
}

/** Writes dataDir/orthanc.json, spawns Debian's Orthanc on it and waits until GET /system answers. */
export async function startOrthanc(opts: OrthancLaunchOptions): Promise<RunningOrthanc> {
  if (opts.httpPort !== undefined && opts.httpPort === opts.dicomPort) {
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE',
      `the HTTP and DICOM ports are both ${String(opts.httpPort)}: Orthanc needs a port for each`, { port: opts.httpPort });
  }
  const dataDir = path.resolve(opts.dataDir);
  const pluginPath = path.resolve(opts.pluginPath ?? DEFAULT_PLUGIN_PATH);
  const aiBridge = opts.aiBridge === false ? undefined : (opts.aiBridge ?? {});
  const dicomWeb = opts.dicomWeb ?? true;
  requireFile(ORTHANC_BINARY, 'Orthanc', 'install the Debian package orthanc (scripts/bootstrap.sh does)');
  if (aiBridge !== undefined) requireFile(pluginPath, 'The AI bridge plugin', 'run npm run build:native');
  const userConfig = opts.configFile === undefined ? undefined : readUserConfig(opts.configFile);
  fs.mkdirSync(path.join(dataDir, 'orthanc'), { recursive: true });

  claimPorts(...[opts.httpPort, opts.dicomPort].filter((port): port is number => port !== undefined));
  // A port found free can be taken before Orthanc binds it; when we chose it, try again.
  const attempts = opts.httpPort === undefined || opts.dicomPort === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const config = buildOrthancConfig({
      dataDir,
      httpPort: opts.httpPort ?? (await freePort()),
      dicomPort: opts.dicomPort ?? (await freePort()),
      aiBridge,
      pluginPath,
      dicomWeb,
      extraConfig: opts.extraConfig,
      userConfig,
    });
    const aiBridgeSection = config['AiBridge'];
    if (isJsonObject(aiBridgeSection) && typeof aiBridgeSection['DataDirectory'] === 'string') {
      fs.mkdirSync(aiBridgeSection['DataDirectory'], { recursive: true, mode: 0o700 });
    }
    const orthanc = new OrthancProcess(dataDir, Number(config['HttpPort']), Number(config['DicomPort']),
      String(config['DicomAet']), opts.verbose ?? false, orthancEnv(opts.env),
      opts.authorization === undefined ? {} : { authorization: opts.authorization });
    fs.writeFileSync(orthanc.configPath, JSON.stringify(config, null, 2) + '\n');
    try {
      await orthanc.start();
      return orthanc;
    } catch (e) {
      const portTaken = /privileged or already in use/.test(orthanc.logText());
      if (attempt >= attempts || !portTaken) throw e;
    }
  }
}
