// Per-step latency as the page sees it: frame k leaves the page → the audio of step k comes
// back. Audio packets carry no step number; the server sends them in step order and says
// which steps have none ('gap': warm-up, skipped decode), so the step of each packet is the
// next one without a gap. A gap message has a lower send priority than audio and can
// arrive after later audio, which at worst shifts a reading; these figures are a readout
// for a person (the session recording has the exact per-stage spans). On the Moshi protocol
// nothing names the steps: the link marks the model's warm-up steps as gaps and each 80 ms
// of reply audio counts as the next step (see moshi-audio.ts).

export interface LatencySummary {
  readonly last: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
  /** Readings in the window. */
  readonly count: number;
  /** Readings over the 80 ms step budget in the window. */
  readonly overBudget: number;
}

export const BUDGET_MS = 80;

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export class StepLatency {
  private readonly sentAt = new Map<number, number>();
  private readonly gaps = new Set<number>();
  private nextStep = 0;
  private readonly window: number[] = [];
  private readonly size: number;

  constructor(windowSize = 125) {
    this.size = windowSize;
  }

  /** Frame `index` (= its step) was sent at `t` ms. */
  sent(index: number, t: number): void {
    this.sentAt.set(index, t);
  }

  /** Step `step` produces no audio. */
  gap(step: number): void {
    this.gaps.add(step);
  }

  /** An audio packet arrived at `t`: its step and latency (null if its frame is unknown). */
  audio(t: number): { step: number; ms: number | null } {
    while (this.gaps.has(this.nextStep)) this.gaps.delete(this.nextStep++);
    const step = this.nextStep++;
    const sent = this.sentAt.get(step);
    this.sentAt.delete(step);
    if (sent === undefined) return { step, ms: null };
    const ms = t - sent;
    this.window.push(ms);
    if (this.window.length > this.size) this.window.shift();
    return { step, ms };
  }

  summary(): LatencySummary {
    const sorted = [...this.window].sort((a, b) => a - b);
    return {
      last: this.window.length > 0 ? this.window[this.window.length - 1]! : null,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
      count: sorted.length,
      overBudget: sorted.filter((x) => x > BUDGET_MS).length,
    };
  }
}
