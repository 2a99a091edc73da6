import { orthancInstanceId } from '../core/branded-ids';
import { errorFields } from '../core/log-event';
import type { OrthancRest } from '../sdk';
import type { InstanceJobs } from './instance-jobs';
import type { NewInstanceChange } from './job';
import type { Logger } from './logger';

const POKE_COALESCE_MS = 250;

export interface ChangeFollowerOptions {
  readonly batchSize: number;
  readonly pollMs: number;
  readonly processExistingInstances: boolean;
  /** Unix seconds when Orthanc loaded the plugin (hello frame). */
  readonly pluginLoadedAt: number;
}

/**
 * Follows Orthanc's change log, the source of truth. Notifications from the
 * plugin only wake it up; what counts is /changes?since=<cursor>, so an
 * instance stored while the gateway was down (or a notification dropped) is
 * still found, and a job's key (the instance id, unique per kind) makes it happen once.
 */
export class ChangeFollower {
  readonly #orthanc: OrthancRest;
  readonly #store: InstanceJobs;
  readonly #options: ChangeFollowerOptions;
  readonly #log: Logger;
  readonly #onNewJobs: () => void;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #soon: NodeJS.Timeout | undefined;

  /** Orthanc series ids of StableSeries changes, in log order, after their page is recorded. */
  onStableSeries: (orthancSeriesIds: readonly string[]) => void = () => undefined;

  constructor(orthanc: OrthancRest, store: InstanceJobs, options: ChangeFollowerOptions, log: Logger, onNewJobs: () => void) {
    this.#orthanc = orthanc;
    this.#store = store;
    this.#options = options;
    this.#log = log;
    this.#onNewJobs = onNewJobs;
  }

  /** Sets the cursor on a first start, then catches up and starts the safety poll. */
  async start(): Promise<void> {
    const cursor = await this.#store.changeCursor();
    if (cursor === undefined) {
      const start = this.#options.processExistingInstances ? 0 : await this.#lastChangeBefore(this.#options.pluginLoadedAt);
      await this.#store.recordChanges([], start);
      this.#log.info('change-log-first-start', { stage: 'change-follower', sequence: start, message: `first start: following Orthanc's change log after sequence ${start}` });
    } else {
      this.#log.info('change-log-resumed', { stage: 'change-follower', sequence: cursor, message: `resuming Orthanc's change log after sequence ${cursor}` });
    }
    await this.poke();
    this.#schedulePoll();
  }

  /**
   * Catch up a moment from now: during a burst of stores one read of
   * /changes covers many notifications instead of competing with each store
   * for Orthanc's database.
   */
  pokeSoon(): void {
    if (this.#soon !== undefined || this.#stopped) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.poke();
    }, POKE_COALESCE_MS);
    this.#soon.unref();
  }

  /** Catch up now; overlapping pokes coalesce into one more round. */
  poke(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#soon !== undefined) clearTimeout(this.#soon);
    await this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#catchUp();
      } catch (error) {
        // Orthanc busy or the socket briefly gone: the next poke or poll retries.
        this.#log.warn('change-log-read-failed', { stage: 'change-follower', ...errorFields(error), message: `reading Orthanc's change log failed: ${errorFields(error).message}` });
        return;
      }
    } while (this.#shouldRepeat());
  }

  async #catchUp(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const since = (await this.#store.changeCursor()) ?? 0;
      const page = await this.#orthanc.changes(since, this.#options.batchSize);
      const fresh: NewInstanceChange[] = page.Changes
        .filter((c) => c.ChangeType === 'NewInstance' && c.ResourceType === 'Instance' && c.Seq > since)
        .map((c) => ({ seq: c.Seq, instanceId: orthancInstanceId(c.ID) }));
      const last = page.Changes.reduce((max, c) => Math.max(max, c.Seq), since);
      const cursor = page.Done ? Math.max(last, page.Last) : last;
      if (cursor > since || fresh.length > 0) {
        const created = await this.#store.recordChanges(fresh, cursor);
        if (created > 0) this.#onNewJobs();
      }
      const stable = page.Changes.filter((c) => c.ChangeType === 'StableSeries' && c.Seq > since).map((c) => c.ID);
      if (stable.length > 0) this.onStableSeries(stable);
      if (page.Done || page.Changes.length === 0) return;
    }
  }

  /**
   * The last change recorded before Orthanc loaded the plugin: what "existing
   * instances" means. Anything stored while the gateway was still starting
   * comes after it and is processed. Binary search, since /changes only reads
   * forwards: about log2(changes) small requests, once per installation.
   */
  async #lastChangeBefore(unixSeconds: number): Promise<number> {
    const last = (await this.#orthanc.lastChange()).Last;
    // Orthanc stamps changes in UTC as YYYYMMDDTHHMMSS; same-second changes
    // count as new (processing one extra instance is harmless, missing one is not).
    const threshold = new Date(unixSeconds * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    let low = 0;
    let high = last;
    while (low < high) {
      const middle = Math.floor((low + high + 1) / 2);
      const [change] = (await this.#orthanc.changes(middle - 1, 1)).Changes;
      if (change !== undefined && change.Date < threshold) low = change.Seq;
      else high = middle - 1;
    }
    return low;
  }

  // A method, not an inline test: both flags change while #catchUp awaits.
  #shouldRepeat(): boolean {
    return this.#again && !this.#stopped;
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.poke().finally(() => { this.#schedulePoll(); });
    }, this.#options.pollMs);
    this.#timer.unref();
  }
}
