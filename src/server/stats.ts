// Server-wide telemetry: per-span sliding windows and budget misses over all sessions'
// steps, plus counters of events and connections. /health and /metrics both read this.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { finishedSpans, type FinishedStep } from '../engine/step-record.ts';
import type { StepEvent, StepEventKind } from '../telemetry/events.ts';
import { endToEndMs } from '../telemetry/spans.ts';
import { budgetVerdict, percentile, StepStats, type BudgetVerdict } from '../telemetry/window.ts';

/**
 * How far back "the live sessions now" reaches: long enough for a few dozen steps of one
 * session, short enough that a server is judged on what its sessions feel now, not on an
 * overloaded minute that the 1000-step window still holds after it ended.
 */
export const RECENT_MS = 3000;
/** Steps the recent ring holds at most (3 s of 32 sessions is 1200). */
const RECENT_CAP = 2048;

/** The end-to-end verdict over the steps that finished in the last RECENT_MS. */
export interface RecentBudget extends BudgetVerdict {
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
  /** (time the reply left, e2e) of the latest steps, oldest first: what "falling behind now" reads. */
  private readonly recentSteps: { at: number; e2e: number }[] = [];

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
    this.recentSteps.push({ at: record.finishedAt, e2e });
    if (this.recentSteps.length > RECENT_CAP) this.recentSteps.shift();
  }

  /** The verdict over the steps whose reply left in the last RECENT_MS before `now` (same clock as the steps'). */
  recentBudget(now: number): RecentBudget {
    while (this.recentSteps.length > 0 && this.recentSteps[0]!.at < now - RECENT_MS) this.recentSteps.shift();
    const e2e = this.recentSteps.map((x) => x.e2e);
    const sorted = Float64Array.from(e2e).sort();
    return { ...budgetVerdict(e2e, [], this.steps.budgetMs), sinceMs: RECENT_MS, p99Ms: sorted.length ? Math.round(percentile(sorted, 0.99) * 10) / 10 : null };
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
