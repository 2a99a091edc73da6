import {
  isAckReply, isActiveModelsReply, isAnnotateReply, isAnnotatorReady, isCentralStatusReply, isModelChangeReply, isModelsReply,
  type ActiveModel, type AnnotateReply, type AnnotateRequest, type AnnotatorReady, type CategoryProgressRequest, type CentralLinkSettings, type CentralStatusReply,
  type InstalledModelInfo, type ModelChangeReply, type ActivateModelRequest, type RollbackModelRequest,
} from '../../core/annotate-messages';
import { selectModel, type ScanCategory } from '../../core/model-package/scan-category';
import { errorFields } from '../../core/log-event';
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

/** Modalities that are not scans (PS3.3 C.7.3.1.1.1): never uploaded as training data. */
const NOT_SCANS = new Set(['SR', 'PR', 'KO', 'DOC', 'REG', 'FID', 'RWV', 'PLAN']);

/**
 * The annotator processes (de-identified zone). The gateway hands them only
 * paths inside deid/ and link tokens; they answer with paths inside outbox/.
 */
export class AnnotatorPool {
  readonly #pool: ProcessPool<AnnotatorReady>;
  readonly #log: Logger;
  readonly #uploadForTraining: boolean;
  /** The active models as the annotator last listed them (ready, or active-models after a change); undefined before the first. */
  #models: readonly ActiveModel[] | undefined;
  #listing: Promise<readonly ActiveModel[]> | undefined;

  constructor(options: AnnotatorPoolOptions, log: Logger) {
    this.#log = log;
    this.#uploadForTraining = options.central?.uploadForTraining === true;
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
        this.#models = ready.models;
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
    const reply = await this.#call(header, `relaying the uplink's ${header.k}`);
    // An installed package may serve new scans from now on (or replace the version serving them).
    if (header.k !== 'list-models') await this.#modelsChanged();
    return reply;
  }

  /** The active models, as last listed ([] before the annotator is first ready). */
  models(): readonly ActiveModel[] {
    return this.#models ?? [];
  }

  /**
   * The model for a de-identified copy, chosen here from what the sealed
   * worker read in the copy it wrote (DeidSuccess.scan) and the active models'
   * category rules: the instance job asks the annotator nothing, so it never
   * waits for inference (issue 14). Before the annotator's first ready this
   * waits for its list, like any request; undefined: no model applies.
   */
  async selectModel(scan: ScanCategory): Promise<ActiveModel | undefined> {
    return selectModel(this.#models ?? await this.#refreshModels(), scan);
  }

  /**
   * Training data: every de-identified scan, when the site agreed to send
   * them (AiBridge.Central.UploadForTraining). Not documents and presentation
   * states: those are mostly this bridge's own results coming back.
   */
  async offerForTraining(deidPath: string, modality: string): Promise<void> {
    if (!this.#uploadForTraining || NOT_SCANS.has(modality.trim().toUpperCase())) return;
    await this.queueUpload(deidPath);
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
    if (header.ok) await this.#modelsChanged();
    return header;
  }

  async centralStatus(): Promise<CentralStatusReply> {
    const header = await this.#call({ k: 'central-status' }, 'reading the central link status');
    if (!isCentralStatusReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid central status', {}, true);
    return header;
  }

  /** Hands a de-identified copy (path inside deid/) to the upload queue. */
  async queueUpload(deidPath: string, requestId?: string): Promise<void> {
    // Alongside: the annotator appends to its upload queue at once, not behind a series annotation.
    const header = await this.#call({ k: 'central-upload', deidPath, ...(requestId === undefined ? {} : { requestId }) }, 'queueing an upload', true);
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

  /**
   * After an install, activation or rollback: the new list now. The change
   * itself succeeded whatever happens here; if the list cannot be had, the next
   * model choice asks for it again rather than choose from the old one.
   */
  async #modelsChanged(): Promise<void> {
    try {
      await this.#refreshModels();
    } catch (error) {
      this.#models = undefined;
      this.#log.warn('active-models-failed', { stage: 'annotator', ...errorFields(error), message: `listing the active models after a change failed; asked again at the next instance: ${errorFields(error).message}` });
    }
  }

  /** Asks the annotator for its active models (one request at a time: concurrent callers share it). */
  #refreshModels(): Promise<readonly ActiveModel[]> {
    this.#listing ??= (async (): Promise<readonly ActiveModel[]> => {
      try {
        const header = await this.#call({ k: 'active-models' }, 'listing the active models');
        if (!isActiveModelsReply(header)) throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', 'the annotator sent an invalid list of active models', {}, true);
        if (header.models.map((m) => `${m.id}@${m.version}`).join() !== (this.#models ?? []).map((m) => `${m.id}@${m.version}`).join()) {
          this.#log.info('active-models', { stage: 'annotator', count: header.models.length,
            message: `active models: ${header.models.map((m) => `${m.id}@${m.version}`).join(', ') || 'none'}` });
        }
        this.#models = header.models;
        return header.models;
      } finally {
        this.#listing = undefined;
      }
    })();
    return this.#listing;
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
