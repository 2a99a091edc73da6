import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { DeletedInstancesView } from '../core/admin-api';
import { orthancInstanceId, type OrthancInstanceId } from '../core/branded-ids';
import { errorFields } from '../core/log-event';
import type { OrthancRest } from '../sdk';
import type { AuditLog } from './audit-log';
import type { IngestYield } from './ingest-yield';
import type { InstanceJobs } from './instance-jobs';
import type { Job } from './job';
import type { Logger } from './logger';
import { callForInstance } from './stages/instance-call';

export interface DeletedInstancesOptions {
  readonly orthanc: OrthancRest;
  readonly store: InstanceJobs;
  readonly audit: AuditLog;
  readonly log: Logger;
  /** The de-identified store the jobs' deidPath is relative to. */
  readonly deidDirectory: string;
  /** The start-up check steps aside while Orthanc is storing a burst. */
  readonly ingestYield: IngestYield;
  /** How often a deletion whose job is still running is tried again. */
  readonly pendingRetryMs?: number;
}

/** How the deletion came to be known: Orthanc's change callback, or the check of settled jobs at start. */
type Source = 'signal' | 'start-up check';

const CHECK_PAGE = 200;

/**
 * Follows Orthanc's deletions. An instance deleted from Orthanc (a user in
 * Orthanc Explorer or the REST API, a housekeeping script, or Orthanc's own
 * recycling under MaximumStorageSize / MaximumPatientCount) takes with it its
 * de-identified copy in deid/ and its job: the copy would otherwise outlive
 * the original (disk the administrator set Orthanc to free, and data the
 * hospital erased), and a forgotten job lets the instance be processed anew
 * when it is sent again. The audit log keeps the record.
 *
 * Orthanc signals a deletion once, to the process that is running, and keeps
 * no trace in /changes; so at start the settled jobs are checked against
 * Orthanc once, to catch what was deleted while the gateway was down (or the
 * plugin disabled). The vault keeps the instance's mapping: pseudonyms must
 * stay the same if the instance comes back.
 */
export class DeletedInstances {
  readonly #options: DeletedInstancesOptions;
  readonly #pending = new Set<OrthancInstanceId>();
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #forgotten = 0;
  #check: { state: 'running' | 'done' | 'failed'; checked: number; forgotten: number; finishedAt: string | null } =
    { state: 'running', checked: 0, forgotten: 0, finishedAt: null };

  constructor(options: DeletedInstancesOptions) {
    this.#options = options;
  }

  /** Orthanc deleted this instance (its change callback): forget it now, or once its job settles. */
  noteDeleted(instanceId: string): void {
    void this.#enqueue(async () => { await this.#forget(orthancInstanceId(instanceId), 'signal'); });
  }

  /**
   * Walks the settled jobs, oldest first, and forgets those whose instance
   * Orthanc no longer has. Runs in the background after start; the number of
   * jobs forgotten.
   */
  async checkSettled(): Promise<number> {
    try {
      const forgotten = await this.#checkSettled();
      this.#check = { ...this.#check, state: 'done', finishedAt: new Date().toISOString() };
      return forgotten;
    } catch (error) {
      this.#check = { ...this.#check, state: 'failed', finishedAt: new Date().toISOString() };
      throw error;
    }
  }

  /** What /ai-bridge/health shows. */
  view(): DeletedInstancesView {
    return { forgotten: this.#forgotten, waiting: this.#pending.size, startupCheck: { ...this.#check } };
  }

  async #checkSettled(): Promise<number> {
    let forgotten = 0;
    let checked = 0;
    for (let after = 0; !this.#isStopped();) {
      const page = await this.#options.store.settledAfter(after, CHECK_PAGE);
      if (page.length === 0) break;
      for (const job of page) {
        if (this.#isStopped()) break;
        while (this.#options.ingestYield.inBurst() && !this.#isStopped()) await sleep(this.#options.ingestYield.delay());
        const present = await callForInstance(job.instanceId, () => this.#options.orthanc.dicomAttachment(job.instanceId));
        if (present === undefined) {
          await this.#enqueue(async () => { if (await this.#forget(job.instanceId, 'start-up check')) forgotten++; });
        }
        checked++;
        this.#check = { ...this.#check, checked, forgotten };
      }
      after = page[page.length - 1]?.id ?? after;
    }
    this.#options.log.info('deleted-instances-checked', {
      count: forgotten, stage: 'deleted-instances',
      message: `start-up check: ${checked} settled job(s) compared with Orthanc, ${forgotten} deleted from Orthanc meanwhile and forgotten with their de-identified copies`,
    });
    return forgotten;
  }

  /** Waits for the deletions under way (tests, and the gateway's stop). */
  async idle(): Promise<void> {
    for (let seen: Promise<void> | undefined; seen !== this.#chain;) {
      seen = this.#chain;
      await seen;
    }
  }

  /** Read through a call: stop() may flip it during any await of the check. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.idle();
  }

  /** One deletion at a time (a signal and the start-up check may name the same instance); settles when `work` has, failed or not. */
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(work).catch((error: unknown) => {
      const fields = errorFields(error);
      this.#options.log.warn('instance-deletion-failed', { ...fields, stage: 'deleted-instances',
        message: `following a deletion from Orthanc failed (the next start-up check tries again): ${fields.message}` });
    });
    return this.#chain;
  }

  /** True when a job was forgotten. */
  async #forget(instanceId: OrthancInstanceId, source: Source): Promise<boolean> {
    const { store } = this.#options;
    const job = await store.byInstance(instanceId);
    if (job === undefined) return false;
    if (job.state !== 'done' && job.state !== 'quarantined') {
      this.#later(instanceId);
      return false;
    }
    // The copy first: a stop before the job is forgotten leaves a job for the next check, never a copy nothing names.
    const copy = job.deidPath === null ? undefined : this.#copyPath(job);
    if (copy !== undefined) await rm(copy, { force: true });
    const result = await store.forgetDeleted(instanceId);
    if (result.state === 'in-flight') {
      this.#later(instanceId);
      return false;
    }
    this.#pending.delete(instanceId);
    if (result.state === 'absent') return false;
    if (source === 'signal') this.#forgotten++;
    const what = job.deidPath === null ? 'no de-identified copy to remove' : `de-identified copy ${job.deidPath} removed`;
    this.#options.audit.append({ event: 'instance-deleted', jobId: job.id, instanceId, detail: `deleted from Orthanc (${source}): ${what}, job forgotten` });
    this.#options.log.info('instance-deleted', { job: job.id, instance: instanceId, stage: 'deleted-instances',
      message: `instance ${instanceId} was deleted from Orthanc (${source}): job ${job.id} forgotten, ${what}` });
    return true;
  }

  /** The copy's path inside the de-identified store; a deidPath that leads outside it is left alone. */
  #copyPath(job: Job): string | undefined {
    const root = resolve(this.#options.deidDirectory);
    const path = resolve(root, job.deidPath ?? '');
    const inside = relative(root, path);
    return inside === '' || inside.startsWith('..') ? undefined : path;
  }

  /** The job is still running: its end may write a copy, so try again once it has settled. */
  #later(instanceId: OrthancInstanceId): void {
    this.#pending.add(instanceId);
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const ids = [...this.#pending];
      this.#pending.clear();
      for (const id of ids) void this.#enqueue(async () => { await this.#forget(id, 'signal'); });
    }, this.#options.pendingRetryMs ?? 1000);
    this.#timer.unref();
  }
}
