/**
 * Token buckets keyed by caller (an address, a token): each key earns
 * `ratePerSecond` requests per second up to `burst`; a request with no token
 * left is refused with the seconds until one is earned (Retry-After). Kept in
 * memory: a restart forgives everyone, which is harmless for a limit whose
 * job is to keep one caller from starving the others or filling the disk.
 */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

interface Bucket { tokens: number; at: number }

/** Idle keys are forgotten once full again; past this many keys the oldest go first, so memory stays bounded. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(readonly limit: RateLimit, readonly now: () => number = Date.now) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new Error(`a rate limit needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
  }

  /** null when the request may go ahead (one token taken), else the whole seconds to wait. */
  take(key: string): number | null {
    const now = this.now();
    const bucket = this.#refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerSecond));
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refill(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_KEYS) this.#prune(now);
      bucket = { tokens: this.limit.burst, at: now };
    } else {
      this.#buckets.delete(key);
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.ratePerSecond);
      bucket.at = now;
    }
    // Re-inserted: the Map's order is least recently used first.
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const full = bucket.tokens + ((now - bucket.at) / 1000) * this.limit.ratePerSecond >= this.limit.burst;
      if (full || this.#buckets.size >= MAX_KEYS) this.#buckets.delete(key);
      if (this.#buckets.size < MAX_KEYS / 2) return;
    }
  }
}
