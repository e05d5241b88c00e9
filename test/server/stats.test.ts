// The live sessions' end-to-end verdict "now": only the steps whose reply left in the last
// RECENT_MS count, so an overloaded minute long gone does not keep the server degraded (the
// 1000-step window would, until new steps pushed it out: with none, never).
import { afterEach, describe, expect, it } from 'vitest';
import type { FinishedStep } from '../../src/engine/step-record.ts';
import { RECENT_MS, ServerStats } from '../../src/server/stats.ts';

const made: ServerStats[] = [];
afterEach(() => {
  for (const s of made.splice(0)) s.close();
});

/** A finished step whose frame arrived at `at - e2e` and whose reply left at `at`. */
const step = (at: number, e2e: number) => ({ events: [], spans: { 'step.total': 10 }, arrivedAt: at - e2e, finishedAt: at, doneAt: at }) as unknown as FinishedStep;

describe('ServerStats.recentBudget', () => {
  it('judges the steps of the last RECENT_MS only, with their e2e p99', () => {
    const s = new ServerStats(1000);
    made.push(s);
    // An overloaded stretch, then on-time steps for longer than RECENT_MS.
    for (let i = 0; i < 50; i++) s.stepFinished(step(i * 20, 400));
    const t0 = 50 * 20;
    for (let i = 0; i < 100; i++) s.stepFinished(step(t0 + i * 40, 30 + (i % 5)));
    const now = t0 + 99 * 40;
    expect(s.budget().keepsUp).toBe(false); // the window still holds the overload
    const r = s.recentBudget(now);
    expect(r.sinceMs).toBe(RECENT_MS);
    expect(r.window).toBe(Math.floor(RECENT_MS / 40) + 1);
    expect(r).toMatchObject({ misses: 0, keepsUp: true, p99Ms: 34 });
    // And an overload now is seen now.
    for (let i = 1; i <= 10; i++) s.stepFinished(step(now + i * 10, 200));
    expect(s.recentBudget(now + 100)).toMatchObject({ misses: 10, keepsUp: false, p99Ms: 200 });
    // With no steps in the last RECENT_MS there is no verdict.
    expect(s.recentBudget(now + 100 + RECENT_MS + 1)).toMatchObject({ window: 0, keepsUp: null, p99Ms: null });
  });
});
