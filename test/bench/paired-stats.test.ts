// The paired statistics of `bench ab`, against textbook values.
import { describe, expect, it } from 'vitest';
import { pairedLogRatio, pairedT, studentTCdf, studentTQuantile } from '../../bench/lib/stats.ts';

// Student's sleep data (Cushny and Peebles 1905, as in Student 1908 and R's `sleep`):
// extra hours of sleep with each of two drugs, the same ten patients.
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('Student t quantiles', () => {
  it('matches t-table critical values', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262, 3);
    expect(studentTQuantile(0.995, 9)).toBeCloseTo(3.250, 3);
    expect(studentTQuantile(0.995, 30)).toBeCloseTo(2.750, 3);
    expect(studentTQuantile(0.95, 4)).toBeCloseTo(2.132, 3);
    expect(studentTQuantile(0.025, 9)).toBeCloseTo(-2.262, 3);
    expect(studentTQuantile(0.5, 7)).toBeCloseTo(0, 9);
  });

  it('is the inverse of the CDF', () => {
    for (const df of [1, 3, 11, 50]) for (const q of [0.6, 0.9, 0.99, 0.999]) expect(studentTCdf(studentTQuantile(q, df), df)).toBeCloseTo(q, 10);
  });
});

describe('paired t-test', () => {
  it('reproduces the sleep-data example (t = 4.0621, df = 9, p = 0.002833, 95 % CI 0.700–2.460)', () => {
    const r = pairedT(DRUG2.map((x, i) => x - DRUG1[i]!), 0.95);
    expect(r.mean).toBeCloseTo(1.58, 12);
    expect(r.t).toBeCloseTo(4.0621, 4);
    expect(r.df).toBe(9);
    expect(r.p).toBeCloseTo(0.002833, 6);
    expect(r.lo).toBeCloseTo(0.7001142, 6);
    expect(r.hi).toBeCloseTo(2.4598858, 6);
  });

  it('widens the interval at 99 %: mean ± 3.250 · sd/√n', () => {
    const d = DRUG2.map((x, i) => x - DRUG1[i]!);
    const r = pairedT(d, 0.99);
    const se = 1.229995 / Math.sqrt(10); // sd of the differences, 1.229995
    expect(r.sd).toBeCloseTo(1.229995, 6);
    expect(r.hi - r.mean).toBeCloseTo(3.249836 * se, 5);
    expect(r.lo).toBeGreaterThan(0); // p = 0.0028 < 0.01
  });

  it('on log ratios: a constant factor is certain, identical sides are no change', () => {
    const a = [10, 20, 15, 12];
    const slow = pairedLogRatio(a, a.map((x) => x * 1.05));
    expect(slow.change).toBeCloseTo(0.05, 12);
    expect(slow.p).toBe(0);
    const same = pairedLogRatio(a, a);
    expect(same.change).toBe(0);
    expect(same.p).toBe(1);
    // ln ratios of the sleep data shifted positive: the test equals pairedT on the logs.
    const b = [11, 19, 16, 13];
    const r = pairedLogRatio(a, b, 0.95);
    const logs = pairedT(b.map((x, i) => Math.log(x / a[i]!)), 0.95);
    expect(r.t).toBeCloseTo(logs.t, 12);
    expect(r.changeLo).toBeCloseTo(Math.expm1(logs.lo), 12);
  });

  it('refuses what it cannot test', () => {
    expect(() => pairedT([1])).toThrow(RangeError);
    expect(() => pairedLogRatio([1, 2], [1])).toThrow(/values on one side/);
    expect(() => pairedLogRatio([1, 0], [1, 1])).toThrow(/non-positive/);
  });
});
