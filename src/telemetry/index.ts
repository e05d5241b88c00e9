// Telemetry shared by engine, server, harness, dashboard, viewer and bench. Browser-safe
// except host.ts (imported directly where needed).
export { realClock, VirtualClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { BUDGET_MS, E2E_PARTS, ENGINE_SPANS, SERVER_SPANS, SPAN_NAMES, endToEndMs, isSpanName, SpanTimer, withEndToEnd } from './spans.ts';
export type { SpanName, StepSpans } from './spans.ts';
export { budgetVerdict, keepsUpText, percentile, summarize, RollingWindow, StepStats } from './window.ts';
export type { BudgetVerdict, LifetimeStats, SpanStats } from './window.ts';
export { formatPrometheus } from './prometheus.ts';
export { affectsComputation } from './events.ts';
export type { StepEvent, StepEventKind } from './events.ts';
export type { MetricsInput } from './prometheus.ts';
export { sessionToChromeTrace, TRACE_STAGES } from './chrome-trace.ts';
export type { ChromeTrace, TraceEvent, TraceInput, TracePacket, TraceStep } from './chrome-trace.ts';
