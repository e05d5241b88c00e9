// A token bucket per session: `rate` packets per second on average with bursts up to
// `burst`. Time comes from the caller, so tests (and replay) drive it with a virtual clock.

export class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`TokenBucket: rate must be > 0 and burst >= 1 (got ${ratePerSecond}, ${burst})`);
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  /** Takes n tokens if there are that many; false (and nothing taken) otherwise. */
  take(now: number, n = 1): boolean {
    // A clock that went backwards (it should not) refills nothing rather than throwing.
    const dt = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + (dt * this.rate) / 1000);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  get available(): number {
    return this.tokens;
  }
}
