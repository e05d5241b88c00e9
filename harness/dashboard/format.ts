// Pure formatting for the dashboard: numbers, latency bars against the budget, sparklines
// and headroom colours. No Ink here, so the interactive views and the plain (non-TTY)
// output share the same arithmetic and tests can check it cell by cell.
import type { SpanStats } from '../../src/telemetry/window.ts';
import type { SessionFigures } from '../../src/server/telemetry-stream.ts';

export type Headroom = 'ok' | 'tight' | 'over' | 'none';

/** How close a latency is to the budget: ok below half, tight below the budget, over above. */
export function headroom(ms: number | null | undefined, budgetMs: number): Headroom {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'none';
  if (ms > budgetMs) return 'over';
  return ms >= budgetMs / 2 ? 'tight' : 'ok';
}

export const HEADROOM_COLOR: Record<Headroom, string> = { ok: 'green', tight: 'yellow', over: 'red', none: 'gray' };

/**
 * The scale of the bars: the budget sits at 80% of it unless a p99 reaches further, up to
 * twice the budget; beyond that a bar ends in an overflow mark rather than squash the
 * others (one slow warm-up step would otherwise flatten every bar).
 */
export function barScale(budgetMs: number, spans: readonly (Pick<SpanStats, 'p99'> | undefined)[]): number {
  let top = budgetMs * 1.25;
  for (const s of spans) if (s && Number.isFinite(s.p99) && s.p99 > top) top = s.p99;
  top = Math.min(top, budgetMs * 2);
  // Round up to a multiple of 20 ms so the scale does not jitter with every snapshot.
  return Math.ceil(top / 20) * 20;
}

export interface BarCells {
  /** Cells up to p50, p50..p95 and p95..p99. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Column of the budget line (0-based), or -1 when it is off the scale. */
  readonly budget: number;
  readonly width: number;
  /** p99 is beyond the scale: the last cell shows an overflow mark. */
  readonly overflow: boolean;
}

const cells = (ms: number, scale: number, width: number) =>
  Number.isFinite(ms) && ms > 0 ? Math.min(width, Math.round((ms / scale) * width)) : 0;

/** Cells for one span's p50/p95/p99 in a bar `width` wide covering 0..scaleMs. */
export function barCells(s: Pick<SpanStats, 'p50' | 'p95' | 'p99'>, width: number, scaleMs: number, budgetMs: number): BarCells {
  const p50 = cells(s.p50, scaleMs, width);
  const p95 = Math.max(p50, cells(s.p95, scaleMs, width));
  const p99 = Math.max(p95, cells(s.p99, scaleMs, width));
  const b = Math.round((budgetMs / scaleMs) * width);
  return { p50, p95, p99, budget: b >= 0 && b < width ? b : -1, width, overflow: s.p99 > scaleMs };
}

/** The bar as text: █ to p50, ▓ to p95, ░ to p99, and │ for the budget where the bar does not reach. */
export function barText(c: BarCells): string {
  let out = '';
  for (let i = 0; i < c.width; i++) {
    if (i < c.p50) out += '█';
    else if (i < c.p95) out += '▓';
    else if (i < c.p99) out += '░';
    else out += i === c.budget ? '│' : ' ';
  }
  return c.overflow ? `${out.slice(0, c.width - 1)}»` : out;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled to max(budget, largest value) so the budget level reads the same. */
export function sparkline(values: readonly number[], budgetMs: number, width: number): { text: string; over: boolean[] } {
  const shown = values.slice(Math.max(0, values.length - width));
  let top = budgetMs;
  for (const v of shown) if (v > top) top = v;
  let text = '';
  const over: boolean[] = [];
  for (const v of shown) {
    const k = Math.min(SPARKS.length - 1, Math.max(0, Math.round((v / top) * (SPARKS.length - 1))));
    text += SPARKS[k];
    over.push(v > budgetMs);
  }
  return { text, over };
}

/** A latency in ms, 4–6 characters: 0.12, 12.3, 123. */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return x.toFixed(0);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Seconds as 12s, 3m04s, 1h02m. */
export function duration(msTotal: number): string {
  const s = Math.max(0, Math.floor(msTotal / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What the server-wide span figures cover: the last `window` steps of all sessions, or all of them while fewer. */
export function spanWindow(window: number, steps: number): string {
  return steps > window ? `the last ${window} of ${steps} steps` : `all ${steps} step${steps === 1 ? '' : 's'}`;
}

/** What each session's own figures cover (the telemetry's per-session window). */
export const sessionWindowNote = (sessionWindow: number): string =>
  `each its own: e2e of last ≤${sessionWindow} steps, counts since open`;

/** The first 8 characters of a session id: enough to tell sessions apart on screen. */
export const shortId = (id: string | null): string => (id === null ? '-' : id.slice(0, 8));

/** `text` cut to `width` characters with an ellipsis. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '0.0%';
}

/**
 * The real-time factor end to end (mean e2e / budget: above 1, replies fall behind) and the
 * engine's alone (mean step.total / budget): "1.52 (engine 0.31)". Never "N× real time": a
 * fast engine says nothing of a server whose frames wait in its queue.
 */
export function rtfText(rtf: number | null, engineRtf: number | null = null): string {
  const f = (x: number | null) => (x === null || !Number.isFinite(x) || x <= 0 ? null : x.toFixed(2));
  const e2e = f(rtf), engine = f(engineRtf);
  if (e2e === null) return engine === null ? '–' : `– (engine ${engine})`;
  return engine === null ? e2e : `${e2e} (engine ${engine})`;
}

/** A session's budget figure: e2e (what the budget counts), step.total from servers older than e2e. */
export const sessionLatency = (x: Pick<SessionFigures, 'e2e' | 'stepTotal'>): SpanStats | null => (x.e2e === undefined ? x.stepTotal : x.e2e);

/** The budget verdict in words, with the steps it covers: "falls behind over the last 1000 steps". */
export function verdictText(keepsUp: boolean | null | undefined, window: number): string {
  if (keepsUp == null) return 'no steps yet';
  return `${keepsUp ? 'keeps up' : 'falls behind'} over the last ${window} step${window === 1 ? '' : 's'}`;
}
