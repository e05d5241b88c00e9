// Admission by cost: what a session costs (the time a worker spends on one of its steps,
// measured from the engine workers' own recent steps) against what the engine has (each
// worker runs its sessions' steps one after another, so it holds `headroom × 80 ms` of step
// time per 80 ms period). A new session is refused when it would push the live ones over that
// budget, or while they are already over it end to end; `maxSessions` stays an upper bound.
// Pure decisions over the workers' figures: the server feeds them in (observe) and asks
// (decide); nothing here reads a clock or a process.
import type { WorkerFigures } from '../engine/host.ts';

/** One step per 80 ms frame (design.md). */
export const STEP_PERIOD_MS = 80;
/**
 * Share of a worker's 80 ms a session's steps may fill. Measured on the tiny model (README,
 * server section): a step's p99 runs ~1.2× its mean and the IPC round trip, net.recv/net.send
 * and event-loop lag add a few ms, so sessions filling 100 % of the period would miss at p99;
 * 0.8 keeps the aligned worst case (every session's frame arriving together) inside 80 ms.
 */
export const DEFAULT_HEADROOM = 0.8;
/** Recent CPU samples (each ~1 s of one worker) whose steps give the cost. */
const COST_WINDOW = 30;
/** A slot frees when a session ends; nothing predicts when, so the hint is short and fixed. */
export const RETRY_AFTER_MS = 5000;
/**
 * Sessions a serving worker takes before any cost is measured: the first steps are the
 * measurement (a second or two), so a burst on a fresh server cannot overfill it blind.
 */
export const PRIOR_PER_WORKER = 2;

/** The figures admission reads of one worker (WorkerFigures has them). */
export type AdmissionWorker = Pick<WorkerFigures, 'state' | 'pid' | 'cpuMs' | 'cpuSteps' | 'steps' | 'stepWallMs' | 'stepP99Ms'>;

export interface Refusal {
  readonly code: 'SERVER_FULL' | 'SERVER_BUSY';
  readonly message: string;
  readonly retryAfterMs: number;
}

/**
 * Where the cost comes from: `cpu` (Δ CPU time / Δ steps of the workers: the model's own
 * work, including what the spans do not time), `wall` (Δ wall time / Δ steps inside the
 * workers, when it is above the CPU: other processes share the cores, so a step holds its
 * worker longer than it computes, and that is the time the other sessions wait), `step-p99`
 * (the engine spans' step.total p99, only for an engine whose workers report no CPU time),
 * `prior` (nothing measured yet: PRIOR_PER_WORKER per worker).
 */
export type CostBasis = 'cpu' | 'wall' | 'step-p99' | 'prior';

/** The live sessions' end-to-end verdict now (ServerStats.recentBudget): admission refuses while they miss. */
export interface LiveBudget {
  /** The live sessions' latest steps (spanning the last `sinceMs`), of them over budget, and the verdict (null: no steps). */
  readonly window: number;
  readonly misses: number;
  readonly keepsUp: boolean | null;
  readonly p99Ms: number | null;
  readonly sinceMs: number;
}

export interface AdmissionState {
  readonly basis: CostBasis;
  /** Engine time one session needs per 80 ms step (ms); null under the prior. */
  readonly costMs: number | null;
  /** Steps the cpu figure covers. */
  readonly measuredSteps: number;
  /** CPU (the cost) and wall time in the worker per step over the recent steps (ms). */
  readonly cpuMsPerStep: number | null;
  readonly wallMsPerStep: number | null;
  readonly headroom: number;
  /** Step time each worker can give per 80 ms (headroom × 80). */
  readonly budgetMsPerWorker: number;
  /** Workers that can take a session now. */
  readonly workers: number;
  /** Sessions the engine holds at this cost (never above maxSessions). */
  readonly capacity: number;
  readonly maxSessions: number;
  /** Started sessions (each holds a slot). */
  readonly live: number;
  /** True when the next session would be refused (at capacity, or the live ones are behind). */
  readonly full: boolean;
  /** The live sessions are over the end-to-end budget now: nothing more is admitted until they are not. */
  readonly behind: boolean;
  /** Why the next session would be refused (the refusal's message without the retry hint); null: it would be admitted. */
  readonly refusing: string | null;
  /** The live sessions' recent end-to-end verdict the decision read (null: not judged, e.g. --admission max-sessions). */
  readonly liveBudget: LiveBudget | null;
  readonly admitted: number;
  readonly refused: { readonly busy: number; readonly full: number };
}

interface Baseline {
  readonly pid: number;
  readonly cpuMs: number;
  readonly steps: number;
}

const round = (x: number) => Math.round(x * 10) / 10;

export class Admission {
  private readonly headroom: number;
  private readonly base = new Map<number, Baseline>();
  /** Recent (Δcpu, Δsteps) pairs over all workers, oldest first. */
  private readonly samples: { cpuMs: number; steps: number }[] = [];
  /** The same for wall time in the worker (host-side counts, updated with each step). */
  private readonly wallBase = new Map<number, { steps: number; wallMs: number }>();
  private readonly wallSamples: { wallMs: number; steps: number }[] = [];
  private admitted = 0;
  private refusedBusy = 0;
  private refusedFull = 0;

  constructor(headroom = DEFAULT_HEADROOM) {
    if (!(headroom > 0 && headroom <= 1)) throw new RangeError(`headroom must be in (0, 1], got ${headroom}`);
    this.headroom = headroom;
  }

  /**
   * Takes the workers' latest CPU samples: each new sample of the same process that covers
   * steps adds (Δcpu, Δsteps). A sample with no new step only moves the baseline, so idle
   * CPU is not charged to steps; a restarted worker (new pid) starts a new baseline.
   */
  observe(workers: readonly AdmissionWorker[]): void {
    workers.forEach((w, i) => {
      const wb = this.wallBase.get(i);
      this.wallBase.set(i, { steps: w.steps, wallMs: w.stepWallMs });
      if (wb && w.steps > wb.steps && w.stepWallMs >= wb.wallMs) {
        this.wallSamples.push({ wallMs: w.stepWallMs - wb.wallMs, steps: w.steps - wb.steps });
        if (this.wallSamples.length > COST_WINDOW) this.wallSamples.shift();
      }
      if (w.pid === null || w.cpuMs === null || w.cpuSteps === null) return;
      const prev = this.base.get(i);
      this.base.set(i, { pid: w.pid, cpuMs: w.cpuMs, steps: w.cpuSteps });
      if (!prev || prev.pid !== w.pid) return;
      const steps = w.cpuSteps - prev.steps;
      const cpu = w.cpuMs - prev.cpuMs;
      if (steps <= 0 || cpu < 0) return;
      this.samples.push({ cpuMs: cpu, steps });
      if (this.samples.length > COST_WINDOW) this.samples.shift();
    });
  }

  /** A session's cost per step and where it comes from. */
  cost(workers: readonly AdmissionWorker[]): { basis: CostBasis; ms: number | null; steps: number; cpu: number | null; wall: number | null } {
    let cpuMs = 0;
    let steps = 0;
    for (const s of this.samples) {
      cpuMs += s.cpuMs;
      steps += s.steps;
    }
    let wallMs = 0;
    let wallSteps = 0;
    for (const s of this.wallSamples) {
      wallMs += s.wallMs;
      wallSteps += s.steps;
    }
    const wall = wallSteps > 0 ? wallMs / wallSteps : null;
    if (steps > 0) {
      const cpu = cpuMs / steps;
      // A step that takes longer than it computes holds its worker (and the sessions queued
      // behind it) for the longer time: on a shared machine that is the cost, not the CPU.
      if (wall !== null && wall > cpu) return { basis: 'wall', ms: wall, steps: wallSteps, cpu, wall };
      return { basis: 'cpu', ms: cpu, steps, cpu, wall };
    }
    // Workers that sample their CPU will measure within a second or two: wait for that
    // rather than judge by spans that include the first steps' warm-up and other processes' load.
    if (workers.some((w) => w.cpuMs !== null)) return { basis: 'prior', ms: null, steps: 0, cpu: null, wall };
    const p99s = workers.flatMap((w) => (w.stepP99Ms === null ? [] : [w.stepP99Ms]));
    if (p99s.length > 0) return { basis: 'step-p99', ms: Math.max(...p99s), steps: 0, cpu: null, wall };
    return { basis: 'prior', ms: null, steps: 0, cpu: null, wall };
  }

  /** The admission state for `live` started sessions (what /health shows); `liveBudget` as in decide. */
  state(workers: readonly AdmissionWorker[] | undefined, live: number, maxSessions: number, liveBudget: LiveBudget | null = null): AdmissionState {
    const ws = workers ?? [];
    const c = this.cost(ws);
    const usable = ws.filter((w) => w.state === 'ok').length;
    const budget = this.headroom * STEP_PERIOD_MS;
    // A worker always takes one session: alone it can starve no other (falling behind is its own bound).
    const perWorker = c.ms === null ? Infinity : Math.max(1, Math.floor(budget / c.ms));
    // No worker serving (starting, restarting, no engine): the engine path answers, not a cost.
    // Nothing measured yet: a small prior per worker, until the first steps say what a session costs.
    const capacity = usable === 0 ? maxSessions : Math.min(maxSessions, usable * (c.ms === null ? PRIOR_PER_WORKER : perWorker));
    // Only sessions that are live can be pushed further: with none, old misses refuse nobody.
    const behind = live > 0 && liveBudget?.keepsUp === false;
    const s: Omit<AdmissionState, 'refusing'> = {
      basis: c.basis, costMs: c.ms === null ? null : round(c.ms), measuredSteps: c.steps,
      cpuMsPerStep: c.cpu === null ? null : round(c.cpu), wallMsPerStep: c.wall === null ? null : round(c.wall), headroom: this.headroom,
      budgetMsPerWorker: budget, workers: usable, capacity, maxSessions, live, full: live >= capacity || behind, behind,
      liveBudget, admitted: this.admitted, refused: { busy: this.refusedBusy, full: this.refusedFull },
    };
    return { ...s, refusing: refusal(s)?.message ?? null };
  }

  /**
   * Admits (null) or refuses a new session while `live` others hold slots; counts the outcome.
   * `liveBudget` (the live sessions' recent e2e verdict) refuses while they are over budget.
   */
  decide(workers: readonly AdmissionWorker[] | undefined, live: number, maxSessions: number, liveBudget: LiveBudget | null = null): Refusal | null {
    if (workers) this.observe(workers);
    const r = refusal(this.state(workers, live, maxSessions, liveBudget));
    if (!r) this.admitted++;
    else if (r.code === 'SERVER_FULL') this.refusedFull++;
    else this.refusedBusy++;
    if (!r) return null;
    return { ...r, message: `${r.message}; retry in ${RETRY_AFTER_MS / 1000} s` };
  }
}

/** The refusal the next session would get in state `s` (message without the retry hint), or null. */
function refusal(s: Omit<AdmissionState, 'refusing'>): Refusal | null {
  const { live } = s;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  // At capacity that is the reason (the figures say whether they are behind too); below it,
  // live sessions already late refuse a newcomer whatever the cost says.
  if (s.behind && live < s.capacity) {
    const b = s.liveBudget!;
    const cost = s.costMs === null ? `no cost measured yet, ${s.capacity} fit by the prior` : `at ${s.costMs} ms per step ${s.capacity} fit`;
    return {
      code: 'SERVER_BUSY',
      message:
        `server busy: the ${plural(live, 'live session')} ${live === 1 ? 'is' : 'are'} falling behind: end-to-end p99 ${b.p99Ms} ms over the last ${plural(b.window, 'step')} ` +
        `(${b.misses} over the ${STEP_PERIOD_MS} ms budget, ${b.sinceMs / 1000} s; ${cost}); a new one would push them further`,
      retryAfterMs: RETRY_AFTER_MS,
    };
  }
  if (live < s.capacity) return null;
  if (s.capacity >= s.maxSessions || s.costMs === null) {
    const prior = s.costMs === null && s.capacity < s.maxSessions ? ` (no cost measured yet: ${PRIOR_PER_WORKER} per engine worker until the first steps say what a session costs)` : '';
    return { code: 'SERVER_FULL', message: `server full: ${live} of ${s.capacity} sessions in use${prior}`, retryAfterMs: RETRY_AFTER_MS };
  }
  const used = round(Math.min(live * s.costMs, s.workers * s.budgetMsPerWorker));
  const left = round(s.workers * s.budgetMsPerWorker - used);
  const basis = s.basis === 'step-p99'
    ? 'step time (p99), measured'
    : s.basis === 'wall'
      ? `engine wall time per step (its CPU is ${s.cpuMsPerStep} ms: other processes share the cores), measured over the last ${s.measuredSteps} steps`
      : `engine CPU per step, measured over the last ${s.measuredSteps} steps`;
  return {
    code: 'SERVER_BUSY',
    message:
      `server busy: a session costs ${s.costMs} ms of ${basis}; ${plural(s.workers, 'engine worker')} × ${s.budgetMsPerWorker} ms ` +
      `per ${STEP_PERIOD_MS} ms step (headroom ${s.headroom}) hold ${plural(s.capacity, 'session')} and ${live} are live ` +
      `(${used} ms used, ${left} ms left); a new one would make them miss their budget`,
    retryAfterMs: RETRY_AFTER_MS,
  };
}
