// Fixed telemetry input for the dashboard's component and format tests: snapshots shaped
// as the server's feed sends them, with figures chosen per test.
import type { SessionFigures, TelemetryEvent, TelemetrySnapshot } from '../../../src/server/telemetry-stream.ts';
import type { SpanName } from '../../../src/telemetry/spans.ts';
import type { SpanStats } from '../../../src/telemetry/window.ts';

export function stats(p50: number, p95: number, p99: number, max = p99, count = 100): SpanStats {
  return { count, window: count, p50, p95, p99, max, mean: p50 };
}

export function session(id: string, over: Partial<SessionFigures> = {}): SessionFigures {
  return {
    id, state: 'streaming', steps: 120, framesReceived: 120, inputQueue: 0, sendQueueBytes: 0,
    stepTotal: stats(30, 40, 50), e2e: stats(32, 43, 55), keepsUp: true, budgetMisses: 0, late: 0, missing: 0, droppedFrames: 0, droppedPartials: 0,
    skippedDecodes: 0, errors: 0, openedAt: 1000, closedAt: null, closeReason: null, ...over,
  };
}

export function event(t: number, kind: TelemetryEvent['kind'], detail: string, sessionId: string | null = 'aaaaaaaa-1', step: number | null = 5): TelemetryEvent {
  return { t, session: sessionId, step, kind, detail };
}

export function snapshot(over: Partial<TelemetrySnapshot> = {}): TelemetrySnapshot {
  const spans: Partial<Record<SpanName, SpanStats>> = {
    'net.recv': stats(0.1, 0.2, 0.3),
    'queue.wait': stats(0.5, 1, 2),
    'mimi.encode': stats(5, 6, 8),
    'lm.temporal': stats(10, 12, 15),
    'lm.depformer': stats(8, 9, 11),
    'mimi.decode': stats(5, 6, 7),
    'net.send': stats(0.2, 0.4, 0.6),
    'step.total': stats(30, 36, 44),
    e2e: stats(32, 39, 48),
  };
  return {
    v: 1, seq: 7, t: 65_000, model: 'tiny', untrained: true, engine: { state: 'ok', reason: null, restarts: 0 },
    budgetMs: 80, window: 1000, sessionWindow: 250, steps: 120, budgetMisses: 0, realTimeFactor: 0.42, spans,
    budget: { window: 120, misses: 0, keepsUp: true, realTimeFactor: 0.42, engineRealTimeFactor: 0.4 },
    stepTotals: Array.from({ length: 120 }, (_, i) => 30 + (i % 10)),
    e2es: Array.from({ length: 120 }, (_, i) => 32 + (i % 10)),
    frames: { late: 0, missing: 0, dropped: 0 }, droppedPartials: 0, skippedDecodes: 0, errors: 0,
    queue: { inputFrames: 0, sendBytes: 0 }, eventLoopLagMs: { p50: 1, p99: 2, max: 3 },
    sessions: [session('aaaaaaaa-1')], events: [], ...over,
  };
}

export const plainText = (s: string | undefined): string => (s ?? '').replace(/\u001B\[[0-9;]*m/g, '');
