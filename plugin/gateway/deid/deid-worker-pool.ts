import { isDeidReady, isDeidResult, type CleanPixelsSettings, type DeidReady, type DeidRequest, type DeidResult } from '../../core/deid-messages';
import { GatewayError } from '../gateway-errors';
import type { Logger } from '../logger';
import { ProcessLostError, ProcessPool } from '../workers/process-pool';

export interface DeidWorkerPoolOptions {
  readonly workers: number;
  /** Compiled worker entry (dist/plugin/deid/worker-main.js), started by path: the gateway never imports plugin/deid. */
  readonly script: string;
  readonly profile: string;
  readonly deidDirectory: string;
  readonly siteKeyFile: string;
  /** phi/spool, where the gateway's originals wait for the worker; absent for the `deid` command. */
  readonly spoolDirectory?: string;
  /** Absent: Clean Pixel Data off. */
  readonly cleanPixels?: CleanPixelsSettings;
}

/**
 * Sealed de-identification worker processes. Each seals itself (seccomp,
 * Landlock) before it is sent the site key or any instance, and a worker
 * whose ready message does not report an active seccomp filter is never
 * used. A worker that dies mid-instance fails that instance with a
 * transient error (the pipeline retries it) and is replaced.
 */
export class DeidWorkerPool {
  readonly #pool: ProcessPool<DeidReady>;
  readonly #log: Logger;

  constructor(options: DeidWorkerPoolOptions, log: Logger) {
    this.#log = log;
    this.#pool = new ProcessPool<DeidReady>({
      name: 'de-identification worker',
      processes: options.workers,
      script: options.script,
      init: { k: 'init', profile: options.profile, deidDirectory: options.deidDirectory, siteKeyFile: options.siteKeyFile,
        ...(options.spoolDirectory === undefined ? {} : { spoolDirectory: options.spoolDirectory }),
        ...(options.cleanPixels ? { cleanPixels: options.cleanPixels } : {}) },
      acceptReady: (header) => {
        if (!isDeidReady(header)) return typeof header['message'] === 'string' ? header['message'] : 'no ready message';
        if (!header.seal.seccomp) return 'it reports no seccomp seal';
        this.#log.info(`de-identification worker ready (profile ${header.profile}, seccomp on, Landlock ${header.seal.landlock} ABI ${header.seal.landlockAbi})`);
        return header;
      },
    }, log);
  }

  start(): void {
    this.#pool.start();
  }

  get readyWorkers(): number {
    return this.#pool.readyCount;
  }

  sealReports(): DeidReady[] {
    return this.#pool.readyReports();
  }

  /** `original`: empty when `request.inputPath` names the file (the gateway and the CLI); only benches send bytes. */
  async deidentify(request: Omit<DeidRequest, 'k'>, original: Buffer = Buffer.alloc(0)): Promise<DeidResult> {
    const { instanceId } = request;
    let reply;
    try {
      reply = await this.#pool.request({ ...request, k: 'deid' }, original);
    } catch (error) {
      if (error instanceof ProcessLostError) {
        throw new GatewayError('AIB_DEID_WORKER_LOST', `a de-identification worker stopped while handling instance ${instanceId}`, { instanceId }, true);
      }
      throw error;
    }
    if (!isDeidResult(reply.frame.header)) {
      throw new GatewayError('AIB_DEID_WORKER_PROTOCOL', `de-identification worker ${reply.process} sent an invalid reply for instance ${instanceId}`, { instanceId }, true);
    }
    return reply.frame.header;
  }

  stop(): Promise<void> {
    return this.#pool.stop();
  }
}
