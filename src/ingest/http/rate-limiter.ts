/**
 * Events per second per source, as a token bucket holding one second's worth: a burst up to
 * the rate passes, a sustained excess is refused with how long to wait.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes `n` events' worth for `key`; the seconds to wait when there is not enough. */
  take(key: string, n: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (this.perSecond <= 0) return { ok: true };
    const now = this.clock();
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= n) {
      bucket.tokens -= n;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((n - bucket.tokens) / this.perSecond)) };
  }
}
