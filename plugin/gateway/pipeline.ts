import { AiBridgeError } from '../core/ai-bridge-error';
import { errorFields } from '../core/log-event';
import type { AuditEntry, AuditLog } from './audit-log';
import type { IngestYield } from './ingest-yield';
import type { Logger } from './logger';
import type { InstanceFacts } from './job';
import type { FailureResult, WorkQueue } from './work-queue/work-queue';
import type { RunSummary, WorkFailure, WorkItem } from './work-queue/work-item';

/** What a stage hands on: facts to keep on the job, and an outcome when the job ends here. */
export interface StageResult<Facts = InstanceFacts> {
  readonly facts?: Facts;
  /** Set by the last stage that ran: the job's outcome. */
  readonly outcome?: string;
  /** The job ends here, done (e.g. the instance was deleted from Orthanc meanwhile). */
  readonly final?: boolean;
}

/** One unit of queued work (an instance job, an annotation), as its queue hands it out. */
export interface QueuedWork {
  readonly id: number;
  readonly attempts: number;
}

/**
 * The durable queue a pipeline drains: one kind of the work queue, with the
 * kind's own item type. Claims carry a lease the pipeline renews while the
 * unit runs; a run's stages, facts and end are written in one transaction
 * (complete / fail); fail applies the one retry policy (work-queue/retry-policy.ts).
 */
export interface PipelineQueue<T extends QueuedWork> {
  claim(owner: string, leaseMs: number): Promise<T | undefined>;
  heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean>;
  complete(item: T, owner: string, outcome: string, run: RunSummary): Promise<void>;
  fail(item: T, owner: string, failure: WorkFailure, run: RunSummary): Promise<FailureResult>;
  /** Epoch ms when the next item becomes due (or a lease runs out). */
  nextDueAt(): Promise<number | undefined>;
}

/** One kind of the work queue as a pipeline's queue, its items turned into the kind's type. */
export function kindQueue<T extends QueuedWork>(queue: WorkQueue, kind: string, toWork: (item: WorkItem) => T): PipelineQueue<T> {
  return {
    claim: async (owner, leaseMs) => {
      const item = await queue.claim(kind, owner, leaseMs);
      return item === undefined ? undefined : toWork(item);
    },
    heartbeat: (id, owner, leaseMs) => queue.heartbeat(id, owner, leaseMs),
    complete: (item, owner, outcome, run) => queue.complete(item.id, owner, outcome, run),
    fail: (item, owner, failure, run) => queue.fail(item.id, owner, failure, run),
    nextDueAt: () => queue.nextDueAt(kind),
  };
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
  /** Units run at once while instances arrive in a burst (IngestYield); absent: 0, none until the burst is quiet. */
  readonly burstConcurrency?: number;
  /** Prefix of the audit events: "job" gives job-done / job-quarantined. */
  readonly auditPrefix: string;
  /** This gateway's lease owner name (work-queue/node-name.ts). */
  readonly owner: string;
  /** Lease length; renewed every third of it while a unit runs, so only a dead node's leases run out. */
  readonly leaseMs: number;
}

/** After a failed claim (the database briefly unreachable), the next try. */
const CLAIM_RETRY_MS = 1000;

/**
 * Runs due work through the stages, `concurrency` at a time, each unit under
 * a lease of this gateway. How a failure ends (retry with backoff, or
 * quarantine with the reason) is the work queue's one retry policy; no
 * outcome is silent: each lands in the unit's record and the audit log.
 */
export class Pipeline<T extends QueuedWork, Work, Facts extends object> {
  readonly #queue: PipelineQueue<T>;
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
  #claiming = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #running = new Set<Promise<void>>();

  constructor(
    queue: PipelineQueue<T>, stages: readonly PipelineStage<T, Work, Facts>[], options: PipelineOptions, log: Logger, audit: AuditLog,
    ingestYield: IngestYield, onSettled: () => void, newWork: () => Work, subject: (item: T) => WorkSubject,
  ) {
    this.#newWork = newWork;
    this.#subject = subject;
    this.#yield = ingestYield;
    this.#queue = queue;
    this.#stages = stages;
    this.#options = options;
    this.#log = log;
    this.#audit = audit;
    this.#onSettled = onSettled;
  }

  get active(): number {
    return this.#active;
  }

  /** Starts as many due units as there are free slots; call whenever work may have arrived. */
  kick(): void {
    if (this.#stopped) return;
    // One claimer at a time per pipeline: a kick during a claim round asks for one more round.
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = true;
    void this.#fill().finally(() => {
      this.#claiming = false;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Lets running units finish (they are idempotent, so a cut-off one reruns on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    while (this.#claiming) await new Promise((resolve) => setImmediate(resolve));
    await Promise.allSettled([...this.#running]);
  }

  async #fill(): Promise<void> {
    // During a burst of stores only `burstConcurrency` units run (the instance pipeline keeps one lane, so
    // de-identification keeps pace without taking Orthanc's disk and index from its store path); full
    // concurrency comes back when the burst is quiet or after MaxYieldSeconds.
    const wait = this.#yield.delay();
    const limit = wait > 0 ? Math.min(this.#options.concurrency, this.#options.burstConcurrency ?? 0) : this.#options.concurrency;
    try {
      while (this.#active < limit && !this.#stopped) {
        const item = await this.#queue.claim(this.#options.owner, this.#options.leaseMs);
        if (item === undefined) break;
        this.#active++;
        const run = this.#process(item).finally(() => {
          this.#active--;
          this.#running.delete(run);
          this.#onSettled();
          this.kick();
        });
        this.#running.add(run);
      }
      if (wait > 0) this.#armTimer(wait);
      // At the limit a settling unit kicks again; below it, wake when the next retry or lease is due.
      else if (this.#active < limit) await this.#armRetryTimer();
    } catch (error) {
      this.#log.warn('claim-failed', { stage: this.#options.auditPrefix, ...errorFields(error), message: `claiming work failed, tried again in ${CLAIM_RETRY_MS} ms: ${errorText(error)}` });
      this.#armTimer(CLAIM_RETRY_MS);
    }
  }

  async #process(item: T): Promise<void> {
    let outcome = 'no stage ran';
    const work = this.#newWork();
    const stages: { stage: string; ms: number }[] = [];
    const facts: Facts[] = [];
    const heartbeat = setInterval(() => { void this.#renew(item); }, Math.max(1000, Math.floor(this.#options.leaseMs / 3)));
    heartbeat.unref();
    try {
      try {
        for (const stage of this.#stages) {
          const started = performance.now();
          stages.push({ stage: stage.name, ms: 0 });
          const result = await stage.run(item, work);
          stages[stages.length - 1] = { stage: stage.name, ms: Math.round(performance.now() - started) };
          if (result.facts !== undefined) facts.push(result.facts);
          if (result.outcome !== undefined) outcome = result.outcome;
          if (result.final === true) break;
        }
      } catch (error) {
        clearInterval(heartbeat);
        await this.#fail(item, summary(stages, facts), error);
        return;
      }
      clearInterval(heartbeat);
      await this.#queue.complete(item, this.#options.owner, outcome, summary(stages, facts));
      this.#audit.append({ event: `${this.#options.auditPrefix}-done`, ...this.#subject(item).audit, detail: outcome });
    } catch (error) {
      // The end could not be written: a lease another node took over (its result stands), or the database.
      // Either way the unit is not lost: its lease runs out and it is claimed again.
      clearInterval(heartbeat);
      this.#log.warn(`${this.#options.auditPrefix}-end-not-recorded`, { ...logSubject(this.#subject(item)), ...errorFields(error), message: `${this.#subject(item).label}: its end was not recorded: ${errorText(error)}` });
    }
  }

  async #renew(item: T): Promise<void> {
    try {
      if (!await this.#queue.heartbeat(item.id, this.#options.owner, this.#options.leaseMs)) {
        this.#log.warn(`${this.#options.auditPrefix}-lease-lost`, { ...logSubject(this.#subject(item)), code: 'AIB_QUEUE_LEASE_LOST', message: `${this.#subject(item).label}: lease lost to another owner; its result will not be recorded` });
      }
    } catch (error) {
      this.#log.warn(`${this.#options.auditPrefix}-lease-not-renewed`, { ...logSubject(this.#subject(item)), ...errorFields(error), message: `${this.#subject(item).label}: lease not renewed: ${errorText(error)}` });
    }
  }

  async #fail(item: T, run: RunSummary, error: unknown): Promise<void> {
    const subject = this.#subject(item);
    const known = error instanceof AiBridgeError;
    // Unknown exceptions are bugs, not bad data: retried rather than quarantined.
    const failure: WorkFailure = {
      code: known ? error.code : 'AIB_JOB_UNEXPECTED', message: error instanceof Error ? error.message : String(error), transient: known ? error.transient : true,
    };
    const result = await this.#queue.fail(item, this.#options.owner, failure, run);
    const stage = run.stages[run.stages.length - 1]?.stage;
    if (result.state === 'retrying') {
      const retryInSeconds = Math.round((result.retryAt - Date.now()) / 1000);
      this.#log.warn(`${this.#options.auditPrefix}-retry`, { ...logSubject(subject), stage, code: failure.code, attempt: item.attempts, retryInSeconds,
        message: `${subject.label} attempt ${item.attempts} failed, retry in ${retryInSeconds} s: ${failure.code}: ${failure.message}` });
      return;
    }
    this.#audit.append({ event: `${this.#options.auditPrefix}-quarantined`, ...subject.audit, detail: `${result.code}: ${result.message}` });
    this.#log.error(`${this.#options.auditPrefix}-quarantined`, { ...logSubject(subject), stage, code: result.code,
      attempt: item.attempts, message: `${subject.label} quarantined: ${result.code}: ${result.message}` });
  }

  async #armRetryTimer(): Promise<void> {
    const next = await this.#queue.nextDueAt();
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

/** A run's record: its stages (the last is where it ended) and its facts merged, in order. */
function summary(stages: readonly { stage: string; ms: number }[], facts: readonly object[]): RunSummary {
  return facts.length === 0 ? { stages } : { stages, payload: Object.assign({}, ...facts) as Record<string, unknown> };
}

function errorText(error: unknown): string {
  return error instanceof AiBridgeError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
}
