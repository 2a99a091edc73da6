import { MetricsType, type SdkClient } from '../sdk';
import type { InstanceJobs } from './instance-jobs';

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
    }, 500);
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
      counts = await this.#store.countsByState();
      cursor = (await this.#store.changeCursor()) ?? 0;
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
