/**
 * The project's one retry policy: exponential backoff from a first delay,
 * capped, and quarantine after `maxAttempts` attempts (AiBridge.MaxAttempts,
 * AiBridge.RetryBackoffSeconds).
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/** An hour: a longer outage is one an administrator sees on the dashboard before the next try. */
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

export function retryPolicyFromConfig(config: { readonly MaxAttempts: number; readonly RetryBackoffSeconds: number }): RetryPolicy {
  return { maxAttempts: config.MaxAttempts, firstDelayMs: config.RetryBackoffSeconds * 1000, maxDelayMs: MAX_RETRY_DELAY_MS };
}

/** Wait before the next try after `attempts` failed attempts (1 → firstDelayMs, then doubling). */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.firstDelayMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs);
}
