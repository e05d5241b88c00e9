// Prometheus text exposition (format 0.0.4) of the telemetry snapshot, for GET /metrics.
import type { SpanName } from './spans.ts';
import type { LifetimeStats } from './window.ts';

export interface MetricsInput {
  readonly spans: Partial<Record<SpanName, LifetimeStats>>;
  readonly counters: Readonly<Record<string, number>>;
  readonly gauges: Readonly<Record<string, number>>;
}

const metricName = (s: string) => `solacelive_${s.replace(/[^a-zA-Z0-9_]/g, '_')}`;
const num = (x: number) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : String(x));

export function formatPrometheus(m: MetricsInput): string {
  const lines: string[] = [];
  const spans = Object.entries(m.spans) as [SpanName, LifetimeStats][];
  // Quantiles of a summary may cover a window; _sum and _count must only grow (rate() reads them).
  const window = spans.length ? `the last ≤${spans[0]![1].capacity} steps of all sessions` : 'the server\'s window of recent steps';
  lines.push(`# HELP solacelive_span_ms Per-stage latency, milliseconds: quantiles over ${window}; _sum and _count over every step since the server started.`);
  lines.push('# TYPE solacelive_span_ms summary');
  for (const [span, s] of spans) {
    for (const [q, v] of [['0.5', s.p50], ['0.95', s.p95], ['0.99', s.p99]] as const) {
      lines.push(`solacelive_span_ms{span="${span}",quantile="${q}"} ${num(v)}`);
    }
    lines.push(`solacelive_span_ms_sum{span="${span}"} ${num(s.sum)}`);
    lines.push(`solacelive_span_ms_count{span="${span}"} ${s.count}`);
  }
  for (const [name, v] of Object.entries(m.counters)) {
    const n = `${metricName(name)}_total`;
    lines.push(`# TYPE ${n} counter`, `${n} ${num(v)}`);
  }
  for (const [name, v] of Object.entries(m.gauges)) {
    const n = metricName(name);
    lines.push(`# TYPE ${n} gauge`, `${n} ${num(v)}`);
  }
  return `${lines.join('\n')}\n`;
}
