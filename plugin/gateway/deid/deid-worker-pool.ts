import { isDeidReady, isDeidResult, type CleanPixelsSettings, type DeidReady, type DeidRequest, type DeidResult } from '../../core/deid-messages';
import { sealShortfall } from '../../core/seal-report';
import { GatewayError } from '../gateway-errors';
import type { Logger } from '../logger';
import { acceptSealed } from '../workers/accept-sealed';
import { PermanentRefusal, PoolBusyError, ProcessLostError, ProcessPool, ProcessTimeoutError } from '../workers/process-pool';

export interface DeidWorkerPoolOptions {
  readonly workers: number;
  /** Compiled worker entry (dist/plugin/deid/worker-main.js), started by path: the gateway never imports plugin/deid. */
  readonly script: string;
  readonly profile: string;
  readonly deidDirectory: string;
  readonly siteKeyFile: string;
  /** Folders whose files a request's inputPath may name; nothing else is readable once sealed. */
  readonly inputDirectories: readonly string[];
  /** Absent: Clean Pixel Data off. */
  readonly cleanPixels?: CleanPixelsSettings;
  /** One instance may take this long; then the worker is killed and the instance fails with AIB_DEID_WORKER_TIMEOUT (default 120 s, AiBridge.DeidTimeoutSeconds). */
  readonly requestTimeoutMs?: number;
  /** Instances allowed to wait for a free worker; more are refused with AIB_DEID_WORKERS_BUSY (default 256). */
  readonly maxWaiting?: number;
}

export const DEFAULT_DEID_TIMEOUT_MS = 120_000;

/** What a plain worker answers for an image that needs Clean Pixel Data (plugin/deid/burned-in/clean-pixel-data.ts). */
const NEEDS_OCR_WORKER = 'AIB_DEID_NEEDS_OCR_WORKER';

/**
 * Sealed de-identification worker processes. Each seals itself (seccomp,
 * Landlock) before it is sent the site key or any instance, and a worker
 * whose ready message does not report an active seccomp filter is never
 * used. A worker that dies mid-instance fails that instance with a
 * transient error (the pipeline retries it) and is replaced.
 *
 * Memory: the `workers` plain workers load no OCR models. The PP-OCR models
 * are loaded once, in one more sealed worker started the first time an image
 * needs Clean Pixel Data (a plain worker answers AIB_DEID_NEEDS_OCR_WORKER and
 * the instance is sent there); a site that never receives such an image
 * never starts it.
 */
export class DeidWorkerPool {
  readonly #plain: ProcessPool<DeidReady>;
  readonly #ocr: ProcessPool<DeidReady> | undefined;
  #ocrStarted = false;

  constructor(options: DeidWorkerPoolOptions, log: Logger) {
    const init = { k: 'init', profile: options.profile, deidDirectory: options.deidDirectory, siteKeyFile: options.siteKeyFile,
      inputDirectories: [...options.inputDirectories],
      ...(options.cleanPixels ? { cleanPixels: options.cleanPixels } : {}) };
    const limits = { requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_DEID_TIMEOUT_MS, ...(options.maxWaiting === undefined ? {} : { maxWaiting: options.maxWaiting }) };
    const acceptReady = (header: Readonly<Record<string, unknown>>, pid: number): DeidReady | string | PermanentRefusal => acceptSealed(header, pid, (ready) => {
      if (!isDeidReady(ready)) return typeof ready['message'] === 'string' ? ready['message'] : 'no ready message';
      const shortfall = sealShortfall('deid-worker', ready.seal);
      if (shortfall !== undefined) return new PermanentRefusal(`its seal is incomplete: ${shortfall}`);
      log.info('deid-worker-ready', { stage: 'deid',
        message: `de-identification ${ready.ocr === true ? 'OCR ' : ''}worker ready (profile ${ready.profile}, seccomp on, Landlock ${ready.seal.landlock} ABI ${String(ready.seal.landlockAbi)})` });
      return ready;
    });
    this.#plain = new ProcessPool<DeidReady>({
      name: 'de-identification worker', processes: options.workers, script: options.script, init: { ...init, ocr: false }, acceptReady, ...limits,
    }, log);
    this.#ocr = options.cleanPixels === undefined || options.cleanPixels.apply === 'never' ? undefined : new ProcessPool<DeidReady>({
      name: 'de-identification OCR worker', processes: 1, script: options.script, init: { ...init, ocr: true }, acceptReady, ...limits,
    }, log);
  }

  start(): void {
    this.#plain.start();
  }

  /** Plain workers ready (the OCR worker starts on demand and is not counted). */
  get readyWorkers(): number {
    return this.#plain.readyCount;
  }

  sealReports(): DeidReady[] {
    return [...this.#plain.readyReports(), ...(this.#ocr?.readyReports() ?? [])];
  }

  /** Workers refused for good (a seal they could not install), with the reason. */
  refusals(): { readonly process: number; readonly reason: string }[] {
    return [...this.#plain.refusals(), ...(this.#ocr?.refusals() ?? []).map((r) => ({ ...r, reason: `OCR worker: ${r.reason}` }))];
  }

  /** `original`: empty when `request.inputPath` names the file (the gateway and the CLI); only benches send bytes. */
  async deidentify(request: Omit<DeidRequest, 'k'>, original: Buffer = Buffer.alloc(0)): Promise<DeidResult> {
    const first = await this.#ask(this.#plain, request, original);
    if (first.ok || first.code !== NEEDS_OCR_WORKER || this.#ocr === undefined) return first;
    if (!this.#ocrStarted) {
      this.#ocrStarted = true;
      this.#ocr.start();
    }
    return this.#ask(this.#ocr, request, original);
  }

  async #ask(pool: ProcessPool<DeidReady>, request: Omit<DeidRequest, 'k'>, original: Buffer): Promise<DeidResult> {
    const { instanceId } = request;
    let reply;
    try {
      reply = await pool.request({ ...request, k: 'deid' }, original);
    } catch (error) {
      if (error instanceof ProcessLostError) {
        throw new GatewayError('AIB_DEID_WORKER_LOST', `a de-identification worker stopped while handling instance ${instanceId}`, { instanceId }, true);
      }
      if (error instanceof ProcessTimeoutError) {
        throw new GatewayError('AIB_DEID_WORKER_TIMEOUT', `instance ${instanceId}: ${error.message}`, { instanceId }, true);
      }
      if (error instanceof PoolBusyError) throw new GatewayError('AIB_DEID_WORKERS_BUSY', `instance ${instanceId}: ${error.message}`, { instanceId }, true);
      throw error;
    }
    if (!isDeidResult(reply.frame.header)) {
      throw new GatewayError('AIB_DEID_WORKER_PROTOCOL', `de-identification worker ${reply.process} sent an invalid reply for instance ${instanceId}`, { instanceId }, true);
    }
    return reply.frame.header;
  }

  async stop(): Promise<void> {
    await Promise.all([this.#plain.stop(), this.#ocr?.stop()]);
  }
}
