// Tells a hung measuring worker from a slow one. Hung: it holds work and does none of it (no
// progress count moves, no message comes back) for longer than the bound. A slow worker (a
// slow disk, a starved thread) still moves, however far behind it is, so it never trips this.
export class HangWatch {
  private readonly boundMs: number;
  private last = -1;
  private since = 0;

  constructor(boundMs: number) {
    this.boundMs = boundMs;
  }

  /**
   * One look at the worker: `waiting` whether it holds work, `progress` a count that moves with
   * anything it does. Returns how long it has been stuck once that is over the bound, else null.
   */
  look(waiting: boolean, progress: number, now: number): number | null {
    if (!waiting || progress !== this.last) {
      this.last = progress;
      this.since = now;
      return null;
    }
    const stuck = now - this.since;
    return stuck > this.boundMs ? stuck : null;
  }
}
