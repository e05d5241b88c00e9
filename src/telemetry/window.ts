// Sliding-window statistics per span: the last N samples in a ring, percentiles computed
// on demand (sorting ≤ N numbers a few times a second is cheaper than maintaining a
// sketch), plus lifetime counts and budget misses.
import { BUDGET_MS, SPAN_NAMES, type SpanName, type StepSpans } from './spans.ts';

export interface SpanStats {
  /** Samples ever recorded. */
  readonly count: number;
  /** Samples in the window the percentiles describe. */
  readonly window: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of an ascending array (q in [0, 1]). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: ArrayLike<number>, count = samples.length): SpanStats {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    count,
    window: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/** A window's stats plus what a monotonic counter needs (Prometheus _sum and _count). */
export interface LifetimeStats extends SpanStats {
  /** Sum of every sample ever recorded (the `count` of them), not only the window's. */
  readonly sum: number;
  /** Samples the window holds when full. */
  readonly capacity: number;
}

export class RollingWindow {
  private readonly buf: Float64Array;
  private n = 0;
  private next = 0;
  total = 0;
  sum = 0;
  constructor(size: number) {
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`RollingWindow size must be a positive integer, got ${size}`);
    this.buf = new Float64Array(size);
  }
  push(x: number): void {
    this.buf[this.next] = x;
    this.next = (this.next + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
    this.total++;
    this.sum += x;
  }
  /** Samples in arrival order, oldest first. */
  values(): Float64Array {
    if (this.n < this.buf.length) return this.buf.slice(0, this.n);
    const out = new Float64Array(this.n);
    out.set(this.buf.subarray(this.next), 0);
    out.set(this.buf.subarray(0, this.next), this.buf.length - this.next);
    return out;
  }
  stats(): LifetimeStats {
    return { ...summarize(this.values(), this.total), sum: this.sum, capacity: this.buf.length };
  }
}

/** Per-span windows plus budget accounting for a stream of steps. */
export class StepStats {
  private readonly windows = new Map<SpanName, RollingWindow>();
  private readonly size: number;
  readonly budgetMs: number;
  steps = 0;
  budgetMisses = 0;

  constructor(windowSize = 1000, budgetMs = BUDGET_MS) {
    this.size = windowSize;
    this.budgetMs = budgetMs;
  }

  add(spans: StepSpans): void {
    this.steps++;
    for (const name of SPAN_NAMES) {
      const v = spans[name];
      if (v === undefined) continue;
      let w = this.windows.get(name);
      if (!w) this.windows.set(name, (w = new RollingWindow(this.size)));
      w.push(v);
    }
    const total = spans['step.total'];
    if (total !== undefined && total > this.budgetMs) this.budgetMisses++;
  }

  /** Stats per span that has samples, in pipeline order. */
  snapshot(): Partial<Record<SpanName, LifetimeStats>> {
    const out: Partial<Record<SpanName, LifetimeStats>> = {};
    for (const name of SPAN_NAMES) {
      const w = this.windows.get(name);
      if (w) out[name] = w.stats();
    }
    return out;
  }
}
