// Small statistics the connection figures use: percentiles of a sample list and the
// least-squares growth of a series over time.
import { percentile } from '../../src/telemetry/window.ts';

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

const round = (x: number): number => Math.round(x * 100) / 100;

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const s = Float64Array.from(values).sort();
  return { count: s.length, p50: round(percentile(s, 0.5)), p95: round(percentile(s, 0.95)), p99: round(percentile(s, 0.99)), max: round(s[s.length - 1]!) };
}

/**
 * The growth of a lag series ([reply time ms, lag ms] per answered frame), ms per minute, or null
 * with the reason when its points span less than `minSpanMs`: a least-squares slope's noise is
 * jitter ÷ span, so a short session reads its jitter as growth.
 */
export function growthOf(series: readonly (readonly [number, number])[], minSpanMs: number): { readonly slopeMsPerMin: number | null; readonly slopeNullReason: string | null } {
  const span = series.length < 2 ? 0 : series[series.length - 1]![0] - series[0]![0];
  const need = `growth needs answered frames over >= ${seconds(minSpanMs)} s`;
  if (series.length < 2) return { slopeMsPerMin: null, slopeNullReason: `${need}; ${series.length} answered here` };
  if (span < minSpanMs) return { slopeMsPerMin: null, slopeNullReason: `${need}; these span ${seconds(span)} s (${series.length} frames)` };
  const slope = slopePerMinute(series.map((p) => p[0]), series.map((p) => p[1]));
  return { slopeMsPerMin: slope, slopeNullReason: slope === null ? `${need}; all ${series.length} came at one time` : null };
}

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10);

/** Least-squares slope of y over x (x in ms), in y per minute; null with fewer than 2 distinct x. */
export function slopePerMinute(xMs: readonly number[], y: readonly number[]): number | null {
  const n = Math.min(xMs.length, y.length);
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xMs[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xMs[i]! - mx) * (y[i]! - my);
    sxx += (xMs[i]! - mx) ** 2;
  }
  return sxx === 0 ? null : round((sxy / sxx) * 60_000);
}
