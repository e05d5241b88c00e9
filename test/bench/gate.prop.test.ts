// The gate's decision on synthetic samples. Samples are built on the log scale (the gate
// compares log ratios): a base level times exp(σ·z) with z drawn by fast-check, so σ is the
// noise (≈ the CV) and the shift between two sides is the true change.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSamples } from '../../bench/lib/gate.ts';
import { PROP_RUNS, propParams } from '../props.ts';

const ROUNDS = 12; // rounds per suite in a default `solacelive bench` run
const opts = { thresholdPct: 5, alpha: 0.01 };

/** z-scores with sample mean exactly 0 and sample sd exactly 1 (needs some spread). */
function standardize(raw: readonly number[]): number[] | null {
  const m = raw.reduce((a, b) => a + b, 0) / raw.length;
  const sd = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / (raw.length - 1));
  if (!(sd > 1e-6)) return null;
  return raw.map((x) => (x - m) / sd);
}
const zs = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: ROUNDS, maxLength: ROUNDS }).map(standardize).filter((z): z is number[] => z !== null);
const side = (z: readonly number[], level: number, sigma: number) => z.map((x) => level * Math.exp(sigma * x));

/** Seeded normal draws (mulberry32 + Box–Muller) for the false-positive-rate property. */
function normals(seed: number): () => number {
  let s = seed | 0;
  const u = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

describe('gate decision on synthetic samples', () => {
  it('a 10 % slowdown with low noise (1 % CV) is a regression', () => {
    fc.assert(fc.property(zs, zs, (za, zb) => {
      const c = compareSamples(side(za, 1, 0.01), side(zb, 1.1, 0.01), opts);
      expect(c.verdict).toBe('regressed');
      expect(c.changePct).toBeCloseTo(10, 6);
      expect(c.p).toBeLessThan(opts.alpha);
    }), propParams());
  });

  it('the same 10 % slowdown with noise at 15 % CV is inconclusive, not a false alarm', () => {
    // With 12 rounds a side, t = ln 1.1 / (0.15·√(2/12)) ≈ 1.56 whatever the shapes: p ≈ 0.13.
    fc.assert(fc.property(zs, zs, (za, zb) => {
      const c = compareSamples(side(za, 1, 0.15), side(zb, 1.1, 0.15), opts);
      expect(c.verdict).toBe('inconclusive');
      expect(c.changePct).toBeCloseTo(10, 6);
      expect(c.p).toBeGreaterThan(0.1);
    }), propParams());
  });

  it('an improvement is reported as an improvement', () => {
    fc.assert(fc.property(zs, zs, fc.double({ min: 0.005, max: 0.03, noNaN: true }), (za, zb, sigma) => {
      const c = compareSamples(side(za, 1, sigma), side(zb, 0.8, sigma), opts);
      expect(c.verdict).toBe('improved');
      expect(c.changePct).toBeCloseTo(-20, 6);
    }), propParams());
  });

  it('identical runs are unchanged, at any noise level', () => {
    fc.assert(fc.property(zs, fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (z, sigma, level) => {
      const a = side(z, level, sigma);
      const c = compareSamples(a, [...a].reverse(), opts);
      expect(c.verdict).toBe('unchanged');
      expect(Math.abs(c.changePct)).toBeLessThan(1e-9);
    }), propParams());
  });

  it('a significant change below the threshold stays unchanged (threshold AND significance)', () => {
    fc.assert(fc.property(zs, zs, (za, zb) => {
      const c = compareSamples(side(za, 1, 0.001), side(zb, 1.03, 0.001), opts);
      expect(c.p).toBeLessThan(opts.alpha);
      expect(c.verdict).toBe('unchanged');
    }), propParams());
  });

  it('keeps the false-positive rate under alpha when nothing changed, over random noise levels', () => {
    // Per noise level, TRIALS independent pairs from the same distribution; "regressed" must
    // come up at most alpha of the time (the two-sided test gives ~alpha/2 in one direction),
    // plus three binomial standard deviations of slack. The threshold is 0 here so that only
    // the test protects against noise.
    const TRIALS = 400;
    const alpha = 0.01;
    let worst = 0;
    fc.assert(fc.property(fc.double({ min: 0.005, max: 0.4, noNaN: true }), fc.integer(), fc.integer({ min: 3, max: 30 }), (sigma, seed, n) => {
      const g = normals(seed);
      let regressed = 0;
      for (let i = 0; i < TRIALS; i++) {
        const a = Array.from({ length: n }, () => Math.exp(sigma * g()));
        const b = Array.from({ length: n }, () => Math.exp(sigma * g()));
        if (compareSamples(a, b, { thresholdPct: 1e-9, alpha }).verdict === 'regressed') regressed++;
      }
      const rate = regressed / TRIALS;
      worst = Math.max(worst, rate);
      expect(rate).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / TRIALS));
    }), propParams({ numRuns: Math.min(PROP_RUNS, 50) }));
    expect(worst).toBeLessThan(0.03);
  });

  it('can fail: the same property with a naive rule (no significance test) is caught', () => {
    // Guards the property above: with alpha = 1 every positive change over a zero threshold
    // counts, and about half of the identical-distribution pairs come out "regressed".
    const g = normals(42);
    let regressed = 0;
    for (let i = 0; i < 400; i++) {
      const a = Array.from({ length: 12 }, () => Math.exp(0.1 * g()));
      const b = Array.from({ length: 12 }, () => Math.exp(0.1 * g()));
      if (compareSamples(a, b, { thresholdPct: 1e-9, alpha: 1 }).verdict === 'regressed') regressed++;
    }
    expect(regressed / 400).toBeGreaterThan(0.3);
  });
});
