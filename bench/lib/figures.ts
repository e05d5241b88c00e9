// From raw per-round samples to a FigureResult: percentiles over every sample (what a
// user sees), and per round the median over that round's calibration: the fastest run of
// the kernel in the round (what the gate compares: a slower or faster machine moves both).
// The fastest run, not the median: on a loaded machine a ~1 ms kernel is either run whole
// or preempted for a time slice, so its median jumps between the two and adds noise
// (measured: run-to-run CV of the step.total ratio 34 % with the median, 16 % with the
// fastest, against 21 % for the raw ms, at load average 14 on 2 cores).
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import type { FigureSpec } from './suite-api.ts';
import type { CalibrationKernel, CalibrationResult, FigureResult } from './results.ts';
import { CALIBRATION_DESCRIBE } from './calibrate-describe.ts';
import { cvPct, median, quantile, rmePct } from './stats.ts';

export function buildFigure(suite: string, spec: FigureSpec, rounds: readonly (readonly number[])[], calibration: readonly number[]): FigureResult {
  if (rounds.length !== calibration.length) throw new RangeError(`${suite}/${spec.name}: ${rounds.length} rounds but ${calibration.length} calibration points`);
  const empty = rounds.findIndex((r) => r.length === 0);
  if (empty >= 0) throw new RangeError(`${suite}/${spec.name}: round ${empty} has no samples`);
  const all = rounds.flat();
  const roundMedians = rounds.map((r) => median(r));
  const ratios = roundMedians.map((m, i) => m / calibration[i]!);
  const p99 = quantile(all, 0.99);
  return {
    id: `${suite}/${spec.name}`,
    suite,
    name: spec.name,
    ...(spec.span ? { span: spec.span } : {}),
    samples: all.length,
    p50: quantile(all, 0.5),
    p95: quantile(all, 0.95),
    p99,
    max: Math.max(...all),
    ...(spec.budget ? { budgetFraction: p99 / BUDGET_MS } : {}),
    calibration: spec.calibration,
    rounds: roundMedians,
    ratios,
    ratio: median(ratios),
    cvPct: cvPct(ratios),
    rawCvPct: cvPct(roundMedians),
    rmePct: rmePct(ratios),
  };
}

export function buildCalibration(kernel: CalibrationKernel, rounds: readonly number[]): CalibrationResult {
  return { kernel, describe: CALIBRATION_DESCRIBE[kernel], rounds, cvPct: cvPct(rounds) };
}
