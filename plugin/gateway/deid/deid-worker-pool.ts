import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

import { FrameChannel } from '../../core/frame-channel';
import { isDeidReady, isDeidResult, type DeidReady, type DeidRequest, type DeidResult } from '../../core/deid-messages';
import { GatewayError } from '../gateway-errors';
import type { Logger } from '../logger';

export interface DeidWorkerPoolOptions {
  readonly workers: number;
  /** Compiled worker entry (dist/plugin/deid/worker-main.js), started by path: the gateway never imports plugin/deid. */
  readonly script: string;
  readonly profile: string;
  readonly deidDirectory: string;
  readonly siteKeyFile: string;
}

interface Worker {
  readonly index: number;
  readonly child: ChildProcess;
  readonly channel: FrameChannel;
  busy: boolean;
  ready: DeidReady | undefined;
}

interface Waiter {
  readonly resolve: (worker: Worker) => void;
}

const READY_TIMEOUT_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Sealed de-identification worker processes. Each is its own Node process
 * on an AF_UNIX socketpair (fd 3); it seals itself (seccomp, Landlock) before
 * it is sent the site key or any instance, and a worker whose ready message
 * does not report an active seccomp filter is never used. A worker that dies
 * mid-instance fails that instance with a transient error (the pipeline
 * retries it) and is replaced.
 */
export class DeidWorkerPool {
  readonly #options: DeidWorkerPoolOptions;
  readonly #log: Logger;
  readonly #workers = new Map<number, Worker>();
  readonly #waiters: Waiter[] = [];
  readonly #restarts = new Map<number, number>();
  #stopped = false;

  constructor(options: DeidWorkerPoolOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
  }

  start(): void {
    for (let i = 0; i < this.#options.workers; i++) this.#spawn(i);
  }

  get readyWorkers(): number {
    return [...this.#workers.values()].filter((w) => w.ready !== undefined).length;
  }

  sealReports(): DeidReady[] {
    return [...this.#workers.values()].flatMap((w) => (w.ready === undefined ? [] : [w.ready]));
  }

  /** `original`: the Part 10 bytes, or empty when `request.inputPath` names the file. */
  async deidentify(request: Omit<DeidRequest, 'k'>, original: Buffer = Buffer.alloc(0)): Promise<DeidResult> {
    const { instanceId } = request;
    const worker = await this.#acquire();
    try {
      const reply = await worker.channel.request({ ...request, k: 'deid' }, original);
      if (!isDeidResult(reply.header)) {
        throw new GatewayError('AIB_DEID_WORKER_PROTOCOL', `de-identification worker ${worker.index} sent an invalid reply for instance ${instanceId}`, { instanceId }, true);
      }
      return reply.header;
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('AIB_DEID_WORKER_LOST', `de-identification worker ${worker.index} stopped while handling instance ${instanceId}`, { instanceId }, true);
    } finally {
      this.#release(worker);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const exits = [...this.#workers.values()].map((w) => new Promise<void>((resolve) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) { resolve(); return; }
      w.child.once('exit', () => { resolve(); });
      w.channel.close();
      w.child.kill('SIGTERM');
      setTimeout(() => { w.child.kill('SIGKILL'); }, 3000).unref();
    }));
    await Promise.all(exits);
  }

  #spawn(index: number): void {
    if (this.#stopped) return;
    const child = spawn(process.execPath, [this.#options.script], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, AIBRIDGE_WORKER_INDEX: String(index) },
    });
    // libuv creates stdio pipes as AF_UNIX socketpairs: fd 3 is a net.Socket here.
    const channel = new FrameChannel(child.stdio[3] as Socket);
    const worker: Worker = { index, child, channel, busy: true, ready: undefined };
    this.#workers.set(index, worker);
    child.on('exit', (code, signal) => { this.#onExit(worker, code, signal); });
    void this.#initialise(worker);
  }

  async #initialise(worker: Worker): Promise<void> {
    const timer = setTimeout(() => {
      this.#log.error(`de-identification worker ${worker.index} did not become ready in ${READY_TIMEOUT_MS / 1000} s; restarting it`);
      worker.child.kill('SIGKILL');
    }, READY_TIMEOUT_MS);
    try {
      const reply = await worker.channel.request(
        { k: 'init', profile: this.#options.profile, deidDirectory: this.#options.deidDirectory, siteKeyFile: this.#options.siteKeyFile });
      if (!isDeidReady(reply.header)) {
        const reason = typeof reply.header['message'] === 'string' ? reply.header['message'] : 'no ready message';
        this.#log.error(`de-identification worker ${worker.index} failed to start: ${reason}`);
        worker.child.kill('SIGKILL');
        return;
      }
      if (!reply.header.seal.seccomp) {
        this.#log.error(`de-identification worker ${worker.index} reports no seccomp seal; it will not be used`);
        worker.child.kill('SIGKILL');
        return;
      }
      worker.ready = reply.header;
      this.#restarts.set(worker.index, 0);
      this.#log.info(`de-identification worker ${worker.index} ready (pid ${worker.child.pid ?? 0}, profile ${reply.header.profile}, seccomp on, Landlock ${reply.header.seal.landlock} ABI ${reply.header.seal.landlockAbi})`);
      this.#release(worker);
    } catch {
      // The exit handler restarts it.
    } finally {
      clearTimeout(timer);
    }
  }

  #onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    worker.channel.close();
    if (this.#workers.get(worker.index) === worker) this.#workers.delete(worker.index);
    if (this.#stopped) return;
    const restarts = (this.#restarts.get(worker.index) ?? 0) + 1;
    this.#restarts.set(worker.index, restarts);
    const delay = Math.min(500 * 2 ** (restarts - 1), MAX_RESTART_DELAY_MS);
    this.#log.warn(`de-identification worker ${worker.index} exited (${signal ?? `status ${code ?? 0}`}); restarting in ${delay} ms`);
    setTimeout(() => { this.#spawn(worker.index); }, delay).unref();
  }

  #acquire(): Promise<Worker> {
    for (const worker of this.#workers.values()) {
      if (!worker.busy && worker.ready !== undefined && !worker.channel.closed) {
        worker.busy = true;
        return Promise.resolve(worker);
      }
    }
    return new Promise<Worker>((resolve) => { this.#waiters.push({ resolve }); });
  }

  #release(worker: Worker): void {
    if (worker.channel.closed || this.#workers.get(worker.index) !== worker) return;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      worker.busy = false;
      return;
    }
    worker.busy = true;
    waiter.resolve(worker);
  }
}
