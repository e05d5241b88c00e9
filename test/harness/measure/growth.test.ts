// The lag's growth (ms per minute) is a figure only over a long enough span of answered frames:
// below growthOf's minimum it is null with the reason, at or above it the least-squares slope.
import { describe, expect, it } from 'vitest';
import { growthOf, slopePerMinute } from '../../../harness/measure/index.ts';

/** A lag growing `perFrame` ms each 80 ms frame, with ±`jitter` ms alternating on top, over `n` frames. */
const series = (n: number, perFrame: number, jitter: number): [number, number][] =>
  Array.from({ length: n }, (_, j) => [1000 + 80 * j, 50 + perFrame * j + (j % 2 === 0 ? jitter : -jitter)]);

describe('growthOf', () => {
  it('frames spanning less than the minimum: null, and the reason names the minimum and the span', () => {
    const s = series(20, 0, 10); // 1.52 s of pure jitter
    expect(slopePerMinute(s.map((p) => p[0]), s.map((p) => p[1]))).not.toBe(0); // what a short span would report as growth
    expect(growthOf(s, 20_000)).toEqual({ slopeMsPerMin: null, slopeNullReason: 'growth needs answered frames over >= 20 s; these span 1.5 s (20 frames)' });
  });

  it('at the minimum span: the least-squares slope, the growth per frame scaled to a minute', () => {
    const s = series(251, 0.5, 10); // frames 0..250: exactly 20 s
    const g = growthOf(s, 20_000);
    expect(g.slopeNullReason).toBeNull();
    expect(g.slopeMsPerMin).toBe(slopePerMinute(s.map((p) => p[0]), s.map((p) => p[1])));
    expect(g.slopeMsPerMin!).toBeCloseTo((0.5 * 60_000) / 80, -1);
  });

  it('fewer than two frames: null with the reason', () => {
    expect(growthOf([], 20_000).slopeNullReason).toBe('growth needs answered frames over >= 20 s; 0 answered here');
    expect(growthOf([[5, 5]], 0)).toEqual({ slopeMsPerMin: null, slopeNullReason: 'growth needs answered frames over >= 0 s; 1 answered here' });
  });
});
