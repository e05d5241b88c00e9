// The session summary (viewer, sessions list, view server): budget misses, "keeps up" and
// the real-time factor are end to end, from the recorded e2e or, in sessions recorded before
// it, from net.recv + queue.wait + step.total + net.send; step.total stays a figure apart.
import { describe, expect, it } from 'vitest';
import { isBudgetMiss, sessionStats, type StepTiming } from '../../../harness/view/stats.ts';
import type { StepSpans } from '../../../src/telemetry/spans.ts';

const step = (i: number, spans: StepSpans): StepTiming => ({ step: i, timeMs: 80 * (i + 1), spans, events: [] });

describe('session summary', () => {
  it('counts a step whose model work fits but whose frame waited as a miss (old sessions: e2e from the spans)', () => {
    const fits = { 'net.recv': 0.5, 'queue.wait': 2, 'step.total': 40, 'net.send': 1 };
    const waited = { 'net.recv': 0.5, 'queue.wait': 60, 'step.total': 40, 'net.send': 1 };
    expect(isBudgetMiss(step(0, fits))).toBe(false);
    expect(isBudgetMiss(step(1, waited))).toBe(true);
    const st = sessionStats([step(0, fits), step(1, waited), step(2, waited)]);
    expect(st.budgetMisses).toBe(2);
    expect(st.missSteps).toEqual([1, 2]);
    expect(st.keepsUp).toBe(false);
    expect(st.spans.e2e).toMatchObject({ count: 3, max: 101.5 });
    expect(st.spans['step.total']).toMatchObject({ count: 3, max: 40 });
    expect(st.realTimeFactor).toBeCloseTo((43.5 + 101.5 + 101.5) / 3 / 80, 10);
    expect(st.engineRealTimeFactor).toBeCloseTo(40 / 80, 10);
  });

  it('uses the recorded e2e when there is one (it includes the engine round trip the spans lack)', () => {
    const st = sessionStats([step(0, { 'queue.wait': 1, 'step.total': 70, 'net.send': 1, e2e: 85 }), ...Array.from({ length: 199 }, (_, i) => step(i + 1, { 'step.total': 20, e2e: 25 }))]);
    expect(st.budgetMisses).toBe(1);
    // 1 of 200 over budget: within the 1 % a p99 allows.
    expect(st.keepsUp).toBe(true);
    expect(st.realTimeFactor).toBeCloseTo((85 + 199 * 25) / 200 / 80, 10);
  });

  it('has no verdict without steps', () => {
    expect(sessionStats([])).toMatchObject({ budgetMisses: 0, keepsUp: null, realTimeFactor: null, engineRealTimeFactor: null });
  });
});
