// The statistics under the gate, against values from published tables.
import { describe, expect, it } from 'vitest';
import { cvPct, incompleteBeta, lnGamma, median, quantile, studentTTwoSided, variance, welch } from '../../bench/lib/stats.ts';

describe('Student t and Welch', () => {
  it('matches t-table critical values (two-sided)', () => {
    // t(0.975, 10) = 2.228, t(0.995, 10) = 3.169, t(0.995, 1) = 63.657, t(0.995, ∞) = 2.576
    expect(studentTTwoSided(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(studentTTwoSided(3.169, 10)).toBeCloseTo(0.01, 4);
    expect(studentTTwoSided(63.657, 1)).toBeCloseTo(0.01, 4);
    expect(studentTTwoSided(2.5758, 1e7)).toBeCloseTo(0.01, 4);
    expect(studentTTwoSided(0, 5)).toBeCloseTo(1, 12);
    expect(studentTTwoSided(-2.228, 10)).toBeCloseTo(studentTTwoSided(2.228, 10), 12);
  });

  it('has lnΓ and the incomplete beta right at known points', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12); // uniform
    expect(incompleteBeta(0.2, 2, 3)).toBeCloseTo(0.1808, 4); // 1 − (1−x)^3 (1 + 3x)... = 0.1808
  });

  it('computes Welch t, df and p as a textbook example does', () => {
    // a = 1..5, b = 3..7: t = 2, df = 8, p = 0.0805
    const r = welch([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]);
    expect(r.t).toBeCloseTo(2, 12);
    expect(r.df).toBeCloseTo(8, 12);
    expect(r.p).toBeCloseTo(0.0805, 4);
    // Unequal variances: the Welch–Satterthwaite df is below n1 + n2 − 2.
    const u = welch([10, 11, 9, 10.5, 9.5], [12, 20, 5, 15, 8, 18]);
    expect(u.df).toBeLessThan(9);
    expect(u.df).toBeGreaterThan(4);
  });

  it('treats two constant samples as certain: equal → p 1, different → p 0', () => {
    expect(welch([2, 2, 2], [2, 2, 2]).p).toBe(1);
    expect(welch([2, 2, 2], [3, 3, 3]).p).toBe(0);
    expect(() => welch([1], [1, 2])).toThrow(/at least 2 samples/);
  });

  it('summarises: variance, CV, median, nearest-rank quantile', () => {
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 12);
    expect(cvPct([9, 10, 11])).toBeCloseTo(10, 10);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile(Array.from({ length: 100 }, (_, i) => 100 - i), 0.99)).toBe(99);
  });
});
