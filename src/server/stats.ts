// Server-wide telemetry: per-span sliding windows and budget misses over all sessions'
// steps, plus counters of events and connections. /health and /metrics both read this.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { finishedSpans, type FinishedStep } from '../engine/step-record.ts';
import type { StepEvent, StepEventKind } from '../telemetry/events.ts';
import { endToEndMs } from '../telemetry/spans.ts';
import { budgetVerdict, percentile, StepStats, type BudgetVerdict } from '../telemetry/window.ts';

/**
 * "The live sessions now": their last RECENT_STEPS steps (of sessions still open: a late
 * session that ended pushes nobody), none older than RECENT_MAX_AGE_MS.
 * 100 steps, so p99 <= budget allows one late step (a GC pause is not falling behind), as the
 * server's window does; at most 10 s old (one session's 100 steps take 8 s), so a server is
 * judged on what its sessions feel now, not on an overloaded minute the 1000-step window
 * still holds after it ended.
 */
export const RECENT_STEPS = 100;
export const RECENT_MAX_AGE_MS = 10_000;
/** Steps kept to choose from (10 s of 32 sessions is 4000). */
const RECENT_KEPT = 4096;

/** The end-to-end verdict over the live sessions' latest steps (see RECENT_STEPS). */
export interface RecentBudget extends BudgetVerdict {
  /** Age of the oldest step judged (ms): the steps span the last `sinceMs`. */
  readonly sinceMs: number;
  /** e2e p99 of those steps (ms); null without steps. */
  readonly p99Ms: number | null;
}

export type Counter =
  | 'sessions_opened' | 'sessions_rejected' | 'connections' | 'frames_received' | 'steps' | 'audio_frames_sent'
  | 'protocol_errors' | 'hook_errors' | 'bytes_in' | 'bytes_out' | 'auth_failures' | 'recordings_stopped'
  | 'requests_refused' | 'pending_evicted';

export class ServerStats {
  readonly steps: StepStats;
  readonly counters: Record<Counter, number> = {
    sessions_opened: 0, sessions_rejected: 0, connections: 0, frames_received: 0, steps: 0, audio_frames_sent: 0,
    protocol_errors: 0, hook_errors: 0, bytes_in: 0, bytes_out: 0, auth_failures: 0, recordings_stopped: 0,
    requests_refused: 0, pending_evicted: 0,
  };
  readonly events: Partial<Record<StepEventKind, number>> = {};
  private readonly lag: ReturnType<typeof monitorEventLoopDelay>;
  /** (time the reply left, e2e, session) of the latest steps, oldest first: what "falling behind now" reads. */
  private readonly recentSteps: { at: number; e2e: number; session: string }[] = [];

  constructor(window: number) {
    this.steps = new StepStats(window);
    // Event-loop lag is what network I/O and heartbeats feel while steps are in flight.
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
  }

  count(c: Counter, n = 1): void {
    this.counters[c] += n;
  }

  event(e: StepEvent): void {
    this.events[e.kind] = (this.events[e.kind] ?? 0) + 1;
  }

  /** A finished step: counted, its events counted, its spans (net.send and e2e included) into the window. */
  stepFinished(record: FinishedStep): void {
    this.count('steps');
    for (const e of record.events) this.event(e);
    const spans = finishedSpans(record);
    this.steps.add(spans);
    const e2e = endToEndMs(spans);
    if (e2e === undefined) return;
    this.recentSteps.push({ at: record.finishedAt, e2e, session: record.session });
    // Enough to hold RECENT_STEPS of the open sessions among those of sessions that just ended.
    if (this.recentSteps.length > RECENT_KEPT) this.recentSteps.shift();
  }

  /**
   * The verdict over the last RECENT_STEPS steps of sessions `live` says are open, whose reply
   * left at most RECENT_MAX_AGE_MS before `now` (the steps' clock). Without `live`, every session's.
   */
  recentBudget(now: number, live: (session: string) => boolean = () => true): RecentBudget {
    while (this.recentSteps.length > 0 && this.recentSteps[0]!.at < now - RECENT_MAX_AGE_MS) this.recentSteps.shift();
    const judged = this.recentSteps.filter((x) => live(x.session)).slice(-RECENT_STEPS);
    const e2e = judged.map((x) => x.e2e);
    const sorted = Float64Array.from(e2e).sort();
    const since = judged.length ? Math.round((now - judged[0]!.at) / 100) * 100 : 0;
    const verdict = budgetVerdict(e2e, [], this.steps.budgetMs);
    // One late step is never "falling behind", however few steps there are: a session's third step
    // caught by a GC pause must not make the server refuse the next one (p99 of 3 steps is their max).
    const keepsUp = verdict.window === 0 ? null : verdict.misses <= Math.max(1, Math.floor(verdict.window / 100));
    return { ...verdict, keepsUp, sinceMs: since, p99Ms: sorted.length ? Math.round(percentile(sorted, 0.99) * 10) / 10 : null };
  }

  /** The end-to-end budget verdict over the window: misses, keeps up, real-time factors. */
  budget(): BudgetVerdict {
    return this.steps.verdict();
  }

  /** Mean end-to-end time over the window as a fraction of the budget: above 1, replies fall behind real time. */
  realTimeFactor(): number | null {
    return this.steps.verdict().realTimeFactor;
  }

  eventLoopLagMs(): { p50: number; p99: number; max: number } {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return { p50: ms(this.lag.percentile(50)), p99: ms(this.lag.percentile(99)), max: ms(this.lag.max) };
  }

  close(): void {
    this.lag.disable();
  }
}
