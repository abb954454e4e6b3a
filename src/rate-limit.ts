/**
 * A token bucket per remote host, for admitting inbound connections: each host may open
 * `perSecond` connections a second on average, and as many at once (one second's worth).
 */

/** Hosts tracked at most; past it, the hosts whose buckets refilled are forgotten (they are as new). */
export const MAX_TRACKED_HOSTS = 10_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  at: number;
}

export class HostRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` 0 admits everything. */
  constructor(private readonly perSecond: number) {}

  /** Takes a token for `host`: true when the connection may proceed. */
  admit(host: string, now = Date.now()): boolean {
    if (this.perSecond === 0) return true;
    let bucket = this.buckets.get(host);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_HOSTS) this.forgetRefilled(now);
      bucket = { tokens: this.perSecond, at: now };
      this.buckets.set(host, bucket);
    } else {
      bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private forgetRefilled(now: number): void {
    for (const [host, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000 >= this.perSecond) this.buckets.delete(host);
    }
    // Every tracked host is busy (a distributed flood): forget the oldest half.
    if (this.buckets.size >= MAX_TRACKED_HOSTS) {
      let drop = this.buckets.size / 2;
      for (const host of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(host);
      }
    }
  }
}
