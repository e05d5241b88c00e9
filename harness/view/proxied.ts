// A session measured from outside the server (recorded by `solacelive proxy`, or by a load
// test in the same format) as the viewer and the dashboard show it: what it is and whom it
// measured, its proxy.json checked, and its timing placed on the session's frames. Step line
// k is client frame k (input.wav frame k; output.wav holds the reply to it, server frame
// k − warm-up), so a lag point sits on the client frame it answers, and a time (a stall, the
// client's give-up, the close) on the replies around it: a stall lies on the jump it makes
// in the lag line. Browser-safe.
import { CodedError } from '../../src/errors.ts';
import type { SessionManifest } from '../format/manifest.ts';
import { PROXY_FORMAT, proxyMetaOf, UPSTREAM_MODEL_PREFIX, type ProxyFile } from '../format/proxied.ts';
import type { ConnectionEvent, ConnectionFigures } from '../measure/meter.ts';

export type { ProxyFile };

export interface MeasuredSession {
  /** 'load test' when a load-test client recorded it (manifest meta.loadtest), else 'proxied'. */
  readonly kind: 'proxied' | 'load test';
  /** The server that answered, as recorded (no query, no credentials). */
  readonly upstream: string;
}

/** What measured the session from outside, or null for a session SolaceLive's engine recorded (it has step spans). */
export function measuredSession(m: Pick<SessionManifest, 'meta' | 'model'>): MeasuredSession | null {
  const upstream = proxyMetaOf(m)?.upstream ?? (m.model.id.startsWith(UPSTREAM_MODEL_PREFIX) ? m.model.id.slice(UPSTREAM_MODEL_PREFIX.length) : null);
  if (upstream === null) return null;
  const lt = m.meta.loadtest;
  return { kind: typeof lt === 'object' && lt !== null ? 'load test' : 'proxied', upstream };
}

export class ProxyFileError extends CodedError<'VIEW_ERR_PROXY_FILE'> {
  override readonly name = 'ProxyFileError';
  constructor(message: string) {
    super('VIEW_ERR_PROXY_FILE', message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);

/** proxy.json's text, checked for what the views read of it; the error names the field. */
export function parseProxyFile(text: string): ProxyFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new ProxyFileError('proxy.json is not JSON');
  }
  const fail = (path: string, what: string): never => {
    throw new ProxyFileError(`proxy.json: ${path} must be ${what}`);
  };
  if (!isObj(j)) return fail('the file', 'an object');
  if (j.format !== PROXY_FORMAT) fail('format', `"${PROXY_FORMAT}"`);
  if (j.version !== 1) fail('version', '1 (this viewer reads version 1)');
  const f = j.figures;
  if (!isObj(f)) return fail('figures', 'an object');
  const lag = f.lag;
  if (!isObj(lag)) return fail('figures.lag', 'an object');
  for (const k of ['p50', 'p95', 'p99', 'max', 'slopeMsPerMin']) if (!isNumOrNull(lag[k])) fail(`figures.lag.${k}`, 'a number or null');
  if (!isNum(lag.warmupFrames) || lag.warmupFrames < 0) fail('figures.lag.warmupFrames', 'a number >= 0');
  if (!Array.isArray(lag.series) || !lag.series.every((p) => Array.isArray(p) && p.length === 2 && isNum(p[0]) && isNum(p[1]))) fail('figures.lag.series', 'a list of [ms, lag ms] pairs');
  if (lag.frames !== undefined && (!Array.isArray(lag.frames) || lag.frames.length !== (lag.series as unknown[]).length || !lag.frames.every((x) => Number.isSafeInteger(x) && (x as number) >= 0))) {
    fail('figures.lag.frames', 'one frame number per series point');
  }
  const list = (path: string, v: unknown, keys: readonly string[]) => {
    if (!isObj(v) || !Array.isArray(v.list) || !v.list.every((x) => isObj(x) && keys.every((k) => isNum(x[k])))) fail(path, `an object whose list holds {${keys.join(', ')}}`);
  };
  list('figures.stalls', f.stalls, ['atMs', 'durationMs']);
  list('figures.clientTimeouts', f.clientTimeouts, ['atMs', 'silentMs']);
  if (!isObj(f.text) || !Array.isArray(f.text.pieces)) fail('figures.text.pieces', 'a list');
  if (!isObj(f.turns) || !isObj(f.turns.responseGap)) fail('figures.turns', 'an object with responseGap');
  if (!Array.isArray(f.events)) fail('figures.events', 'a list');
  if (f.end !== null && !(isObj(f.end) && isNum(f.end.atMs) && isNum(f.end.code) && typeof f.end.by === 'string')) fail('figures.end', 'null or {by, code, reason, atMs}');
  if (!isNum(f.durationMs)) fail('figures.durationMs', 'a number');
  return j as unknown as ProxyFile;
}

/** Milliseconds of client audio per step line. */
const LINE_MS = 80;

export interface LagPoint {
  /** Step line: the client frame this reply answers. */
  readonly line: number;
  /** When the reply arrived, ms since the connection started. */
  readonly atMs: number;
  readonly lagMs: number;
}

/** The lag series on step lines (files written before lag.frames: by order, as the meter pairs them when nothing was unmatched). */
export function lagPoints(f: ConnectionFigures): LagPoint[] {
  const frames = f.lag.frames;
  return f.lag.series.map(([atMs, lagMs], i) => ({ line: (frames?.[i] ?? i) + f.lag.warmupFrames, atMs, lagMs }));
}

/**
 * Where session time `t` falls on the step lines, in line units (a point is drawn in the
 * middle of its line's column, line + 0.5): between two replies, interpolated on their
 * arrival times; before the first or after the last, 80 ms per line. Not clamped.
 */
export function lineAt(points: readonly LagPoint[], t: number): number {
  if (points.length === 0) return t / LINE_MS;
  const mid = (p: LagPoint) => p.line + 0.5;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (t <= first.atMs) return mid(first) - (first.atMs - t) / LINE_MS;
  if (t >= last.atMs) return mid(last) + (t - last.atMs) / LINE_MS;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const m = (lo + hi) >> 1;
    if (points[m]!.atMs <= t) lo = m;
    else hi = m;
  }
  const a = points[lo]!;
  const b = points[hi]!;
  const span = b.atMs - a.atMs;
  return span <= 0 ? mid(a) : mid(a) + ((t - a.atMs) / span) * (b.line - a.line);
}

/** proxy.json rounds times to 0.01 ms: two times this close are the same moment. */
const SAME_MS = 0.02;

/** Index of the first point arriving at or after `t` (points.length if none). */
function firstFrom(points: readonly LagPoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (points[m]!.atMs < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * The line of the reply that arrived at `t` (the first of a burst arriving together when
 * `first`, else the last), or lineAt(t) when no reply arrived then: a stall begins and ends
 * with a reply, and its band must start and end on their points.
 */
function replyLineAt(points: readonly LagPoint[], t: number, first: boolean): number {
  const a = firstFrom(points, t - SAME_MS);
  const b = firstFrom(points, t + SAME_MS) - 1;
  if (a > b) return lineAt(points, t);
  return points[first ? a : b]!.line + 0.5;
}

export interface LagMarks {
  /** Gaps in server audio: from the last reply before it to the first after it. */
  readonly stalls: readonly { readonly fromLine: number; readonly toLine: number; readonly atMs: number; readonly durationMs: number }[];
  /** Where a client that gives up after a silence of thresholdMs would have given up. */
  readonly timeouts: readonly { readonly line: number; readonly atMs: number; readonly silentMs: number }[];
  readonly end: (NonNullable<ConnectionFigures['end']> & { readonly line: number }) | null;
  readonly texts: readonly { readonly line: number; readonly atMs: number; readonly text: string }[];
  readonly events: readonly (ConnectionEvent & { readonly line: number })[];
}

/** Everything timed in the figures, on step lines clamped to [0, total]. */
export function lagMarks(f: ConnectionFigures, total: number): LagMarks {
  const points = lagPoints(f);
  const clamp = (line: number) => Math.min(Math.max(line, 0), total);
  const at = (t: number) => clamp(lineAt(points, t));
  return {
    stalls: f.stalls.list.map((s) => ({
      fromLine: clamp(replyLineAt(points, s.atMs, false)), toLine: clamp(replyLineAt(points, s.atMs + s.durationMs, true)), atMs: s.atMs, durationMs: s.durationMs,
    })),
    timeouts: f.clientTimeouts.list.map((c) => ({ line: at(c.atMs), atMs: c.atMs, silentMs: c.silentMs })),
    end: f.end === null ? null : { ...f.end, line: at(f.end.atMs) },
    texts: f.text.pieces.map((p) => ({ line: at(p.atMs), atMs: p.atMs, text: p.text })),
    events: f.events.map((e) => ({ ...e, line: at(e.atMs) })),
  };
}

/** "+12.3 ms/min", "−4 ms/min", or "–" without a slope. */
export function slopeText(slope: number | null): string {
  if (slope === null) return '–';
  return `${slope >= 0 ? '+' : '−'}${Math.abs(slope).toFixed(1)} ms/min`;
}

/** The growth with why there is none: "– (needs answered frames over >= 20 s; these span 1.6 s …)". */
export function growthText(lag: { readonly slopeMsPerMin: number | null; readonly slopeNullReason?: string | null }): string {
  const text = slopeText(lag.slopeMsPerMin);
  return lag.slopeMsPerMin === null && lag.slopeNullReason ? `${text} (${lag.slopeNullReason.replace(/^growth /, '')})` : text;
}

/** Who ended the connection, as a person reads it: "server closed 1013 (FALLING_BEHIND …)". */
export function endText(end: ConnectionFigures['end']): string {
  if (end === null) return 'not closed when the recording ended';
  const who = end.by === 'proxy' ? 'the proxy closed' : `${end.by} closed`;
  return `${who} ${end.code}${end.reason ? ` (${end.reason})` : ''}`;
}
