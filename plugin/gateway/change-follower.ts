import { orthancInstanceId } from '../core/branded-ids';
import { errorFields } from '../core/log-event';
import type { OrthancRest } from '../sdk';
import type { InstanceJobs } from './instance-jobs';
import type { NewInstanceChange } from './job';
import type { Logger } from './logger';
import { followerLock, type FollowerLock } from './work-queue/follower-lock';

const POKE_COALESCE_MS = 250;

export interface ChangeFollowerOptions {
  readonly batchSize: number;
  readonly pollMs: number;
  readonly processExistingInstances: boolean;
  /** Unix seconds when Orthanc loaded the plugin (hello frame). */
  readonly pluginLoadedAt: number;
  /** Several nodes on one PostgreSQL database: only the holder follows (default: always, one gateway on SQLite). */
  readonly lock?: FollowerLock;
}

/**
 * Follows Orthanc's change log, the source of truth. Notifications from the
 * plugin only wake it up; what counts is /changes?since=<cursor>, so an
 * instance stored while the gateway was down (or a notification dropped) is
 * still found, and a job's key (the instance id, unique per kind) makes it happen once.
 * With several nodes, one follows at a time (the FollowerLock holder); the
 * others nudge it when their Orthanc stored something, keep polling, and
 * take over when the holder's session ends.
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
  readonly #lock: FollowerLock;
  #leading = false;
  #standingDown = false;

  /** Orthanc series ids of StableSeries changes, in log order, after their page is recorded. */
  onStableSeries: (orthancSeriesIds: readonly string[]) => void = () => undefined;

  constructor(orthanc: OrthancRest, store: InstanceJobs, options: ChangeFollowerOptions, log: Logger, onNewJobs: () => void) {
    this.#orthanc = orthanc;
    this.#store = store;
    this.#options = options;
    this.#log = log;
    this.#onNewJobs = onNewJobs;
    this.#lock = options.lock ?? followerLock({ Backend: 'sqlite' });
    this.#lock.onNudge(() => { this.pokeSoon(); });
  }

  /** Whether this node follows the change log now. */
  get leading(): boolean {
    return this.#leading && this.#lock.held;
  }

  /** A draining node stops following and hands the lock to another node; resume() takes part again. */
  async standDown(): Promise<void> {
    this.#standingDown = true;
    await this.#running;
    this.#leading = false;
    await this.#lock.release();
  }

  resume(): void {
    this.#standingDown = false;
    void this.poke();
  }

  /** Catches up (once this node holds the follower lock) and starts the safety poll. */
  async start(): Promise<void> {
    await this.poke();
    this.#schedulePoll();
  }

  /** Sets the cursor on a first start; says where following resumes. */
  async #startFollowing(): Promise<void> {
    const cursor = await this.#store.changeCursor();
    if (cursor === undefined) {
      const start = this.#options.processExistingInstances ? 0 : await this.#lastChangeBefore(this.#options.pluginLoadedAt);
      await this.#store.recordChanges([], start);
      this.#log.info('change-log-first-start', { stage: 'change-follower', sequence: start, message: `first start: following Orthanc's change log after sequence ${start}` });
    } else {
      this.#log.info('change-log-resumed', { stage: 'change-follower', sequence: cursor, message: `resuming Orthanc's change log after sequence ${cursor}` });
    }
  }

  /** True when this node may follow now: it holds the lock (taking it if free). Otherwise the follower hears of this node's stores. */
  async #lead(): Promise<boolean> {
    if (this.#standingDown || !await this.#lock.tryAcquire()) {
      this.#leading = false;
      await this.#lock.nudge();
      return false;
    }
    if (!this.#leading) {
      await this.#startFollowing();
      this.#leading = true;
    }
    return true;
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
    await this.#lock.release();
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        if (!await this.#lead()) return;
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
      // A lost session lost the lock: another node may follow already.
      if (this.#stopped || !this.#lock.held) return;
      const since = (await this.#store.changeCursor()) ?? 0;
      const page = await this.#orthanc.changes(since, this.#options.batchSize);
      const fresh: NewInstanceChange[] = page.Changes
        .filter((c) => c.ChangeType === 'NewInstance' && c.ResourceType === 'Instance' && c.Seq > since)
        .map((c) => ({ seq: c.Seq, instanceId: orthancInstanceId(c.ID) }));
      const last = page.Changes.reduce((max, c) => Math.max(max, c.Seq), since);
      const cursor = page.Done ? Math.max(last, page.Last) : last;
      if (cursor > since || fresh.length > 0) {
        const created = await this.#store.recordChanges(fresh, cursor);
        if (created > 0) {
          this.#onNewJobs();
          // The other nodes claim too: tell them (a lost notification only delays them until their next timer).
          await this.#lock.announceWork().catch(() => undefined);
        }
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
