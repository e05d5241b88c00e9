// Span names and per-step timing (design.md, Telemetry). The same names are used by the
// engine, the server, the session format, the dashboard, the viewer and the bench gate.
import type { Clock } from './clock.ts';

export const BUDGET_MS = 80;

/** Measured by the engine process. */
export const ENGINE_SPANS = ['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'step.total'] as const;
/** Measured by the server around the engine. */
export const SERVER_SPANS = ['net.recv', 'queue.wait', 'net.send'] as const;
/** In pipeline order. */
export const SPAN_NAMES = ['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send', 'step.total'] as const;

export type SpanName = (typeof SPAN_NAMES)[number];
/** Durations in ms of the spans one step went through (absent: not measured for this step). */
export type StepSpans = Partial<Record<SpanName, number>>;

export function isSpanName(s: string): s is SpanName {
  return (SPAN_NAMES as readonly string[]).includes(s);
}

/** Times consecutive stages of one step against an injected clock. */
export class SpanTimer {
  private readonly clock: Clock;
  private readonly spans: StepSpans = {};
  private readonly origin: number;
  constructor(clock: Clock) {
    this.clock = clock;
    this.origin = clock.now();
  }
  /** Runs fn and records its duration under `name` (added to any earlier time under it). */
  time<T>(name: SpanName, fn: () => T): T {
    const t0 = this.clock.now();
    try {
      return fn();
    } finally {
      this.spans[name] = (this.spans[name] ?? 0) + (this.clock.now() - t0);
    }
  }
  record(name: SpanName, ms: number): void {
    this.spans[name] = (this.spans[name] ?? 0) + ms;
  }
  /** Elapsed since the timer was made. */
  elapsed(): number {
    return this.clock.now() - this.origin;
  }
  /** The spans so far; `step.total` is set to the elapsed time unless recorded explicitly. */
  finish(): StepSpans {
    if (this.spans['step.total'] === undefined) this.spans['step.total'] = this.elapsed();
    return { ...this.spans };
  }
}
