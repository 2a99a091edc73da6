/**
 * While Orthanc is receiving a burst of instances, the pipeline waits: its
 * reads of Orthanc's database and disk would otherwise stretch every store.
 * Work starts once the burst has been quiet for `quietMs`, or after
 * `maxDeferMs` of continuous ingest at the latest, so results never starve.
 * A lone instance (the first after a quiet period) is not a burst: it goes
 * at once, so a single image gets its result without waiting `quietMs`.
 */
export class IngestYield {
  readonly #quietMs: number;
  readonly #maxDeferMs: number;
  readonly #now: () => number;
  #lastStoreAt = Number.NEGATIVE_INFINITY;
  #burstStartedAt = Number.NEGATIVE_INFINITY;
  #storesInBurst = 0;
  #ownStoresExpected = 0;
  #ownStoresUntil = Number.NEGATIVE_INFINITY;

  constructor(quietMs: number, maxDeferMs: number, now: () => number = Date.now) {
    this.#quietMs = quietMs;
    this.#maxDeferMs = maxDeferMs;
    this.#now = now;
  }

  /**
   * The bridge is about to store `count` instances itself (its results): they
   * are not ingest, so the next `count` stores within `windowMs` do not count.
   */
  expectOwnStores(count: number, windowMs = 10_000): void {
    this.#ownStoresExpected += count;
    this.#ownStoresUntil = this.#now() + windowMs;
  }

  /** A new instance arrived in Orthanc. */
  noteStore(): void {
    const now = this.#now();
    if (this.#ownStoresExpected > 0 && now <= this.#ownStoresUntil) {
      this.#ownStoresExpected--;
      return;
    }
    this.#ownStoresExpected = 0;
    if (now - this.#lastStoreAt >= this.#quietMs) {
      this.#burstStartedAt = now;
      this.#storesInBurst = 0;
    }
    this.#storesInBurst++;
    this.#lastStoreAt = now;
  }

  /** Whether instances are arriving in a burst now (two or more within the quiet period). */
  inBurst(): boolean {
    return this.#quietMs > 0 && this.#storesInBurst >= 2 && this.#now() - this.#lastStoreAt < this.#quietMs;
  }

  /** Milliseconds to hold new work back; 0 means start now. */
  delay(): number {
    if (this.#quietMs === 0 || this.#storesInBurst < 2) return 0;
    const now = this.#now();
    const untilQuiet = this.#lastStoreAt + this.#quietMs - now;
    const untilCap = this.#burstStartedAt + this.#maxDeferMs - now;
    if (untilQuiet <= 0 || untilCap <= 0) return 0;
    return Math.ceil(Math.min(untilQuiet, untilCap));
  }
}
