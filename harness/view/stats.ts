// Per-session numbers for the viewer's sessions list and summary panel: percentiles per
// span, budget misses, real-time factor, keeps up / falls behind, all end to end (e2e). Pure and browser-safe (the view server uses it to
// summarise folders, the viewer to summarise a dropped session), so both show the same
// figures. Percentiles are nearest-rank, as everywhere else (src/telemetry/window.ts).
import { BUDGET_MS, endToEndMs, SPAN_NAMES, withEndToEnd, type SpanName, type StepSpans } from '../../src/telemetry/spans.ts';
import { budgetVerdict, summarize, type SpanStats } from '../../src/telemetry/window.ts';
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

/**
 * A step misses the budget when its reply left more than 80 ms after its frame arrived (e2e,
 * derived from net.recv + queue.wait + step.total + net.send in sessions recorded before the
 * e2e span), as StepStats counts it.
 */
export function isBudgetMiss(s: Pick<StepTiming, 'spans'>, budgetMs = BUDGET_MS): boolean {
  const t = endToEndMs(s.spans);
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
  /** Mean e2e per step / 80 ms: above 1, replies fall behind real time. */
  readonly realTimeFactor: number | null;
  /** Mean step.total (model work only) / 80 ms: a figure of its own, not the verdict. */
  readonly engineRealTimeFactor: number | null;
  /** At most 1 % of the steps over budget end to end (e2e p99 ≤ 80 ms); null without steps. */
  readonly keepsUp: boolean | null;
  readonly events: Readonly<Record<string, number>>;
}

export function sessionStats(steps: readonly StepTiming[], budgetMs = BUDGET_MS): SessionStats {
  const samples = new Map<SpanName, number[]>();
  const missSteps: number[] = [];
  const events: Record<string, number> = {};
  const e2e: number[] = [];
  const engine: number[] = [];
  for (const s of steps) {
    const spans = withEndToEnd(s.spans);
    for (const name of SPAN_NAMES) {
      const v = spans[name];
      if (v === undefined) continue;
      let a = samples.get(name);
      if (a === undefined) samples.set(name, (a = []));
      a.push(v);
    }
    if (spans['step.total'] !== undefined) engine.push(spans['step.total']);
    if (spans.e2e !== undefined) e2e.push(spans.e2e);
    if (isBudgetMiss(s, budgetMs)) missSteps.push(s.step);
    for (const e of s.events) events[e.kind] = (events[e.kind] ?? 0) + 1;
  }
  const spans: Partial<Record<SpanName, SpanStats>> = {};
  for (const name of SPAN_NAMES) {
    const a = samples.get(name);
    if (a !== undefined) spans[name] = summarize(a);
  }
  const last = steps.length ? steps[steps.length - 1]! : null;
  const verdict = budgetVerdict(e2e, engine, budgetMs);
  return {
    steps: steps.length,
    budgetMs,
    budgetMisses: missSteps.length,
    missSteps,
    spans,
    audioMs: steps.length * STEP_MS,
    wallMs: last ? last.timeMs : 0,
    realTimeFactor: verdict.realTimeFactor,
    engineRealTimeFactor: verdict.engineRealTimeFactor,
    keepsUp: verdict.keepsUp,
    events,
  };
}
