// Server-wide telemetry: per-span sliding windows and budget misses over all sessions'
// steps, plus counters of events and connections. /health and /metrics both read this.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { finishedSpans, type FinishedStep } from '../engine/step-record.ts';
import type { StepEvent, StepEventKind } from '../telemetry/events.ts';
import { StepStats, type BudgetVerdict } from '../telemetry/window.ts';

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
    this.steps.add(finishedSpans(record));
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
