// Monotonic clocks, injected wherever time is read: the live server uses the real one,
// replay and tests a virtual one, so nothing in the step loop depends on wall time.

export interface Clock {
  /** Milliseconds on a monotonic timeline (origin unspecified). */
  now(): number;
}

export const realClock: Clock = { now: () => performance.now() };

/** A clock that moves only when told to. */
export class VirtualClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be >= 0, got ${ms}`);
    this.t += ms;
  }
  set(ms: number): void {
    if (ms < this.t) throw new RangeError(`VirtualClock.set: time cannot go back (${ms} < ${this.t})`);
    this.t = ms;
  }
}
