import { AiBridgeError } from '../core/ai-bridge-error';
import type { AuditLog } from './audit-log';
import type { IngestYield } from './ingest-yield';
import type { Job, JobStore } from './job';
import type { Logger } from './logger';
import type { JobWork, Stage } from './stages/stage';

export interface PipelineOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly retryBackoffMs: number;
}

const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Runs due jobs through the stages, `concurrency` at a time. Transient
 * failures are retried with exponential backoff; permanent ones, and
 * transient ones past MaxAttempts, end in quarantine with the reason. No
 * outcome is silent: each lands in the job record and the audit log.
 */
export class Pipeline {
  readonly #store: JobStore;
  readonly #stages: readonly Stage[];
  readonly #options: PipelineOptions;
  readonly #log: Logger;
  readonly #audit: AuditLog;
  readonly #onSettled: () => void;
  readonly #yield: IngestYield;
  #active = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #running = new Set<Promise<void>>();

  constructor(
    store: JobStore, stages: readonly Stage[], options: PipelineOptions, log: Logger, audit: AuditLog,
    ingestYield: IngestYield, onSettled: () => void,
  ) {
    this.#yield = ingestYield;
    this.#store = store;
    this.#stages = stages;
    this.#options = options;
    this.#log = log;
    this.#audit = audit;
    this.#onSettled = onSettled;
  }

  get active(): number {
    return this.#active;
  }

  /** Starts as many due jobs as there are free slots; call whenever work may have arrived. */
  kick(): void {
    if (this.#stopped) return;
    const wait = this.#yield.delay();
    if (wait > 0) {
      this.#armTimer(wait);
      return;
    }
    while (this.#active < this.#options.concurrency) {
      const job = this.#store.claimNext(Date.now());
      if (job === undefined) break;
      this.#active++;
      const run = this.#process(job).finally(() => {
        this.#active--;
        this.#running.delete(run);
        this.#onSettled();
        this.kick();
      });
      this.#running.add(run);
    }
    this.#armRetryTimer();
  }

  /** Lets running jobs finish (they are idempotent, so a cut-off one reruns on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  async #process(job: Job): Promise<void> {
    let outcome = 'no stage ran';
    const work: JobWork = {};
    try {
      for (const stage of this.#stages) {
        this.#store.setStage(job.id, stage.name);
        const result = await stage.run(job, work);
        if (result.facts !== undefined) this.#store.recordFacts(job.id, result.facts);
        if (result.outcome !== undefined) outcome = result.outcome;
        if (result.final === true) break;
      }
      this.#store.complete(job.id, outcome);
      this.#audit.append({ event: 'job-done', jobId: job.id, instanceId: job.instanceId, detail: outcome });
    } catch (error) {
      this.#fail(job, error);
    }
  }

  #fail(job: Job, error: unknown): void {
    const known = error instanceof AiBridgeError;
    const code = known ? error.code : 'AIB_JOB_UNEXPECTED';
    const message = error instanceof Error ? error.message : String(error);
    // Unknown exceptions are bugs, not bad data: retry them rather than quarantine.
    const transient = known ? error.transient : true;
    if (transient && job.attempts < this.#options.maxAttempts) {
      const delay = Math.min(this.#options.retryBackoffMs * 2 ** (job.attempts - 1), MAX_BACKOFF_MS);
      this.#store.scheduleRetry(job.id, Date.now() + delay, code, message);
      this.#log.warn(`job ${job.id} (instance ${job.instanceId}) attempt ${job.attempts} failed, retry in ${Math.round(delay / 1000)} s: ${code}: ${message}`);
      return;
    }
    const finalCode = transient ? 'AIB_JOB_ATTEMPTS_EXHAUSTED' : code;
    const finalMessage = transient ? `${job.attempts} attempts failed; last: ${code}: ${message}` : message;
    this.#store.quarantine(job.id, finalCode, finalMessage);
    this.#audit.append({ event: 'job-quarantined', jobId: job.id, instanceId: job.instanceId, detail: `${finalCode}: ${finalMessage}` });
    this.#log.error(`job ${job.id} (instance ${job.instanceId}) quarantined: ${finalCode}: ${finalMessage}`);
  }

  #armRetryTimer(): void {
    const next = this.#store.nextRetryAt();
    if (next === undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#armTimer(Math.max(50, next - Date.now()));
  }

  #armTimer(delay: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { this.#timer = undefined; this.kick(); }, Math.min(delay, 2 ** 31 - 1));
    this.#timer.unref();
  }
}
