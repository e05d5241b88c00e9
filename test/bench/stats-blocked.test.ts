// The blocked paired test of `bench ab` (blocks of rounds as the unit), against a textbook
// one-way random effects analysis and hand-computed values.
import { describe, expect, it } from 'vitest';
import { blockedLogRatio, blockedT, pairedT } from '../../bench/lib/stats.ts';

// Montgomery, Design and Analysis of Experiments, the looms example (random effects): fabric
// strength from 4 looms drawn at random, 4 samples each. Published: MS_treatments = 29.73,
// MS_E = 1.90, so σ² = 1.90 and σ²_τ = (29.73 − 1.90) / 4 = 6.96.
const LOOMS = [[98, 97, 99, 96], [91, 90, 93, 92], [96, 95, 97, 95], [95, 96, 99, 98]];

describe('blockedT: blocks of rounds as the unit of the paired test', () => {
  it('reproduces the looms example: within-block variance MS_E, between-block component σ²_τ', () => {
    const r = blockedT(LOOMS.flat(), [4, 4, 4, 4], 0.95);
    expect(r.sdWithin ** 2).toBeCloseTo(1.896, 3);
    expect(r.sdBetween ** 2).toBeCloseTo(6.96, 2);
    expect(r.blocks).toBe(4);
    expect(r.rounds).toBe(16);
    expect(r.df).toBe(3);
    expect(r.mean).toBeCloseTo(95.4375, 12);
    // The test of the grand mean under random effects uses MS_treatments / (J·k) as its variance:
    // the same as a t-test over the 4 loom means.
    const se = Math.sqrt(29.729 / 16);
    expect(r.t).toBeCloseTo(95.4375 / se, 1);
    const overMeans = pairedT(LOOMS.map((l) => l.reduce((s, x) => s + x, 0) / l.length), 0.95);
    expect(r.lo).toBeCloseTo(overMeans.lo, 12);
    expect(r.hi).toBeCloseTo(overMeans.hi, 12);
    expect(r.p).toBeCloseTo(overMeans.p, 12);
  });

  it('is wider than the round-level test when blocks share an offset (the rounds are not independent)', () => {
    // Four blocks, each with its own offset and a small spread inside: the rounds' own sd
    // would claim far more certainty than four process pairs give.
    const d = [0.05, 0.051, 0.049, 0.05, 0.03, 0.031, 0.029, 0.03, 0.04, 0.041, 0.039, 0.04, -0.01, -0.011, -0.009, -0.01];
    const blocked = blockedT(d, [4, 4, 4, 4], 0.99);
    const rounds = pairedT(d, 0.99);
    expect(blocked.hi - blocked.lo).toBeGreaterThan(2 * (rounds.hi - rounds.lo));
    expect(rounds.lo).toBeGreaterThan(0); // the round-level test calls a change ...
    expect(blocked.lo).toBeLessThan(0); // ... that four blocks do not support
    expect(blocked.sdBetween).toBeGreaterThan(10 * blocked.sdWithin);
  });

  it('handles unequal blocks (method of moments with the effective block size)', () => {
    // Blocks [1, 3] and [4, 5, 6]: MSW = 4/3, MSB = 10.8, k0 = (5 − 13/5) / 1 = 2.4.
    const r = blockedT([1, 3, 4, 5, 6], [2, 3]);
    expect(r.sdWithin ** 2).toBeCloseTo(4 / 3, 12);
    expect(r.sdBetween ** 2).toBeCloseTo((10.8 - 4 / 3) / 2.4, 12);
    expect(r.mean).toBeCloseTo(3.5, 12); // the mean of the block means, not of the rounds
  });

  it('on log ratios: a constant factor is certain, and the change is back-transformed', () => {
    const a = [10, 20, 15, 12, 11, 13];
    const slow = blockedLogRatio(a, a.map((x) => x * 1.05), [2, 2, 2]);
    expect(slow.change).toBeCloseTo(0.05, 12);
    expect(slow.p).toBe(0);
    const b = [11, 19, 16, 13, 11, 14];
    const r = blockedLogRatio(a, b, [3, 3], 0.95);
    const logs = b.map((x, i) => Math.log(x / a[i]!));
    const byHand = pairedT([(logs[0]! + logs[1]! + logs[2]!) / 3, (logs[3]! + logs[4]! + logs[5]!) / 3], 0.95);
    expect(r.changeLo).toBeCloseTo(Math.expm1(byHand.lo), 12);
    expect(r.changeHi).toBeCloseTo(Math.expm1(byHand.hi), 12);
  });

  it('refuses what it cannot test', () => {
    expect(() => blockedT([1, 2, 3], [2, 2])).toThrow(/add up to 4, but there are 3/);
    expect(() => blockedT([1, 2, 3], [3])).toThrow(/at least 2 blocks/);
    expect(() => blockedT([1, 2, 3], [1.5, 1.5])).toThrow(/positive integers/);
    expect(() => blockedLogRatio([1, 2], [1, 0], [1, 1])).toThrow(/blockedLogRatio: round 1 has a non-positive value/);
    expect(() => blockedLogRatio([1, 2], [1], [1, 1])).toThrow(/values on one side/);
  });
});
