// The arithmetic under every bar and sparkline: cells against the scale, where the budget
// line falls, overflow, headroom colours, the sparkline's levels.
import { describe, expect, it } from 'vitest';
import { barCells, barScale, barText, headroom, ms, rtfText, sparkline } from '../../../harness/dashboard/format.ts';
import { stats } from './snapshots.ts';

describe('bars', () => {
  it('put p50/p95/p99 at their share of the scale and the budget line at 80/100', () => {
    const c = barCells(stats(20, 40, 60), 50, 100, 80);
    expect(c).toMatchObject({ p50: 10, p95: 20, p99: 30, budget: 40, overflow: false });
    const t = barText(c);
    expect(t).toBe(`${'█'.repeat(10)}${'▓'.repeat(10)}${'░'.repeat(10)}${' '.repeat(10)}│${' '.repeat(9)}`);
    expect(t).toHaveLength(50);
  });

  it('double in length when the latencies double', () => {
    const a = barCells(stats(10, 15, 20), 40, 100, 80);
    const b = barCells(stats(20, 30, 40), 40, 100, 80);
    expect([b.p50, b.p95, b.p99]).toEqual([a.p50 * 2, a.p95 * 2, a.p99 * 2]);
  });

  it('scale to 100 ms for an 80 ms budget, grow with a slow p99, and stop at twice the budget', () => {
    expect(barScale(80, [stats(1, 2, 3)])).toBe(100);
    expect(barScale(80, [stats(50, 90, 113)])).toBe(120);
    expect(barScale(80, [stats(50, 90, 3600)])).toBe(160);
  });

  it('end in an overflow mark when p99 is past the scale', () => {
    const c = barCells(stats(30, 100, 3600), 20, 160, 80);
    expect(c.overflow).toBe(true);
    expect(barText(c).endsWith('»')).toBe(true);
    expect(barText(c)).toHaveLength(20);
  });

  it('draw nothing for zero or missing values', () => {
    expect(barText(barCells(stats(0, 0, 0), 10, 100, 80))).toBe('        │ ');
    expect(barCells(stats(NaN, NaN, NaN), 10, 100, 80)).toMatchObject({ p50: 0, p95: 0, p99: 0 });
  });
});

describe('headroom and numbers', () => {
  it('is ok below half the budget, tight up to it, over past it', () => {
    expect(headroom(39.9, 80)).toBe('ok');
    expect(headroom(40, 80)).toBe('tight');
    expect(headroom(80, 80)).toBe('tight');
    expect(headroom(80.1, 80)).toBe('over');
    expect(headroom(null, 80)).toBe('none');
  });

  it('formats latencies in 4-6 characters and the real-time factor end to end and the engine\'s, never as a speed', () => {
    expect([ms(0.123), ms(12.34), ms(123.4), ms(NaN)]).toEqual(['0.12', '12.3', '123', '–']);
    expect(rtfText(0.5)).toBe('0.50');
    // A server whose frames wait: the engine is fast, end to end is not; no "3.3× real time".
    expect(rtfText(14.2, 0.31)).toBe('14.20 (engine 0.31)');
    expect(rtfText(14.2, 0.31)).not.toMatch(/real time/);
    expect(rtfText(null)).toBe('–');
  });
});

describe('sparkline', () => {
  it('scales to the budget, marks steps over it, and keeps the newest `width` values', () => {
    const { text, over } = sparkline([0, 40, 80, 160], 80, 10);
    expect(text).toBe('▁▃▅█');
    expect(over).toEqual([false, false, false, true]);
    const long = sparkline(Array.from({ length: 30 }, (_, i) => i), 80, 12);
    expect(long.text).toHaveLength(12);
    expect(sparkline([80, 80], 80, 5).text).toBe('██');
  });
});
