import { MetricsType, type SdkClient } from '../sdk';
import type { InstanceJobs } from './instance-jobs';

/** A busy pipeline's metrics are at most this old. */
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 60_000;
/** Counting may take this share of one core at most (1 %): the delay is this many times the count's cost. */
const COST_FACTOR = 100;

/**
 * The delay before the next round, from what counting cost this time. The
 * counts read every job the queue keeps (done ones too, never pruned), so
 * their cost grows with the site's history: 0.6 ms at 10,000 jobs, 6.7 ms at
 * 100,000 (SQLite, 2 CPUs); a fixed 0.5 s period would make it the gateway's
 * largest cost after a few million.
 */
export function nextPublishDelayMs(countMs: number): number {
  return Math.min(MAX_DELAY_MS, Math.max(MIN_DELAY_MS, Math.ceil(countMs * COST_FACTOR)));
}

/**
 * Publishes job counts into Orthanc's /tools/metrics-prometheus. Counts come
 * from the store, so they are right after a restart too; publishing is
 * throttled because a busy pipeline settles many jobs a second, and only the
 * values that changed since Orthanc last took them are sent (most rounds
 * move two or three of the nine).
 */
export class MetricsPublisher {
  readonly #sdk: SdkClient;
  readonly #store: InstanceJobs;
  #pending: NodeJS.Timeout | undefined;
  readonly #interval: NodeJS.Timeout;
  /** What Orthanc holds now, as far as this process set it. */
  readonly #published = new Map<string, number>();
  #delayMs = MIN_DELAY_MS;

  constructor(sdk: SdkClient, store: InstanceJobs) {
    this.#sdk = sdk;
    this.#store = store;
    this.#interval = setInterval(() => { this.publishSoon(); }, 10_000);
    this.#interval.unref();
  }

  publishSoon(): void {
    if (this.#pending !== undefined) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      void this.#publish();
    }, this.#delayMs);
    this.#pending.unref();
  }

  stop(): void {
    clearInterval(this.#interval);
    if (this.#pending !== undefined) clearTimeout(this.#pending);
  }

  async #publish(): Promise<void> {
    let counts;
    let cursor;
    try {
      const started = performance.now();
      counts = await this.#store.countsByState();
      cursor = (await this.#store.changeCursor()) ?? 0;
      // Wall time, its wait for the database included: under load the metrics are spaced out too.
      this.#delayMs = nextPublishDelayMs(performance.now() - started);
    } catch {
      // The database briefly unreachable: the next round publishes.
      return;
    }
    const values: [string, number][] = [
      ...Object.entries(counts).map(([state, n]): [string, number] => [`aibridge_jobs_${state}`, n]),
      ['aibridge_queue_depth', counts.queued + counts.running + counts.retrying],
      ['aibridge_change_cursor', cursor],
    ];
    for (const [name, value] of values) {
      if (this.#published.get(name) === value) continue;
      this.#published.set(name, value);
      // Socket down: forgotten, so the next round sends it again.
      this.#sdk.setMetricsValue(name, value, MetricsType.Default).catch(() => { this.#published.delete(name); });
    }
  }
}
