// The capacity search: the largest N whose level passes (every client's lag p99 within the
// budget, no stall, no disconnect, no refusal). Doubles N from 1 until a level fails or
// --max-clients is reached, then bisects between the last pass and the first fail; every
// level tried is reported. Bounded by --max-clients and by a time limit (a level is not
// started when it could not finish inside it); the answer then says it is a lower bound.
import type { LevelResult } from './level.ts';

export interface CapacityOptions {
  readonly maxClients: number;
  /** Wall-clock limit for the whole search, s. */
  readonly timeLimitS: number;
  /** How long one level takes at most (duration + ramp + finishing), s: whether another fits. */
  readonly levelS: number;
  /** Pause between levels so the server sees the last level's sessions closed, ms. */
  readonly pauseMs?: number;
  readonly onLevel?: (l: LevelResult) => void;
  /** Stops the search after the level under way (Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface CapacityResult {
  /** Largest N that passed (0: not even one client). */
  readonly capacity: number;
  /** Smallest N that failed, or null when none did (capacity reached --max-clients or the time ran out). */
  readonly firstFail: number | null;
  /** Why the search stopped before it had an exact answer, or null. */
  readonly bound: 'max-clients' | 'time-limit' | 'interrupted' | null;
  readonly levels: readonly LevelResult[];
  readonly seconds: number;
}

export async function findCapacity(run: (n: number) => Promise<LevelResult>, o: CapacityOptions): Promise<CapacityResult> {
  const t0 = performance.now();
  const levels: LevelResult[] = [];
  const fits = () => (performance.now() - t0) / 1000 + o.levelS <= o.timeLimitS;
  const stop = (): CapacityResult['bound'] => (o.signal?.aborted ? 'interrupted' : fits() ? null : 'time-limit');
  const tryLevel = async (n: number): Promise<boolean> => {
    if (levels.length) await new Promise((r) => setTimeout(r, o.pauseMs ?? 1500));
    const l = await run(n);
    levels.push(l);
    o.onLevel?.(l);
    return l.pass;
  };
  let pass = 0;
  let fail: number | null = null;
  let bound: CapacityResult['bound'] = null;
  // One level: true/false, or null when the search must stop (time, Ctrl-C; an interrupted level counts neither way).
  const step = async (n: number): Promise<boolean | null> => {
    bound = stop();
    if (bound) return null;
    const ok = await tryLevel(n);
    if (o.signal?.aborted) {
      bound = 'interrupted';
      return null;
    }
    return ok;
  };
  for (let n = 1; ; n = Math.min(n * 2, o.maxClients)) {
    const ok = await step(n);
    if (ok === null) break;
    if (!ok) {
      fail = n;
      break;
    }
    pass = n;
    if (n >= o.maxClients) {
      bound = 'max-clients';
      break;
    }
  }
  while (bound === null && fail !== null && fail - pass > 1) {
    const mid = Math.floor((pass + fail) / 2);
    const ok = await step(mid);
    if (ok === null) break;
    if (ok) pass = mid;
    else fail = mid;
  }
  return { capacity: pass, firstFail: fail, bound, levels, seconds: (performance.now() - t0) / 1000 };
}
