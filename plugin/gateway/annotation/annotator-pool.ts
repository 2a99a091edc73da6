import {
  isAckReply, isAnnotateReply, isAnnotatorReady, isCentralStatusReply, isClassifyReply, isModelChangeReply, isModelsReply,
  type AnnotateReply, type AnnotateRequest, type AnnotatorReady, type CategoryProgressRequest, type CentralLinkSettings, type CentralStatusReply,
  type ClassifyReply, type InstalledModelInfo, type ModelChangeReply, type ActivateModelRequest, type RollbackModelRequest,
} from '../../core/annotate-messages';
import { sealShortfall } from '../../core/seal-report';
import { GatewayError } from '../gateway-errors';
import type { Logger } from '../logger';
import { acceptSealed } from '../workers/accept-sealed';
import { PermanentRefusal, PoolBusyError, ProcessLostError, ProcessPool, ProcessTimeoutError } from '../workers/process-pool';

export interface AnnotatorPoolOptions {
  readonly processes: number;
  /** dist/plugin/annotate/annotator-main.js, started by path: the gateway never imports plugin/annotate. */
  readonly script: string;
  readonly deidDirectory: string;
  readonly outboxDirectory: string;
  readonly modelsDirectory: string;
  /** central/ (de-identified zone): the link's state and upload queue. */
  readonly centralDirectory: string;
  readonly central?: CentralLinkSettings;
  /** One request may take this long; then the annotator is killed and the work fails with AIB_ANNOTATOR_TIMEOUT (default 900 s, AiBridge.AnnotatorTimeoutSeconds). */
  readonly requestTimeoutMs?: number;
  /** Requests allowed to wait for a free annotator; more are refused with AIB_ANNOTATOR_BUSY (default 256). */
  readonly maxWaiting?: number;
}

export const DEFAULT_ANNOTATOR_TIMEOUT_MS = 900_000;

/**
 * The annotator processes (de-identified zone). The gateway hands them only
 * paths inside deid/ and link tokens; they answer with paths inside outbox/.
 */
export class AnnotatorPool {
  readonly #pool: ProcessPool<AnnotatorReady>;

  constructor(options: AnnotatorPoolOptions, log: Logger) {
    this.#pool = new ProcessPool<AnnotatorReady>({
      name: 'annotator',
      processes: options.processes,
      script: options.script,
      init: {
        k: 'init', deidDirectory: options.deidDirectory, outboxDirectory: options.outboxDirectory, modelsDirectory: options.modelsDirectory,
        centralDirectory: options.centralDirectory, ...(options.central === undefined ? {} : { central: { ...options.central } }),
      },
      acceptReady: (header, pid) => acceptSealed(header, pid, (ready) => {
        if (!isAnnotatorReady(ready)) return typeof ready['message'] === 'string' ? ready['message'] : 'no ready message';
        const shortfall = sealShortfall('annotator', ready.seal);
        if (shortfall !== undefined) return new PermanentRefusal(`its seal is incomplete: ${shortfall}`);
        log.info('annotator-ready', { stage: 'annotator', count: ready.models.length,
          message: `annotator ready (Landlock ${ready.seal.landlock} ABI ${String(ready.seal.landlockAbi)}) with ${String(ready.models.length)} model(s): ${ready.models.map((m) => `${m.id}@${m.version}`).join(', ') || 'none'}` });
        return ready;
      }),
      // Loading ONNX sessions and verifying packages takes a while on a busy machine.
      readyTimeoutMs: 120_000,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_ANNOTATOR_TIMEOUT_MS,
      ...(options.maxWaiting === undefined ? {} : { maxWaiting: options.maxWaiting }),
    }, log);
  }

  start(): void {
    this.#pool.start();
  }

  get readyCount(): number {
    return this.#pool.readyCount;
  }

  sealReports(): AnnotatorReady['seal'][] {
    return this.#pool.readyReports().map((r) => r.seal);
  }

  refusals(): { readonly process: number; readonly reason: string }[] {
    return this.#pool.refusals();
  }

  /** The uplink's installation requests (list-models, install-package), passed on as they are. */
  async relay(header: { readonly k: string; readonly [field: string]: unknown }): Promise<Readonly<Record<string, unknown>>> {
    return this.#call(header, `relaying the uplink's ${header.k}`);
  }

  models(): AnnotatorReady['models'] {
    return this.#pool.readyReports()[0]?.models ?? [];
  }

  async classify(deidPath: string): Promise<ClassifyReply> {
    // Alongside: a header read must not wait behind a series annotation (see ProcessPool.requestAlongside).
    const header = await this.#call({ k: 'classify', deidPath }, `classifying ${deidPath}`, true);
    if (!isClassifyReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', `the annotator sent an invalid classify reply for ${deidPath}`, {}, true);
    return header;
  }

  async annotate(request: Omit<AnnotateRequest, 'k'>): Promise<AnnotateReply> {
    const header = await this.#call({ ...request, k: 'annotate' }, `annotating ${request.key}`);
    if (!isAnnotateReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', `the annotator sent an invalid reply for ${request.key}`, {}, true);
    return header;
  }

  async listModels(): Promise<readonly InstalledModelInfo[]> {
    const header = await this.#call({ k: 'list-models' }, 'listing models');
    if (!isModelsReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid model list', {}, true);
    return header.models;
  }

  /** Activates a version (or rolls back) on disk: every annotator process serves it from its next instance on. */
  async changeModel(change: { readonly id: string; readonly version?: string }): Promise<ModelChangeReply> {
    const request: RollbackModelRequest | ActivateModelRequest = change.version === undefined
      ? { k: 'rollback-model', modelId: change.id } : { k: 'activate-model', modelId: change.id, version: change.version };
    const header = await this.#call({ ...request }, `changing model ${change.id}`);
    if (!isModelChangeReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid model change reply', {}, true);
    return header;
  }

  async centralStatus(): Promise<CentralStatusReply> {
    const header = await this.#call({ k: 'central-status' }, 'reading the central link status');
    if (!isCentralStatusReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid central status', {}, true);
    return header;
  }

  /** Hands a de-identified copy (path inside deid/) to the upload queue. */
  async queueUpload(deidPath: string, requestId?: string): Promise<void> {
    const header = await this.#call({ k: 'central-upload', deidPath, ...(requestId === undefined ? {} : { requestId }) }, 'queueing an upload');
    if (!isAckReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid upload reply', {}, true);
    if (!header.ok) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', `the annotator did not queue the upload: ${header.message ?? ''}`, {}, true);
  }

  async reportProgress(progress: Omit<CategoryProgressRequest, 'k'>): Promise<void> {
    const header = await this.#call({ ...progress, k: 'category-progress' }, `reporting request ${progress.requestId}`);
    if (!isAckReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid progress reply', {}, true);
  }

  stop(): Promise<void> {
    return this.#pool.stop();
  }

  async #call(header: { readonly k: string; readonly [field: string]: unknown }, what: string, alongside = false): Promise<Readonly<Record<string, unknown>>> {
    try {
      return (await (alongside ? this.#pool.requestAlongside(header) : this.#pool.request(header))).frame.header;
    } catch (error) {
      if (error instanceof ProcessLostError) throw new GatewayError('AIB_ANNOTATOR_LOST', `the annotator stopped while ${what}`, {}, true);
      if (error instanceof ProcessTimeoutError) throw new GatewayError('AIB_ANNOTATOR_TIMEOUT', `${what}: ${error.message}`, {}, true);
      if (error instanceof PoolBusyError) throw new GatewayError('AIB_ANNOTATOR_BUSY', `${what}: ${error.message}`, {}, true);
      throw error;
    }
  }
}
