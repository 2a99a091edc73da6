import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

import type { Frame, FrameHeader } from '../../core/frame-codec';
import { FrameChannel } from '../../core/frame-channel';
import type { Logger } from '../logger';

export interface ProcessPoolOptions<Ready> {
  /** How logs name the processes ("de-identification worker", "annotator"). */
  readonly name: string;
  readonly processes: number;
  /** Compiled entry script, started by path: the gateway never imports a worker's code. */
  readonly script: string;
  /** The first request every process gets; its reply says whether it may be used. */
  readonly init: FrameHeader;
  /** The ready reply, checked: a reason string refuses the process (it is killed and restarted). */
  readonly acceptReady: (header: Readonly<Record<string, unknown>>) => Ready | string;
  /** How long a process may take to become ready before it is killed and restarted. */
  readonly readyTimeoutMs?: number;
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

  readyReports(): Ready[] {
    return [...this.#members.values()].flatMap((m) => (m.ready === undefined ? [] : [m.ready]));
  }

  /** Sends one request to the next free ready process; rejects with ProcessLostError if it dies meanwhile. */
  async request(header: FrameHeader, body?: Buffer): Promise<{ frame: Frame; process: number }> {
    const member = await this.#acquire();
    try {
      return { frame: await member.channel.request(header, body), process: member.index };
    } catch (error) {
      throw new ProcessLostError(`${this.#options.name} ${member.index} stopped: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.#release(member);
    }
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
    const child = spawn(process.execPath, [this.#options.script], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, AIBRIDGE_WORKER_INDEX: String(index) },
    });
    // libuv creates stdio pipes as AF_UNIX socketpairs: fd 3 is a net.Socket here.
    const channel = new FrameChannel(child.stdio[3] as Socket);
    const member: Member<Ready> = { index, child, channel, busy: true, ready: undefined };
    this.#members.set(index, member);
    child.on('exit', (code, signal) => { this.#onExit(member, code, signal); });
    void this.#initialise(member);
  }

  async #initialise(member: Member<Ready>): Promise<void> {
    const timeoutMs = this.#options.readyTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      this.#log.error(`${this.#options.name} ${member.index} did not become ready in ${timeoutMs / 1000} s; restarting it`);
      member.child.kill('SIGKILL');
    }, timeoutMs);
    try {
      const reply = await member.channel.request(this.#options.init);
      const accepted = this.#options.acceptReady(reply.header);
      if (typeof accepted === 'string') {
        this.#log.error(`${this.#options.name} ${member.index} refused: ${accepted}`);
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
    if (this.#stopped) return;
    const restarts = (this.#restarts.get(member.index) ?? 0) + 1;
    this.#restarts.set(member.index, restarts);
    const delay = Math.min(500 * 2 ** (restarts - 1), MAX_RESTART_DELAY_MS);
    this.#log.warn(`${this.#options.name} ${member.index} exited (${signal ?? `status ${code ?? 0}`}); restarting in ${delay} ms`);
    setTimeout(() => { this.#spawn(member.index); }, delay).unref();
  }

  #acquire(): Promise<Member<Ready>> {
    for (const member of this.#members.values()) {
      if (!member.busy && member.ready !== undefined && !member.channel.closed) {
        member.busy = true;
        return Promise.resolve(member);
      }
    }
    return new Promise((resolve) => { this.#waiters.push(resolve); });
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
