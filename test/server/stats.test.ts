// The live sessions' end-to-end verdict "now": their last RECENT_STEPS steps, none older than
// RECENT_MAX_AGE_MS, so one late step among 100 (a GC pause) is not falling behind, and an
// overloaded minute long gone does not keep the server degraded (the 1000-step window would,
// until new steps pushed it out: with none, never).
import { afterEach, describe, expect, it } from 'vitest';
import type { FinishedStep } from '../../src/engine/step-record.ts';
import { RECENT_MAX_AGE_MS, RECENT_STEPS, ServerStats } from '../../src/server/stats.ts';

const made: ServerStats[] = [];
afterEach(() => {
  for (const s of made.splice(0)) s.close();
});

/** A finished step whose frame arrived at `at - e2e` and whose reply left at `at`. */
const step = (at: number, e2e: number, session = 'a') => ({ session, events: [], spans: { 'step.total': 10 }, arrivedAt: at - e2e, finishedAt: at, doneAt: at }) as unknown as FinishedStep;

function stats(): ServerStats {
  const s = new ServerStats(1000);
  made.push(s);
  return s;
}

describe('ServerStats.recentBudget', () => {
  it('judges the last RECENT_STEPS steps, with their e2e p99, while the server window still holds an old overload', () => {
    const s = stats();
    for (let i = 0; i < 50; i++) s.stepFinished(step(i * 20, 400));
    const t0 = 50 * 20;
    for (let i = 0; i < RECENT_STEPS; i++) s.stepFinished(step(t0 + i * 20, 30 + (i % 5)));
    const now = t0 + (RECENT_STEPS - 1) * 20;
    expect(s.budget().keepsUp).toBe(false);
    expect(s.recentBudget(now)).toMatchObject({ window: RECENT_STEPS, misses: 0, keepsUp: true, p99Ms: 34, sinceMs: Math.round(((RECENT_STEPS - 1) * 20) / 100) * 100 });
  });

  it('lets one late step in 100 pass (p99 within budget) and not two', () => {
    const s = stats();
    for (let i = 0; i < RECENT_STEPS; i++) s.stepFinished(step(i * 20, i === 50 ? 300 : 30));
    const now = RECENT_STEPS * 20;
    expect(s.recentBudget(now)).toMatchObject({ misses: 1, keepsUp: true });
    s.stepFinished(step(now + 1, 300));
    expect(s.recentBudget(now + 1)).toMatchObject({ misses: 2, keepsUp: false, p99Ms: 300 });
  });

  it('never calls one late step falling behind, even among a few steps; two among a few are', () => {
    const s = stats();
    s.stepFinished(step(10, 30));
    s.stepFinished(step(20, 95));
    s.stepFinished(step(30, 30));
    expect(s.recentBudget(30)).toMatchObject({ window: 3, misses: 1, keepsUp: true, p99Ms: 95 });
    s.stepFinished(step(40, 120));
    expect(s.recentBudget(40)).toMatchObject({ window: 4, misses: 2, keepsUp: false });
  });

  it('forgets steps older than RECENT_MAX_AGE_MS: with none that recent there is no verdict', () => {
    const s = stats();
    for (let i = 1; i <= 10; i++) s.stepFinished(step(i * 10, 200));
    expect(s.recentBudget(100)).toMatchObject({ window: 10, misses: 10, keepsUp: false });
    expect(s.recentBudget(50 + RECENT_MAX_AGE_MS)).toMatchObject({ window: 6, misses: 6 });
    expect(s.recentBudget(101 + RECENT_MAX_AGE_MS)).toMatchObject({ window: 0, keepsUp: null, p99Ms: null });
  });

  it('judges only the sessions still open: a late session that ended pushes nobody', () => {
    const s = stats();
    // Session "gone" was far behind; "open" keeps up.
    for (let i = 0; i < 50; i++) s.stepFinished(step(i * 20, 900, 'gone'));
    for (let i = 0; i < 50; i++) s.stepFinished(step(1000 + i * 20, 30, 'open'));
    expect(s.recentBudget(2000)).toMatchObject({ window: 100, misses: 50, keepsUp: false });
    expect(s.recentBudget(2000, (id) => id === 'open')).toMatchObject({ window: 50, misses: 0, keepsUp: true, p99Ms: 30 });
  });
});
