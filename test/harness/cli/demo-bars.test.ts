// The demo's per-stage bars against the 80 ms budget: a value over the budget shows as over
// it (the bar passes the budget mark, says so), and one past the scale ends in an overflow
// mark instead of stopping at the budget.
import { describe, expect, it } from 'vitest';
import { budgetBar } from '../../../harness/cli/demo.ts';

const cells = (bar: string) => bar.replace(/ {2}over budget$/, '');

describe('demo budget bars', () => {
  it('a value under the budget stops before the budget mark and is not flagged', () => {
    const b = budgetBar(40, 80, 40);
    expect(b).not.toContain('over budget');
    expect(b.indexOf('|')).toBe(20);
    expect(b.lastIndexOf('#')).toBeLessThan(20);
  });

  it('values above the budget reach past it, longer for longer values, and are flagged', () => {
    const b100 = cells(budgetBar(100, 80, 40));
    const b140 = cells(budgetBar(140, 80, 40));
    expect(budgetBar(100, 80, 40)).toMatch(/over budget$/);
    expect(b100.lastIndexOf('#')).toBeGreaterThan(20);
    expect(b140.lastIndexOf('#')).toBeGreaterThan(b100.lastIndexOf('#'));
  });

  it('a value just over the budget passes its mark', () => {
    // The mark is cell 20: a bar over the budget covers it, one at the budget stops before it.
    expect(cells(budgetBar(80.7, 80, 40)).lastIndexOf('#')).toBe(20);
    expect(cells(budgetBar(80.7, 80, 40))).not.toContain('|');
    expect(cells(budgetBar(80, 80, 40)).lastIndexOf('#')).toBe(19);
    expect(cells(budgetBar(80, 80, 40))).toContain('|');
  });

  it('a value past the scale ends in the overflow mark', () => {
    const b = cells(budgetBar(1200, 80, 40));
    expect(b).toHaveLength(40);
    expect(b.endsWith('▶')).toBe(true);
    expect(cells(budgetBar(150, 80, 40))).not.toContain('▶');
  });
});
