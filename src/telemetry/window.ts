// Sliding-window statistics per span: the last N samples in a ring, percentiles computed
// on demand (sorting ≤ N numbers a few times a second is cheaper than maintaining a
// sketch), plus lifetime counts and budget misses.
import { BUDGET_MS, endToEndMs, SPAN_NAMES, withEndToEnd, type SpanName, type StepSpans } from './spans.ts';

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

/** Whether the steps keep up with real time, judged on end-to-end time over a window. */
export interface BudgetVerdict {
  /** Steps the verdict covers (the window's e2e samples). */
  readonly window: number;
  /** Of those, steps whose reply left more than the budget after their frame arrived. */
  readonly misses: number;
  /** At most 1 % of the window over budget (e2e p99 ≤ budget); null before the first step. */
  readonly keepsUp: boolean | null;
  /** Mean e2e / budget: above 1, replies leave later than the frame period on average. */
  readonly realTimeFactor: number | null;
  /** Mean step.total / budget: the model's share alone (a figure of its own, not the verdict). */
  readonly engineRealTimeFactor: number | null;
}

/** "keeps up" / "falls behind" / "no steps": the words every view prints for a verdict. */
export function keepsUpText(keepsUp: boolean | null | undefined): string {
  return keepsUp == null ? 'no steps' : keepsUp ? 'keeps up' : 'falls behind';
}

/** The verdict for a set of steps' spans (a window, or a whole recorded session). */
export function budgetVerdict(e2e: ArrayLike<number>, stepTotal: ArrayLike<number>, budgetMs = BUDGET_MS): BudgetVerdict {
  let misses = 0;
  let sum = 0;
  for (let i = 0; i < e2e.length; i++) {
    sum += e2e[i]!;
    if (e2e[i]! > budgetMs) misses++;
  }
  let engineSum = 0;
  for (let i = 0; i < stepTotal.length; i++) engineSum += stepTotal[i]!;
  const n = e2e.length;
  return {
    window: n,
    misses,
    // p99 ≤ budget (nearest rank) is exactly: misses ≤ 1 % of the steps, rounded down.
    keepsUp: n === 0 ? null : misses <= Math.floor(n / 100),
    realTimeFactor: n === 0 ? null : sum / n / budgetMs,
    engineRealTimeFactor: stepTotal.length === 0 ? null : engineSum / stepTotal.length / budgetMs,
  };
}

/** Per-span windows plus budget accounting for a stream of steps. */
export class StepStats {
  private readonly windows = new Map<SpanName, RollingWindow>();
  private readonly size: number;
  readonly budgetMs: number;
  steps = 0;
  /** Steps whose end-to-end time (endToEndMs) exceeded the budget, since the start. */
  budgetMisses = 0;
  /** Steps whose model work alone (step.total) exceeded the budget, since the start. */
  engineMisses = 0;

  constructor(windowSize = 1000, budgetMs = BUDGET_MS) {
    this.size = windowSize;
    this.budgetMs = budgetMs;
  }

  add(stepSpans: StepSpans): void {
    this.steps++;
    const spans = withEndToEnd(stepSpans);
    for (const name of SPAN_NAMES) {
      const v = spans[name];
      if (v === undefined) continue;
      let w = this.windows.get(name);
      if (!w) this.windows.set(name, (w = new RollingWindow(this.size)));
      w.push(v);
    }
    const e2e = endToEndMs(spans);
    if (e2e !== undefined && e2e > this.budgetMs) this.budgetMisses++;
    const total = spans['step.total'];
    if (total !== undefined && total > this.budgetMs) this.engineMisses++;
  }

  /** The budget verdict over the window (the last `windowSize` steps). */
  verdict(): BudgetVerdict {
    const values = (name: SpanName) => this.windows.get(name)?.values() ?? new Float64Array(0);
    return budgetVerdict(values('e2e'), values('step.total'), this.budgetMs);
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
