/**
 * Token buckets keyed by caller (an address, a token): each key earns
 * `ratePerSecond` requests per second up to `burst`; a request with no token
 * left is refused with the seconds until one is earned (Retry-After). Kept in
 * memory: a restart forgives everyone, which is harmless for a limit whose
 * job is to keep one caller from starving the others or filling the disk.
 */
import { LRUCache } from 'lru-cache';

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

interface Bucket { tokens: number; at: number }

/** Past this many keys the least recently seen go first, so memory stays bounded. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  readonly #buckets: LRUCache<string, Bucket>;

  constructor(readonly limit: RateLimit, readonly now: () => number = Date.now) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new Error(`a rate limit needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
    // A key left alone long enough to earn a whole burst has a full bucket: forgetting it then (its
    // ttl) changes nothing for its caller, who would start from a full bucket anyway.
    this.#buckets = new LRUCache({ max: MAX_KEYS, ttl: Math.ceil((limit.burst / limit.ratePerSecond) * 1000), perf: { now } });
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
      // Full: forget the idle keys before the least recently seen one that may still be limited.
      if (this.#buckets.size >= MAX_KEYS) this.#buckets.purgeStale();
      bucket = { tokens: this.limit.burst, at: now };
    } else {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.ratePerSecond);
      bucket.at = now;
    }
    // Set again: its ttl counts from this request.
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
