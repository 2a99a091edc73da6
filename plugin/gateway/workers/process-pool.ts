import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

import { childEnvironment } from './child-environment';

import type { Frame, FrameHeader } from '../../core/frame-codec';
import { FrameChannel } from '../../core/frame-channel';
import type { Logger } from '../logger';

/**
 * V8's young generation kept small (1 MB semi-spaces instead of up to 16): these processes
 * allocate a buffer or an image per request and keep little, so a larger nursery only holds
 * garbage. Measured with the deid command: 5 MB less per worker, no more CPU (README, Benchmarks).
 * The old generation's growing factor is 1.25 instead of V8's dynamic one (up to 4): what the
 * small nursery promotes is mostly garbage too (the gateway's flags, native/orthanc/supervisor.cpp).
 */
const CHILD_NODE_ARGUMENTS = ['--max-semi-space-size=1', '--heap-growing-percent=25'];

export interface ProcessPoolOptions<Ready> {
  /** How logs name the processes ("de-identification worker", "annotator"). */
  readonly name: string;
  readonly processes: number;
  /** Compiled entry script, started by path: the gateway never imports a worker's code. */
  readonly script: string;
  /** The first request every process gets; its reply says whether it may be used. */
  readonly init: FrameHeader;
  /**
   * The ready reply, checked (with the child's pid, to look at it in /proc): a
   * reason string refuses the process (it is killed and restarted); a
   * PermanentRefusal refuses it for good (a seal the kernel cannot give will
   * not come with a restart): it is not restarted, and `refusals()` says why.
   */
  readonly acceptReady: (header: Readonly<Record<string, unknown>>, pid: number) => Ready | string | PermanentRefusal;
  /** How long a process may take to become ready before it is killed and restarted. */
  readonly readyTimeoutMs?: number;
  /** How long one request may take: then the process is killed (and restarted) and the request fails with ProcessTimeoutError. Absent: no limit. */
  readonly requestTimeoutMs?: number;
  /** Requests allowed to wait for a free process; one more is refused at once with PoolBusyError (default 256). */
  readonly maxWaiting?: number;
  /** Requests a process sends the gateway (the uplink's installation requests); absent: none expected. */
  readonly onRequest?: (frame: Frame) => Promise<FrameHeader>;
}

interface Member<Ready> {
  readonly index: number;
  readonly child: ChildProcess;
  readonly channel: FrameChannel;
  busy: boolean;
  ready: Ready | undefined;
}

/** The process stopped (or its socket closed) before it answered. */
export class ProcessLostError extends Error {}

/** The process did not answer within requestTimeoutMs; it has been killed. */
export class ProcessTimeoutError extends Error {}

/** maxWaiting requests already wait for a process: back-pressure, the caller tries again later. */
export class PoolBusyError extends Error {}

const DEFAULT_MAX_WAITING = 256;

/** A process that can never become usable (see ProcessPoolOptions.acceptReady). */
export class PermanentRefusal {
  constructor(readonly reason: string) {}
}

const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Node child processes on AF_UNIX socketpairs (fd 3), one request at a time
 * each. A process is used only after it answered the init request with a
 * reply `acceptReady` accepts; one that exits is restarted with backoff, and
 * the request it was handling fails with ProcessLostError for the caller to
 * retry.
 */
export class ProcessPool<Ready> {
  readonly #options: ProcessPoolOptions<Ready>;
  readonly #log: Logger;
  readonly #members = new Map<number, Member<Ready>>();
  readonly #waiters: ((member: Member<Ready>) => void)[] = [];
  readonly #restarts = new Map<number, number>();
  readonly #refused = new Map<number, string>();
  #stopped = false;

  constructor(options: ProcessPoolOptions<Ready>, log: Logger) {
    this.#options = options;
    this.#log = log;
  }

  start(): void {
    for (let i = 0; i < this.#options.processes; i++) this.#spawn(i);
  }

  get readyCount(): number {
    return [...this.#members.values()].filter((m) => m.ready !== undefined).length;
  }

  /** Processes refused for good, with the reason (shown in /ai-bridge/health). */
  refusals(): { readonly process: number; readonly reason: string }[] {
    return [...this.#refused.entries()].map(([index, reason]) => ({ process: index, reason }));
  }

  readyReports(): Ready[] {
    return [...this.#members.values()].flatMap((m) => (m.ready === undefined ? [] : [m.ready]));
  }

  /**
   * Sends one request to the next free ready process; rejects with
   * ProcessLostError if it dies meanwhile, ProcessTimeoutError if no process
   * is free within requestTimeoutMs or the one it went to does not answer
   * within requestTimeoutMs (that one is killed), PoolBusyError if maxWaiting
   * requests are already waiting.
   */
  async request(header: FrameHeader, body?: Buffer): Promise<{ frame: Frame; process: number }> {
    const member = await this.#acquire(this.#options.requestTimeoutMs);
    try {
      return await this.#exchange(member, header, body);
    } finally {
      this.#release(member);
    }
  }

  /**
   * A short request that needs no process to itself (the annotator's
   * central-upload, one file append): sent at once to a ready process, a free
   * one if there is one, else one busy with a long request, which answers it
   * between the awaits of that work, instead of behind whole series
   * annotations. Waits like request() only while no
   * process is ready. Same timeout and errors as request().
   */
  async requestAlongside(header: FrameHeader, body?: Buffer): Promise<{ frame: Frame; process: number }> {
    const ready = [...this.#members.values()].filter((m) => m.ready !== undefined && !m.channel.closed);
    const member = ready.find((m) => !m.busy) ?? ready[0];
    if (member === undefined) return this.request(header, body);
    return this.#exchange(member, header, body);
  }

  async #exchange(member: Member<Ready>, header: FrameHeader, body: Buffer | undefined): Promise<{ frame: Frame; process: number }> {
    const timeoutMs = this.#options.requestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const state = { timedOut: false };
    try {
      const reply = member.channel.request(header, body);
      if (timeoutMs === undefined) return { frame: await reply, process: member.index };
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          state.timedOut = true;
          // Closed first, so the member is not handed to a waiter; the exit handler restarts it.
          member.channel.close();
          member.child.kill('SIGKILL');
          reject(new Error('timed out'));
        }, timeoutMs);
      });
      return { frame: await Promise.race([reply, expired]), process: member.index };
    } catch (error) {
      // Closing the channel rejects the reply first: whichever rejection wins the race, a timeout is a timeout.
      if (state.timedOut) throw new ProcessTimeoutError(`${this.#options.name} ${member.index} did not answer in ${String((timeoutMs ?? 0) / 1000)} s and was killed`);
      throw new ProcessLostError(`${this.#options.name} ${member.index} stopped: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Requests waiting for a free process now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const exits = [...this.#members.values()].map((m) => new Promise<void>((resolve) => {
      if (m.child.exitCode !== null || m.child.signalCode !== null) { resolve(); return; }
      m.child.once('exit', () => { resolve(); });
      m.channel.close();
      m.child.kill('SIGTERM');
      setTimeout(() => { m.child.kill('SIGKILL'); }, 3000).unref();
    }));
    await Promise.all(exits);
  }

  #spawn(index: number): void {
    if (this.#stopped) return;
    const child = spawn(process.execPath, [...CHILD_NODE_ARGUMENTS, this.#options.script], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: childEnvironment(index),
    });
    // libuv creates stdio pipes as AF_UNIX socketpairs: fd 3 is a net.Socket here.
    const channel = new FrameChannel(child.stdio[3] as Socket);
    const member: Member<Ready> = { index, child, channel, busy: true, ready: undefined };
    const onRequest = this.#options.onRequest;
    if (onRequest !== undefined) {
      channel.on('request', (frame) => {
        onRequest(frame).then((reply) => { channel.reply(frame, reply); },
          (error: unknown) => { channel.reply(frame, { k: 'error', message: error instanceof Error ? error.message : String(error) }); });
      });
    }
    this.#members.set(index, member);
    child.on('exit', (code, signal) => { this.#onExit(member, code, signal); });
    void this.#initialise(member);
  }

  async #initialise(member: Member<Ready>): Promise<void> {
    const timeoutMs = this.#options.readyTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      this.#log.error('process-ready-timeout', { process: `${this.#options.name} ${String(member.index)}`,
        message: `${this.#options.name} ${member.index} did not become ready in ${timeoutMs / 1000} s; restarting it` });
      member.child.kill('SIGKILL');
    }, timeoutMs);
    try {
      const reply = await member.channel.request(this.#options.init);
      const accepted = this.#options.acceptReady(reply.header, member.child.pid ?? 0);
      if (accepted instanceof PermanentRefusal) {
        this.#refused.set(member.index, accepted.reason);
        this.#log.error('process-refused', { process: `${this.#options.name} ${String(member.index)}`,
          message: `${this.#options.name} ${member.index} refused, not restarted (takes no work; see /ai-bridge/health): ${accepted.reason}` });
        member.child.kill('SIGKILL');
        return;
      }
      if (typeof accepted === 'string') {
        this.#log.error('process-refused', { process: `${this.#options.name} ${String(member.index)}`, message: `${this.#options.name} ${member.index} refused: ${accepted}` });
        member.child.kill('SIGKILL');
        return;
      }
      member.ready = accepted;
      this.#restarts.set(member.index, 0);
      this.#release(member);
    } catch {
      // The exit handler restarts it.
    } finally {
      clearTimeout(timer);
    }
  }

  #onExit(member: Member<Ready>, code: number | null, signal: NodeJS.Signals | null): void {
    member.channel.close();
    if (this.#members.get(member.index) === member) this.#members.delete(member.index);
    if (this.#stopped || this.#refused.has(member.index)) return;
    const restarts = (this.#restarts.get(member.index) ?? 0) + 1;
    this.#restarts.set(member.index, restarts);
    const delay = Math.min(500 * 2 ** (restarts - 1), MAX_RESTART_DELAY_MS);
    this.#log.warn('process-exited', { process: `${this.#options.name} ${String(member.index)}`,
      message: `${this.#options.name} ${member.index} exited (${signal ?? `status ${code ?? 0}`}); restarting in ${delay} ms` });
    setTimeout(() => { this.#spawn(member.index); }, delay).unref();
  }

  /** The next free ready process; waits at most timeoutMs (a process that never becomes ready must not hold work forever). */
  #acquire(timeoutMs: number | undefined): Promise<Member<Ready>> {
    for (const member of this.#members.values()) {
      if (!member.busy && member.ready !== undefined && !member.channel.closed) {
        member.busy = true;
        return Promise.resolve(member);
      }
    }
    const limit = this.#options.maxWaiting ?? DEFAULT_MAX_WAITING;
    if (this.#waiters.length >= limit) {
      return Promise.reject(new PoolBusyError(`${String(limit)} requests already wait for a ${this.#options.name}`));
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (member: Member<Ready>): void => {
        clearTimeout(timer);
        resolve(member);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(new ProcessTimeoutError(`no ${this.#options.name} was free to take the request within ${String(timeoutMs / 1000)} s`));
        }, timeoutMs);
      }
      this.#waiters.push(waiter);
    });
  }

  #release(member: Member<Ready>): void {
    if (member.channel.closed || this.#members.get(member.index) !== member) return;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      member.busy = false;
      return;
    }
    member.busy = true;
    waiter(member);
  }
}
