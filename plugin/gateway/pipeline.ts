import { AiBridgeError } from '../core/ai-bridge-error';
import type { AuditEntry, AuditLog } from './audit-log';
import type { IngestYield } from './ingest-yield';
import type { Logger } from './logger';
import type { InstanceFacts } from './job';
import type { RunEnd, RunRecord, StageRun } from './run-record';

export type { RunEnd, RunRecord, StageRun } from './run-record';

/** What a stage hands on: facts to keep on the job, and an outcome when the job ends here. */
export interface StageResult<Facts = InstanceFacts> {
  readonly facts?: Facts;
  /** Set by the last stage that ran: the job's outcome. */
  readonly outcome?: string;
  /** The job ends here, done (e.g. the instance was deleted from Orthanc meanwhile). */
  readonly final?: boolean;
}

/** One unit of queued work (an instance job, an annotation), as a store hands it out. */
export interface QueuedWork<Id> {
  readonly id: Id;
  readonly attempts: number;
}

/** The durable queue a pipeline drains: the job store, the annotation store. */
export interface WorkQueue<T extends QueuedWork<T['id']>, Facts> {
  claimNext(now: number): T | undefined;
  /**
   * Optional: the whole run (stages reached, facts, and how it ended) in one
   * transaction with a bounded number of events, instead of one write per
   * stage. A store without it is told stage by stage.
   */
  finishRun?(id: T['id'], run: RunRecord<Facts>, end: RunEnd): void;
  setStage(id: T['id'], stage: string): void;
  recordFacts(id: T['id'], facts: Facts): void;
  complete(id: T['id'], outcome: string): void;
  scheduleRetry(id: T['id'], at: number, errorCode: string, message: string): void;
  quarantine(id: T['id'], errorCode: string, message: string): void;
  nextRetryAt(): number | undefined;
}

/**
 * One step of a unit's way through a pipeline. A stage is idempotent: after a
 * crash or a retry it runs again from the start. It throws AiBridgeError
 * (transient or not) to fail; anything else counts as transient, since a bug
 * fixed by a restart should not quarantine data.
 */
export interface PipelineStage<T, Work, Facts> {
  readonly name: string;
  run(item: T, work: Work): Promise<StageResult<Facts>>;
}

/** The ids of a unit of work as log fields (the audit's own ids, never a header value). */
function logSubject(subject: WorkSubject): { job?: number; instance?: string; annotation?: number } {
  const { jobId, instanceId, annotationId } = subject.audit;
  return { ...(jobId === undefined ? {} : { job: jobId }), ...(instanceId === undefined ? {} : { instance: instanceId }),
    ...(annotationId === undefined ? {} : { annotation: annotationId }) };
}

/** How logs and the audit log name a unit of work. */
export interface WorkSubject {
  readonly label: string;
  readonly audit: Omit<AuditEntry, 'event' | 'detail'>;
}

export interface PipelineOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly retryBackoffMs: number;
  /** Units run at once while instances arrive in a burst (IngestYield); absent: 0, none until the burst is quiet. */
  readonly burstConcurrency?: number;
  /** Prefix of the audit events: "job" gives job-done / job-quarantined. */
  readonly auditPrefix: string;
}

const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Runs due work through the stages, `concurrency` at a time. Transient
 * failures are retried with exponential backoff; permanent ones, and
 * transient ones past MaxAttempts, end in quarantine with the reason. No
 * outcome is silent: each lands in the job record and the audit log.
 */
export class Pipeline<T extends QueuedWork<T['id']>, Work, Facts> {
  readonly #store: WorkQueue<T, Facts>;
  readonly #stages: readonly PipelineStage<T, Work, Facts>[];
  readonly #newWork: () => Work;
  readonly #subject: (item: T) => WorkSubject;
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
    store: WorkQueue<T, Facts>, stages: readonly PipelineStage<T, Work, Facts>[], options: PipelineOptions, log: Logger, audit: AuditLog,
    ingestYield: IngestYield, onSettled: () => void, newWork: () => Work, subject: (item: T) => WorkSubject,
  ) {
    this.#newWork = newWork;
    this.#subject = subject;
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
    // During a burst of stores only `burstConcurrency` units run (the instance pipeline keeps one lane, so
    // de-identification keeps pace without taking Orthanc's disk and index from its store path); full
    // concurrency comes back when the burst is quiet or after MaxYieldSeconds.
    const wait = this.#yield.delay();
    const limit = wait > 0 ? Math.min(this.#options.concurrency, this.#options.burstConcurrency ?? 0) : this.#options.concurrency;
    while (this.#active < limit) {
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
    if (wait > 0) this.#armTimer(wait);
    else this.#armRetryTimer();
  }

  /** Lets running jobs finish (they are idempotent, so a cut-off one reruns on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  async #process(job: T): Promise<void> {
    let outcome = 'no stage ran';
    const work = this.#newWork();
    const batched = this.#store.finishRun !== undefined;
    const stages: StageRun[] = [];
    const facts: Facts[] = [];
    const run: RunRecord<Facts> = { stages, facts };
    try {
      for (const stage of this.#stages) {
        const started = performance.now();
        if (!batched) this.#store.setStage(job.id, stage.name);
        stages.push({ stage: stage.name, ms: 0 });
        const result = await stage.run(job, work);
        stages[stages.length - 1] = { stage: stage.name, ms: Math.round(performance.now() - started) };
        if (result.facts !== undefined) {
          if (batched) facts.push(result.facts);
          else this.#store.recordFacts(job.id, result.facts);
        }
        if (result.outcome !== undefined) outcome = result.outcome;
        if (result.final === true) break;
      }
      this.#end(job, run, { kind: 'done', outcome });
      this.#audit.append({ event: `${this.#options.auditPrefix}-done`, ...this.#subject(job).audit, detail: outcome });
    } catch (error) {
      this.#fail(job, run, error);
    }
  }

  /** Writes how the run ended: in one transaction when the store can, else call by call. */
  #end(job: T, run: RunRecord<Facts>, end: RunEnd): void {
    if (this.#store.finishRun !== undefined) {
      this.#store.finishRun(job.id, run, end);
      return;
    }
    if (end.kind === 'done') this.#store.complete(job.id, end.outcome);
    else if (end.kind === 'retry') this.#store.scheduleRetry(job.id, end.at, end.errorCode, end.message);
    else this.#store.quarantine(job.id, end.errorCode, end.message);
  }

  #fail(job: T, run: RunRecord<Facts>, error: unknown): void {
    const subject = this.#subject(job);
    const known = error instanceof AiBridgeError;
    const code = known ? error.code : 'AIB_JOB_UNEXPECTED';
    const message = error instanceof Error ? error.message : String(error);
    // Unknown exceptions are bugs, not bad data: retry them rather than quarantine.
    const transient = known ? error.transient : true;
    if (transient && job.attempts < this.#options.maxAttempts) {
      const delay = Math.min(this.#options.retryBackoffMs * 2 ** (job.attempts - 1), MAX_BACKOFF_MS);
      this.#end(job, run, { kind: 'retry', at: Date.now() + delay, errorCode: code, message });
      this.#log.warn(`${this.#options.auditPrefix}-retry`, { ...logSubject(subject), stage: run.stages[run.stages.length - 1]?.stage, code, attempt: job.attempts,
        retryInSeconds: Math.round(delay / 1000), message: `${subject.label} attempt ${job.attempts} failed, retry in ${Math.round(delay / 1000)} s: ${code}: ${message}` });
      return;
    }
    const finalCode = transient ? 'AIB_JOB_ATTEMPTS_EXHAUSTED' : code;
    const finalMessage = transient ? `${job.attempts} attempts failed; last: ${code}: ${message}` : message;
    this.#end(job, run, { kind: 'quarantined', errorCode: finalCode, message: finalMessage });
    this.#audit.append({ event: `${this.#options.auditPrefix}-quarantined`, ...subject.audit, detail: `${finalCode}: ${finalMessage}` });
    this.#log.error(`${this.#options.auditPrefix}-quarantined`, { ...logSubject(subject), stage: run.stages[run.stages.length - 1]?.stage, code: finalCode,
      attempt: job.attempts, message: `${subject.label} quarantined: ${finalCode}: ${finalMessage}` });
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
