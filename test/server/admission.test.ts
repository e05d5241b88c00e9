// Admission decisions over engine-worker figures: the cost is Δ CPU / Δ steps of the
// workers' own samples (or their wall time per step when other processes stretch it), the
// capacity is workers × floor(headroom × 80 ms / cost), bounded by maxSessions; live sessions
// over the end-to-end budget refuse newcomers; a refusal says why, the figures and when to retry.
import { describe, expect, it } from 'vitest';
import { Admission, DEFAULT_HEADROOM, RETRY_AFTER_MS, PRIOR_PER_WORKER, STEP_PERIOD_MS, type AdmissionWorker, type LiveBudget } from '../../src/server/admission.ts';

type W = AdmissionWorker;
const worker = (over: Partial<W> = {}): W => ({ state: 'ok', pid: 100, cpuMs: null, cpuSteps: null, steps: 0, stepWallMs: 0, stepP99Ms: null, ...over });

/**
 * Feeds workers samples: `perStep` ms of CPU for each of `steps` steps per sample, and
 * `wallPerStep` ms of wall time in the worker (a quiet machine: less than the CPU).
 */
function run(a: Admission, perStep: number, samples: number, steps = 12, pids = [100], wallPerStep = perStep * 0.9): W[] {
  let last: W[] = [];
  for (let k = 0; k <= samples; k++) {
    last = pids.map((pid) => worker({ pid, cpuMs: 5000 + k * steps * perStep, cpuSteps: k * steps, steps: 7 + k * steps, stepWallMs: 100 + k * steps * wallPerStep, stepP99Ms: perStep / 2 }));
    a.observe(last);
  }
  return last;
}

describe('Admission: the cost of a session', () => {
  it('is the CPU per step of the workers own samples (Δcpu / Δsteps), not the step spans', () => {
    const a = new Admission();
    const ws = run(a, 20, 5);
    expect(a.cost(ws)).toMatchObject({ basis: 'cpu', ms: 20, steps: 60 });
  });

  it('charges the wall time per step when other processes stretch the steps beyond their CPU (a shared machine)', () => {
    const a = new Admission();
    // 20 ms of CPU that takes 45 ms in the worker: the other half of the core went elsewhere,
    // and the sessions queued behind the step waited all 45 ms.
    const ws = run(a, 20, 5, 12, [100], 45);
    expect(a.cost(ws)).toMatchObject({ basis: 'wall', ms: 45, cpu: 20, wall: 45 });
    expect(a.state(ws, 0, 100)).toMatchObject({ capacity: Math.floor((DEFAULT_HEADROOM * STEP_PERIOD_MS) / 45), cpuMsPerStep: 20, wallMsPerStep: 45 });
    expect(a.decide(ws, 0, 100)).toBeNull();
    const r = a.decide(ws, 1, 100);
    expect(r).toMatchObject({ code: 'SERVER_BUSY' });
    expect(r!.message).toMatch(/a session costs 45 ms of engine wall time per step \(its CPU is 20 ms: other processes share the cores\), measured over the last 60 steps; 1 engine worker × 64 ms .* hold 1 session and 1 are live/);
  });

  it('stays on the CPU when the steps take no longer than they compute (a quiet machine)', () => {
    const a = new Admission();
    const ws = run(a, 20, 5, 12, [100], 18);
    expect(a.cost(ws)).toMatchObject({ basis: 'cpu', ms: 20, cpu: 20, wall: 18 });
    expect(a.state(ws, 0, 100).capacity).toBe(3);
  });

  it('does not charge idle CPU to steps: a sample with no new step only moves the baseline', () => {
    const a = new Admission();
    a.observe([worker({ cpuMs: 1000, cpuSteps: 0 })]);
    a.observe([worker({ cpuMs: 1900, cpuSteps: 0 })]); // 900 ms idle (loading, GC)
    a.observe([worker({ cpuMs: 2100, cpuSteps: 10 })]);
    expect(a.cost([]).ms).toBe(20);
  });

  it('starts a new baseline when a worker restarts (new pid), rather than mix two processes', () => {
    const a = new Admission();
    a.observe([worker({ pid: 1, cpuMs: 9000, cpuSteps: 500 })]);
    a.observe([worker({ pid: 2, cpuMs: 300, cpuSteps: 0 })]);
    expect(a.cost([]).basis).toBe('prior');
    a.observe([worker({ pid: 2, cpuMs: 600, cpuSteps: 10 })]);
    expect(a.cost([]).ms).toBe(30);
  });

  it('falls back to the spans (step.total p99, the largest of the workers) for an engine that reports no CPU time', () => {
    const a = new Admission();
    const ws = [worker({ stepP99Ms: 14 }), worker({ pid: 101, stepP99Ms: 22 })];
    expect(a.cost(ws)).toMatchObject({ basis: 'step-p99', ms: 22, steps: 0 });
  });

  it('waits for the CPU samples (prior) when the workers sample CPU but no sample covers a step yet', () => {
    const a = new Admission();
    const ws = [worker({ cpuMs: 900, cpuSteps: 3, stepP99Ms: 140 })];
    a.observe(ws);
    expect(a.cost(ws)).toMatchObject({ basis: 'prior', ms: null, steps: 0 });
  });

  it('follows the recent steps: an old cost ages out of the window', () => {
    const a = new Admission();
    run(a, 10, 5);
    const ws = run(a, 40, 40);
    expect(a.cost(ws).ms).toBe(40);
  });
});

describe('Admission: decisions', () => {
  const budget = DEFAULT_HEADROOM * STEP_PERIOD_MS;

  it('holds floor(headroom × 80 / cost) sessions per serving worker and refuses the next with SERVER_BUSY', () => {
    const a = new Admission();
    const cost = 25;
    const ws = run(a, cost, 3, 12, [100, 200]);
    const perWorker = Math.floor(budget / cost);
    const capacity = 2 * perWorker;
    for (let live = 0; live < capacity; live++) expect(a.decide(ws, live, 100)).toBeNull();
    const r = a.decide(ws, capacity, 100);
    expect(r).toMatchObject({ code: 'SERVER_BUSY', retryAfterMs: RETRY_AFTER_MS });
    expect(r!.message).toContain(`a session costs ${cost} ms of engine CPU per step, measured over the last 72 steps`);
    expect(r!.message).toContain(`hold ${capacity} sessions and ${capacity} are live`);
    expect(r!.message).toMatch(/ms left/);
    expect(r!.message).toContain(`retry in ${RETRY_AFTER_MS / 1000} s`);
    expect(a.state(ws, capacity, 100)).toMatchObject({ capacity, full: true, admitted: capacity, refused: { busy: 1, full: 0 } });
  });

  it('counts only serving workers: a restarting one holds nothing', () => {
    const a = new Admission();
    const ws = run(a, 30, 3, 12, [100, 200]);
    const down = [ws[0]!, { ...ws[1]!, state: 'restarting' as const }];
    expect(a.state(down, 0, 100).capacity).toBe(Math.floor(budget / 30));
  });

  it('gives a worker one session even when a step costs more than its budget', () => {
    const a = new Admission();
    const ws = run(a, 150, 3);
    expect(a.decide(ws, 0, 10)).toBeNull();
    expect(a.decide(ws, 1, 10)).toMatchObject({ code: 'SERVER_BUSY' });
  });

  it('keeps maxSessions as the upper bound (SERVER_FULL), whatever the engine could hold', () => {
    const a = new Admission();
    const ws = run(a, 1, 3);
    expect(a.decide(ws, 1, 2)).toBeNull();
    const r = a.decide(ws, 2, 2);
    expect(r).toMatchObject({ code: 'SERVER_FULL', retryAfterMs: RETRY_AFTER_MS });
    expect(r!.message).toMatch(/server full: 2 of 2 sessions/);
  });

  it('before any measurement (fresh server) admits PRIOR_PER_WORKER per serving worker, never above maxSessions: the first steps are the measurement', () => {
    const a = new Admission();
    const one = [worker({ cpuMs: 800, cpuSteps: 0 })];
    expect(a.state(one, 0, 32)).toMatchObject({ basis: 'prior', costMs: null, capacity: PRIOR_PER_WORKER });
    expect(a.decide(one, PRIOR_PER_WORKER - 1, 32)).toBeNull();
    const r = a.decide(one, PRIOR_PER_WORKER, 32);
    expect(r).toMatchObject({ code: 'SERVER_FULL' });
    expect(r!.message).toMatch(new RegExp(`server full: ${PRIOR_PER_WORKER} of ${PRIOR_PER_WORKER} sessions in use \\(no cost measured yet`));
    const two = [worker({ cpuMs: 800, cpuSteps: 0 }), worker({ cpuMs: 800, cpuSteps: 0 })];
    expect(a.state(two, 0, 32).capacity).toBe(2 * PRIOR_PER_WORKER);
    expect(a.state(two, 0, 3).capacity).toBe(3);
  });

  it('leaves an engine with no serving worker to the engine path (not a cost refusal)', () => {
    const a = new Admission();
    run(a, 30, 3);
    expect(a.decide([worker({ state: 'starting' })], 2, 4)).toBeNull();
    expect(a.decide(undefined, 2, 4)).toBeNull();
  });

  const behind: LiveBudget = { window: 120, misses: 9, keepsUp: false, p99Ms: 131.5, sinceMs: 3000 };
  const keeping: LiveBudget = { window: 120, misses: 1, keepsUp: true, p99Ms: 61, sinceMs: 3000 };

  it('refuses with SERVER_BUSY while the live sessions are over the end-to-end budget, though the cost says there is room', () => {
    const a = new Admission();
    const ws = run(a, 10, 3, 12, [100, 200]);
    expect(a.state(ws, 2, 100, behind)).toMatchObject({ capacity: 2 * Math.floor(budget / 10), behind: true, full: true });
    const r = a.decide(ws, 2, 100, behind);
    expect(r).toMatchObject({ code: 'SERVER_BUSY', retryAfterMs: RETRY_AFTER_MS });
    expect(r!.message).toBe(`server busy: the 2 live sessions are falling behind: end-to-end p99 131.5 ms over the last 120 steps (9 over the 80 ms budget, 3 s; at 10 ms per step 12 fit); a new one would push them further; retry in ${RETRY_AFTER_MS / 1000} s`);
    expect(a.state(ws, 2, 100, behind)).toMatchObject({ refused: { busy: 1, full: 0 }, admitted: 0 });
    // What /health and the dashboard show as the reason: the same words, without the hint.
    expect(a.state(ws, 2, 100, behind).refusing).toBe(r!.message.replace(/; retry in \d+ s$/, ''));
    // At capacity, capacity is the reason given (the state still says they are behind).
    expect(a.decide(ws, 12, 100, behind)!.message).toMatch(/^server busy: a session costs 10 ms .*hold 12 sessions and 12 are live/);
    expect(a.state(ws, 12, 100, behind)).toMatchObject({ behind: true, full: true });
    // Keeping up again: admitted.
    expect(a.decide(ws, 2, 100, keeping)).toBeNull();
    expect(a.state(ws, 2, 100, keeping)).toMatchObject({ behind: false, full: false, refusing: null });
  });

  it('judges only live sessions: old misses with none live refuse nobody', () => {
    const a = new Admission();
    const ws = run(a, 10, 3);
    expect(a.state(ws, 0, 100, behind)).toMatchObject({ behind: false, full: false, refusing: null });
    expect(a.decide(ws, 0, 100, behind)).toBeNull();
  });

  it('says why it would refuse next (refusing), and null while it would admit', () => {
    const a = new Admission();
    const ws = run(a, 25, 3);
    expect(a.state(ws, 1, 100).refusing).toBeNull();
    expect(a.state(ws, 2, 100).refusing).toMatch(/^server busy: a session costs 25 ms of engine CPU per step.*hold 2 sessions and 2 are live .*miss their budget$/);
  });

  it('refuses a headroom outside (0, 1]', () => {
    expect(() => new Admission(0)).toThrow(RangeError);
    expect(() => new Admission(1.5)).toThrow(/headroom/);
  });
});
