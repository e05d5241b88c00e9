// The telemetry stream: snapshots of the server's figures pushed to subscribers at a few
// hertz (the Ink dashboard over GET /telemetry as Server-Sent Events, or in-process). It
// adds what /health lacks for a live view: per-session figures, the recent end-to-end
// (e2e, what the budget counts) series and the recent events. The step loop only feeds it through cheap hook taps (a
// ring push, a counter); snapshots are built on a timer while someone listens, and a
// subscriber that does not keep up skips snapshots instead of buffering them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finishedSpans, type FinishedStep } from '../engine/step-record.ts';
import type { WorkerFigures } from '../engine/host.ts';
import type { StepEvent, StepEventKind } from '../telemetry/events.ts';
import type { SpanName } from '../telemetry/spans.ts';
import { budgetVerdict, RollingWindow, type BudgetVerdict, type SpanStats } from '../telemetry/window.ts';
import type { AdmissionState } from './admission.ts';
import type { EnginePort } from './engine-port.ts';
import type { SessionHooks } from './hooks.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Session } from './session.ts';
import type { ServerStats } from './stats.ts';

export const TELEMETRY_VERSION = 1;
/** Push rate bounds: a dashboard renders at most ~10 frames/s, so more would be waste. */
export const TELEMETRY_MAX_HZ = 10;
export const TELEMETRY_DEFAULT_HZ = 5;
/** Open GET /telemetry streams at once; more are refused (503) rather than slowing the server's event loop. */
export const TELEMETRY_MAX_STREAMS = 16;
/** e2e samples in each snapshot (the dashboard's sparkline). */
const SERIES = 120;
const RECENT_EVENTS = 50;
/** Closed sessions kept in the list, so a session that just ended stays visible. */
const CLOSED_KEPT = 8;
const SESSION_WINDOW = 250;

export interface TelemetryEvent {
  /** ms since the server started. */
  readonly t: number;
  readonly session: string | null;
  readonly step: number | null;
  readonly kind: StepEventKind | 'engine-state' | 'session-open' | 'session-close';
  readonly detail: string;
}

export interface SessionFigures {
  readonly id: string;
  readonly state: string;
  readonly steps: number;
  readonly framesReceived: number;
  readonly inputQueue: number;
  readonly sendQueueBytes: number;
  /** step.total (model work only) over the session's recent steps (null before its first). */
  readonly stepTotal: SpanStats | null;
  /** e2e (frame in → reply out) over the session's recent steps (null before its first; absent from older servers). */
  readonly e2e?: SpanStats | null;
  /** Steps whose e2e exceeded the budget, since the session opened. */
  readonly budgetMisses: number;
  /** The budget verdict over the session's recent steps (absent from older servers). */
  readonly keepsUp?: boolean | null;
  readonly late: number;
  readonly missing: number;
  readonly droppedFrames: number;
  readonly droppedPartials: number;
  readonly skippedDecodes: number;
  readonly errors: number;
  /** ms since the server started. */
  readonly openedAt: number;
  readonly closedAt: number | null;
  readonly closeReason: string | null;
}

export interface TelemetrySnapshot {
  readonly v: typeof TELEMETRY_VERSION;
  readonly seq: number;
  /** ms since the server started. */
  readonly t: number;
  readonly model: string | null;
  readonly untrained: boolean | null;
  /** workers: each engine process (absent from servers older than the engine pool). */
  readonly engine: { readonly state: string; readonly reason: string | null; readonly restarts: number; readonly workers?: readonly WorkerFigures[] };
  /** Admission now, as /health's: cost per step, capacity, admitted and refused counts, why it would refuse (absent from older servers). */
  readonly admission?: TelemetryAdmission | null;
  readonly budgetMs: number;
  /** Steps the server-wide span figures cover at most (the last `window` steps of all sessions). */
  readonly window: number;
  /** Steps each session's stepTotal and e2e cover at most (its own last steps). */
  readonly sessionWindow: number;
  readonly steps: number;
  /** Steps whose e2e exceeded the budget, since the server started. */
  readonly budgetMisses: number;
  /** Mean e2e over the window / budget (above 1: replies fall behind real time). */
  readonly realTimeFactor: number | null;
  /** The end-to-end budget verdict over the window (absent from older servers). */
  readonly budget?: BudgetVerdict;
  readonly spans: Partial<Record<SpanName, SpanStats>>;
  /** The last step.total values, oldest first. */
  readonly stepTotals: readonly number[];
  /** The last e2e values, oldest first: what the budget counts (absent from older servers). */
  readonly e2es?: readonly number[];
  readonly frames: { readonly late: number; readonly missing: number; readonly dropped: number };
  readonly droppedPartials: number;
  readonly skippedDecodes: number;
  readonly errors: number;
  readonly queue: { readonly inputFrames: number; readonly sendBytes: number };
  readonly eventLoopLagMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly sessions: readonly SessionFigures[];
  readonly events: readonly TelemetryEvent[];
}

export type TelemetryAdmission = AdmissionState & { readonly mode: 'cost' | 'max-sessions' };

export interface TelemetryContext {
  readonly engine: EnginePort | null;
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly sessions: () => Iterable<Session>;
  readonly startedAt: number;
  readonly admission?: () => TelemetryAdmission;
}

class SessionTrack {
  readonly totals = new RollingWindow(SESSION_WINDOW);
  readonly e2e = new RollingWindow(SESSION_WINDOW);
  readonly counts: Partial<Record<StepEventKind, number>> = {};
  misses = 0;
  closedAt: number | null = null;
  closeReason: string | null = null;
  last: ReturnType<Session['summary']> | null = null;
  readonly openedAt: number;
  constructor(openedAt: number) {
    this.openedAt = openedAt;
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100;
function roundStats(s: SpanStats): SpanStats {
  return { count: s.count, window: s.window, p50: r2(s.p50), p95: r2(s.p95), p99: r2(s.p99), max: r2(s.max), mean: r2(s.mean) };
}

function describe(e: StepEvent): string {
  switch (e.kind) {
    case 'late-frame': return `frame ${e.seq} ${e.lateMs} ms late`;
    case 'missing-frame': return `no frame: ${e.replacement} instead`;
    case 'dropped-frame': return `frame ${e.seq} dropped (came after its step)`;
    case 'skipped-decode': return `decode skipped: ${e.reason}`;
    case 'dropped-partial': return `partial text dropped (token ${e.token})`;
    case 'reset': return `reset: ${e.reason}`;
    case 'engine-restart': return `engine restarted: ${e.reason}`;
    case 'protocol-error': return `${e.code}: ${e.message}`;
    case 'ignored-message': return `message kind ${e.byte} ignored: ${e.reason}`;
    case 'error': return e.message;
  }
}

type Listener = (s: TelemetrySnapshot) => void;

export class TelemetryFeed {
  private readonly ctx: TelemetryContext;
  private readonly tracks = new Map<string, SessionTrack>();
  private readonly series = new RollingWindow(SERIES);
  private readonly e2eSeries = new RollingWindow(SERIES);
  private readonly recent: TelemetryEvent[] = [];
  private readonly listeners = new Set<{ fn: Listener; timer: ReturnType<typeof setInterval> }>();
  private readonly responses = new Set<ServerResponse>();
  private seq = 0;
  private cached: { at: number; snap: TelemetrySnapshot } | null = null;
  private closed = false;
  private readonly onEngineState = (state: string, reason: string | null) =>
    this.note(null, null, 'engine-state', `engine ${state}${reason ? `: ${reason}` : ''}`);

  constructor(ctx: TelemetryContext) {
    this.ctx = ctx;
    ctx.engine?.on('state', this.onEngineState);
  }

  private now(): number {
    return this.ctx.options.clock.now() - this.ctx.startedAt;
  }

  private note(session: string | null, step: number | null, kind: TelemetryEvent['kind'], detail: string): void {
    this.recent.push({ t: Math.round(this.now()), session, step, kind, detail });
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
  }

  private event(session: string, step: number | null, e: StepEvent): void {
    const track = this.tracks.get(session);
    if (track) track.counts[e.kind] = (track.counts[e.kind] ?? 0) + 1;
    this.note(session, step, e.kind, describe(e));
  }

  /** The session hooks with this feed's taps in front (each tap is a counter or a ring push). */
  tap(inner: SessionHooks): SessionHooks {
    const taps: SessionHooks = {
      onSessionOpen: (id) => {
        this.tracks.set(id, new SessionTrack(Math.round(this.now())));
        this.note(id, null, 'session-open', 'session opened');
      },
      onStepFinished: (id, record: FinishedStep) => {
        for (const e of record.events) this.event(id, record.step, e);
        const spans = finishedSpans(record);
        const total = spans['step.total'];
        const e2e = spans.e2e;
        if (total !== undefined) this.series.push(total);
        if (e2e !== undefined) this.e2eSeries.push(e2e);
        const track = this.tracks.get(id);
        if (!track) return;
        if (total !== undefined) track.totals.push(total);
        if (e2e === undefined) return;
        track.e2e.push(e2e);
        if (e2e > this.ctx.stats.steps.budgetMs) track.misses++;
      },
      onEvent: (id, e) => this.event(id, null, e),
      onSessionClose: (id, code, reason) => {
        const track = this.tracks.get(id);
        if (!track) return;
        track.closedAt = Math.round(this.now());
        // Its last figures: the registry still holds it while the close hooks run.
        for (const s of this.ctx.sessions()) if (s.id === id) track.last = s.summary();
        track.closeReason = `${code}${reason ? ` ${reason}` : ''}`;
        this.note(id, null, 'session-close', `closed ${track.closeReason}`);
        this.forgetOldSessions();
      },
    };
    return tapHooks(inner, taps);
  }

  private forgetOldSessions(): void {
    const closed = [...this.tracks].filter(([, t]) => t.closedAt !== null);
    for (const [id] of closed.slice(0, Math.max(0, closed.length - CLOSED_KEPT))) this.tracks.delete(id);
  }

  /** The figures now. Cheap (sorts a few windows of ≤ statsWindow numbers); cached for 50 ms across subscribers. */
  snapshot(): TelemetrySnapshot {
    const at = this.ctx.options.clock.now();
    if (this.cached && at - this.cached.at < 50) return this.cached.snap;
    const { stats, engine } = this.ctx;
    const live = new Map<string, ReturnType<Session['summary']>>();
    for (const s of this.ctx.sessions()) live.set(s.id, s.summary());
    let inputFrames = 0;
    let sendBytes = 0;
    for (const x of live.values()) {
      inputFrames += x.inputQueue;
      sendBytes += x.sendQueueBytes;
    }
    const sessions: SessionFigures[] = [];
    const ids = new Set([...live.keys(), ...this.tracks.keys()]);
    for (const id of ids) {
      const track = this.tracks.get(id);
      const sum = live.get(id) ?? track?.last ?? null;
      if (track && sum) track.last = sum;
      const c = track?.counts ?? {};
      sessions.push({
        id,
        state: live.has(id) ? sum!.state : 'closed',
        steps: sum?.steps ?? 0,
        framesReceived: sum?.framesReceived ?? 0,
        inputQueue: live.has(id) ? sum!.inputQueue : 0,
        sendQueueBytes: live.has(id) ? sum!.sendQueueBytes : 0,
        stepTotal: track && track.totals.total > 0 ? roundStats(track.totals.stats()) : null,
        e2e: track && track.e2e.total > 0 ? roundStats(track.e2e.stats()) : null,
        budgetMisses: track?.misses ?? 0,
        keepsUp: track ? budgetVerdict(track.e2e.values(), [], this.ctx.stats.steps.budgetMs).keepsUp : null,
        late: c['late-frame'] ?? 0,
        missing: c['missing-frame'] ?? 0,
        droppedFrames: c['dropped-frame'] ?? 0,
        droppedPartials: c['dropped-partial'] ?? 0,
        skippedDecodes: c['skipped-decode'] ?? 0,
        errors: (c['protocol-error'] ?? 0) + (c.error ?? 0),
        openedAt: track?.openedAt ?? 0,
        closedAt: track?.closedAt ?? null,
        closeReason: track?.closeReason ?? null,
      });
    }
    // Live sessions first (newest first), then the recently closed ones.
    sessions.sort((a, b) => (a.closedAt === null) !== (b.closedAt === null) ? (a.closedAt === null ? -1 : 1) : b.openedAt - a.openedAt);
    const spans: Partial<Record<SpanName, SpanStats>> = {};
    for (const [name, s] of Object.entries(stats.steps.snapshot()) as [SpanName, SpanStats][]) spans[name] = roundStats(s);
    const ev = stats.events;
    const budget = stats.budget();
    const rtf = budget.realTimeFactor;
    const info = engine?.info ?? null;
    const snap: TelemetrySnapshot = {
      v: TELEMETRY_VERSION,
      seq: ++this.seq,
      t: Math.round(at - this.ctx.startedAt),
      model: info?.model ?? null,
      untrained: info?.untrained ?? null,
      engine: { state: engine?.state ?? 'none', reason: engine ? engine.reason : this.ctx.options.noEngineReason, restarts: engine?.restartCount ?? 0, workers: engine?.workers ?? [] },
      admission: this.ctx.admission?.() ?? null,
      budgetMs: stats.steps.budgetMs,
      window: this.ctx.options.statsWindow,
      sessionWindow: SESSION_WINDOW,
      steps: stats.steps.steps,
      budgetMisses: stats.steps.budgetMisses,
      realTimeFactor: rtf === null ? null : Math.round(rtf * 1000) / 1000,
      budget,
      spans,
      stepTotals: Array.from(this.series.values(), r2),
      e2es: Array.from(this.e2eSeries.values(), r2),
      frames: { late: ev['late-frame'] ?? 0, missing: ev['missing-frame'] ?? 0, dropped: ev['dropped-frame'] ?? 0 },
      droppedPartials: ev['dropped-partial'] ?? 0,
      skippedDecodes: ev['skipped-decode'] ?? 0,
      errors: (ev['protocol-error'] ?? 0) + (ev.error ?? 0),
      queue: { inputFrames, sendBytes },
      eventLoopLagMs: stats.eventLoopLagMs(),
      sessions,
      events: [...this.recent],
    };
    this.cached = { at, snap };
    return snap;
  }

  /** Calls `fn` with a snapshot now and then every 1/hz s until the returned function is called. */
  subscribe(fn: Listener, hz = TELEMETRY_DEFAULT_HZ): () => void {
    if (this.closed) return () => undefined;
    const rate = clampHz(hz);
    const entry = { fn, timer: setInterval(() => fn(this.snapshot()), 1000 / rate) };
    entry.timer.unref();
    this.listeners.add(entry);
    queueMicrotask(() => {
      if (this.listeners.has(entry)) fn(this.snapshot());
    });
    return () => {
      clearInterval(entry.timer);
      this.listeners.delete(entry);
    };
  }

  /** GET /telemetry[?hz=N]: the snapshots as Server-Sent Events (`event: telemetry`, JSON data). */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const hzArg = new URL(req.url ?? '/', 'http://localhost').searchParams.get('hz');
    const hz = hzArg === null ? TELEMETRY_DEFAULT_HZ : Number(hzArg);
    if (!Number.isFinite(hz) || hz <= 0) {
      const body = JSON.stringify({ error: `hz must be a number in (0, ${TELEMETRY_MAX_HZ}], got ${hzArg}` });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (this.responses.size >= TELEMETRY_MAX_STREAMS) {
      // Each stream costs a serialisation per tick on the event loop that paces audio.
      const body = JSON.stringify({ error: `${this.responses.size} telemetry streams already open (limit ${TELEMETRY_MAX_STREAMS}); close one or use GET /health` });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'retry-after': '5' });
      res.end(body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD' || this.closed) {
      res.end();
      return;
    }
    res.write(`retry: 2000\n\n`);
    this.responses.add(res);
    const stop = this.subscribe((snap) => {
      // A reader that is behind gets the next snapshot it can take, not a growing backlog.
      if (res.writableNeedDrain) return;
      res.write(`event: telemetry\nid: ${snap.seq}\ndata: ${JSON.stringify(snap)}\n\n`);
    }, hz);
    res.on('close', () => {
      stop();
      this.responses.delete(res);
    });
  }

  /** Server shutdown: every stream is told why and ended; no more snapshots. */
  close(reason = 'server shutting down'): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.engine?.off('state', this.onEngineState);
    for (const l of this.listeners) clearInterval(l.timer);
    this.listeners.clear();
    for (const res of this.responses) res.end(`event: bye\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.responses.clear();
  }
}

export function clampHz(hz: number): number {
  return Math.min(TELEMETRY_MAX_HZ, Math.max(0.2, hz));
}

/**
 * `inner` with `taps` called first for the hooks they define. Every other hook, present or
 * added later, is passed through bound to `inner` (the recorder is a class instance). A
 * throwing tap does not keep the inner hook from running.
 */
export function tapHooks(inner: SessionHooks, taps: SessionHooks): SessionHooks {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, key) {
      const cached = bound.get(key);
      if (cached !== undefined) return cached;
      const own = Reflect.get(target, key) as unknown;
      const tap = (taps as Record<PropertyKey, unknown>)[key];
      let out: unknown = own;
      if (typeof tap === 'function') {
        out = (...args: unknown[]) => {
          try {
            (tap as (...a: unknown[]) => void)(...args);
          } catch {
            // A telemetry fault must not cost the recorder its hook; the figures just miss it.
          }
          return typeof own === 'function' ? (own as (...a: unknown[]) => unknown).apply(target, args) : undefined;
        };
      } else if (typeof own === 'function') {
        out = (own as (...a: unknown[]) => unknown).bind(target);
      }
      bound.set(key, out);
      return out;
    },
    has(target, key) {
      return key in target || key in taps;
    },
  });
}
