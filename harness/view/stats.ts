// Per-session numbers for the viewer's sessions list and summary panel: percentiles per
// span, budget misses, real-time factor. Pure and browser-safe (the view server uses it to
// summarise folders, the viewer to summarise a dropped session), so both show the same
// figures. Percentiles are nearest-rank, as everywhere else (src/telemetry/window.ts).
import { BUDGET_MS, SPAN_NAMES, type SpanName, type StepSpans } from '../../src/telemetry/spans.ts';
import { summarize, type SpanStats } from '../../src/telemetry/window.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../format/layout.ts';
import type { StepEvent } from '../format/steps.ts';

/** Audio time one step stands for. */
export const STEP_MS = (FRAME_SAMPLES / SAMPLE_RATE) * 1000;

/** What the stats need of a step (a StepRecord has it). */
export interface StepTiming {
  readonly step: number;
  readonly timeMs: number;
  readonly spans: StepSpans;
  readonly events: readonly StepEvent[];
}

/** A step misses the budget when its engine time (step.total) exceeds 80 ms, as StepStats counts it. */
export function isBudgetMiss(s: StepTiming, budgetMs = BUDGET_MS): boolean {
  const t = s.spans['step.total'];
  return t !== undefined && t > budgetMs;
}

export interface SessionStats {
  readonly steps: number;
  readonly budgetMs: number;
  readonly budgetMisses: number;
  /** Step indices that missed the budget (for markers). */
  readonly missSteps: readonly number[];
  readonly spans: Partial<Record<SpanName, SpanStats>>;
  /** Audio time covered by the steps (steps × 80 ms). */
  readonly audioMs: number;
  /** Wall time from session start to the last step's result. */
  readonly wallMs: number;
  /** Mean engine time per step / 80 ms: below 1 keeps up with real time. */
  readonly realTimeFactor: number | null;
  readonly events: Readonly<Record<string, number>>;
}

export function sessionStats(steps: readonly StepTiming[], budgetMs = BUDGET_MS): SessionStats {
  const samples = new Map<SpanName, number[]>();
  const missSteps: number[] = [];
  const events: Record<string, number> = {};
  let totalSum = 0, totalN = 0;
  for (const s of steps) {
    for (const name of SPAN_NAMES) {
      const v = s.spans[name];
      if (v === undefined) continue;
      let a = samples.get(name);
      if (a === undefined) samples.set(name, (a = []));
      a.push(v);
    }
    const t = s.spans['step.total'];
    if (t !== undefined) {
      totalSum += t;
      totalN++;
    }
    if (isBudgetMiss(s, budgetMs)) missSteps.push(s.step);
    for (const e of s.events) events[e.kind] = (events[e.kind] ?? 0) + 1;
  }
  const spans: Partial<Record<SpanName, SpanStats>> = {};
  for (const name of SPAN_NAMES) {
    const a = samples.get(name);
    if (a !== undefined) spans[name] = summarize(a);
  }
  const last = steps.length ? steps[steps.length - 1]! : null;
  return {
    steps: steps.length,
    budgetMs,
    budgetMisses: missSteps.length,
    missSteps,
    spans,
    audioMs: steps.length * STEP_MS,
    wallMs: last ? last.timeMs : 0,
    realTimeFactor: totalN ? totalSum / totalN / STEP_MS : null,
    events,
  };
}
