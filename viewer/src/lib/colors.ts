// One colour per span (timeline, legend, summary) and per event kind (markers).
import type { SpanName } from '../../../src/telemetry/spans.ts';

export const SPAN_COLORS: Readonly<Record<SpanName, string>> = {
  'net.recv': '#8d99ae',
  'queue.wait': '#c9ada7',
  'mimi.encode': '#4ea8de',
  'lm.temporal': '#f4a261',
  'lm.depformer': '#e9c46a',
  'mimi.decode': '#2a9d8f',
  'net.send': '#b5838d',
  'step.total': '#ffffff',
  'e2e': '#ffd60a',
};

export const BUDGET_COLOR = '#ff3b30';
export const MISS_COLOR = '#ff3b30';
export const DIVERGED_COLOR = '#c77dff';
export const SELECT_COLOR = 'rgba(255,255,255,0.18)';
export const PLAYHEAD_COLOR = '#80ffdb';

export const EVENT_COLORS: Readonly<Record<string, string>> = {
  'late-frame': '#ffb703',
  'missing-frame': '#fb8500',
  'dropped-frame': '#fb5607',
  'skipped-decode': '#ff006e',
  'dropped-partial': '#8338ec',
  'reset': '#3a86ff',
  'engine-restart': '#ff0054',
  'protocol-error': '#d00000',
  'error': '#d00000',
};

/** The lag lane of a proxied or load-test session. */
export const LAG_COLORS = {
  lag: '#ffd60a',
  p50: '#8ecae6',
  p99: '#ff8fab',
  trend: '#c77dff',
  stall: 'rgba(251,133,0,0.45)',
  stallText: '#fb8500',
  timeout: '#ff3b30',
  end: '#e6e6e6',
} as const;

export const fmtMs = (ms: number | null | undefined, digits = 1): string => (ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : `${ms.toFixed(digits)} ms`);
