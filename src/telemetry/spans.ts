// Span names and per-step timing (design.md, Telemetry). The same names are used by the
// engine, the server, the session format, the dashboard, the viewer and the bench gate.
import type { Clock } from './clock.ts';

export const BUDGET_MS = 80;

/** Measured by the engine process. */
export const ENGINE_SPANS = ['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'step.total'] as const;
/** Measured by the server around the engine (`e2e` spans all of a step, see endToEndMs). */
export const SERVER_SPANS = ['net.recv', 'queue.wait', 'net.send', 'e2e'] as const;
/** In pipeline order, then the two totals: `step.total` (model work) and `e2e` (frame in → reply out). */
export const SPAN_NAMES = ['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send', 'step.total', 'e2e'] as const;
/** The spans an end-to-end time is the sum of when it was not measured (sessions recorded before `e2e`). */
export const E2E_PARTS = ['net.recv', 'queue.wait', 'step.total', 'net.send'] as const;

export type SpanName = (typeof SPAN_NAMES)[number];
/** Durations in ms of the spans one step went through (absent: not measured for this step). */
export type StepSpans = Partial<Record<SpanName, number>>;

export function isSpanName(s: string): s is SpanName {
  return (SPAN_NAMES as readonly string[]).includes(s);
}

/**
 * What the 80 ms budget counts (design.md, "Budget and capacity"): from the input frame's
 * arrival to its reply leaving. The measured `e2e` span when the step has one; else the sum
 * of its parts (older sessions, replays), which lacks only the engine's IPC round trip.
 * undefined for a step with no engine time at all.
 */
export function endToEndMs(spans: StepSpans): number | undefined {
  if (spans.e2e !== undefined) return spans.e2e;
  if (spans['step.total'] === undefined) return undefined;
  let sum = 0;
  for (const name of E2E_PARTS) sum += spans[name] ?? 0;
  return sum;
}

/** The spans with `e2e` filled in (derived from its parts when not measured). */
export function withEndToEnd(spans: StepSpans): StepSpans {
  const e2e = endToEndMs(spans);
  return e2e === undefined || spans.e2e !== undefined ? spans : { ...spans, e2e };
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
