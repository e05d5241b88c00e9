// GET /health (JSON) and GET /metrics (Prometheus text) from the server's telemetry. The
// report says plainly when and why the server cannot take a session: no engine, engine down
// or restarting, no weights (degraded, starting, restarting), admission would refuse the next
// session (full), or its live sessions are falling behind end to end (degraded). Only `ok`
// answers 200, so a load balancer's health check sends new sessions elsewhere meanwhile.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatPrometheus } from '../telemetry/prometheus.ts';
import type { AdmissionState } from './admission.ts';
import type { EnginePort } from './engine-port.ts';
import { weightsFingerprint } from './handshake.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { SessionHooks } from './hooks.ts';
import type { Session } from './session.ts';
import type { ServerStats } from './stats.ts';
import type { TelemetryFeed } from './telemetry-stream.ts';

export interface HttpContext {
  readonly engine: EnginePort | null;
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly sessions: () => Iterable<Session>;
  /** Streams GET /telemetry (Server-Sent Events); set by createServer. */
  telemetry?: TelemetryFeed;
  readonly hooks: SessionHooks;
  /** Clock time the server started. */
  readonly startedAt: number;
  /** Whether a session id is open and started: the live sessions' budget reads only theirs. */
  readonly isLive?: (session: string) => boolean;
  /** Admission by cost now (capacity, cost per session, admitted and refused counts). */
  readonly admission?: () => AdmissionState & { readonly mode: 'cost' | 'max-sessions' };
}

export type HealthStatus = 'ok' | 'full' | 'degraded' | 'starting' | 'restarting' | 'stopped';

type Admitting = NonNullable<ReturnType<NonNullable<HttpContext['admission']>>>;

/**
 * The engine's state first; with the engine ok, admission at its capacity (full), then live
 * sessions over the end-to-end budget now (degraded, whatever the admission mode: a server
 * never says healthy while its clients fall behind).
 */
function status(ctx: HttpContext, admission: Admitting | null, live: number): { status: HealthStatus; reason: string | null } {
  const { engine, options, stats } = ctx;
  if (!engine) return { status: 'degraded', reason: options.noEngineReason };
  if (engine.state !== 'ok') return { status: engine.state, reason: engine.reason };
  const recent = admission?.liveBudget ?? stats.recentBudget(options.clock.now(), ctx.isLive);
  const behind = live > 0 && recent.keepsUp === false;
  const behindText = `end-to-end p99 ${recent.p99Ms} ms over the last ${recent.window} steps (${recent.misses} over the ${stats.steps.budgetMs} ms budget, ${recent.sinceMs / 1000} s)`;
  // At its capacity the server is full, whether or not its sessions are also behind (the reason says which).
  if (admission && admission.live >= admission.capacity) {
    const a = admission;
    const cost = a.mode === 'max-sessions'
      ? 'not charged (admission by --max-sessions alone)'
      : a.costMs === null ? `not measured yet (${a.basis})` : `${a.costMs} ms per step (${a.basis})`;
    const held = a.mode === 'max-sessions' ? `at most ${a.maxSessions}` : `${a.workers} worker${a.workers === 1 ? '' : 's'}, at most ${a.maxSessions}`;
    return {
      status: 'full',
      reason: `full: ${a.refusing ?? `${a.live} of ${a.capacity} sessions`}. Session cost ${cost}, capacity ${a.capacity} (${held}), ` +
        `sessions ${a.live} live${behind ? `, and falling behind: ${behindText}` : ''}; new sessions are refused until one ends`,
    };
  }
  if (behind) {
    return {
      status: 'degraded',
      reason: `live sessions falling behind: ${behindText} with ${live} live; ` +
        (admission?.mode === 'cost' ? 'new sessions are refused until they keep up' : 'admission is by --max-sessions alone, so new sessions are still admitted'),
    };
  }
  return { status: 'ok', reason: null };
}

/** The hooks' own report (the recorder's), or null; a throwing hook does not break /health. */
function hookHealth(ctx: HttpContext): Record<string, unknown> | null {
  try {
    return ctx.hooks.health?.() ?? null;
  } catch (err) {
    ctx.stats.count('hook_errors');
    return { error: (err as Error).message };
  }
}

export function healthReport(ctx: HttpContext) {
  const { engine, options, stats } = ctx;
  const info = engine?.info ?? null;
  const all = [...ctx.sessions()];
  const sessions = all.filter((x) => !x.pending).map((x) => x.summary());
  const pending = all.length - sessions.length;
  const budget = stats.budget();
  const admission = ctx.admission?.() ?? null;
  const s = status(ctx, admission, all.filter((x) => x.started).length);
  return {
    status: s.status,
    reason: s.reason,
    model: info?.model ?? null,
    untrained: info?.untrained ?? null,
    weights: info ? weightsFingerprint(info.weightsSha256) : null,
    weightsSha256: info?.weightsSha256 ?? null,
    fingerprint: info?.fingerprint ?? null,
    engine: { state: engine?.state ?? 'none', reason: engine ? engine.reason : options.noEngineReason, restarts: engine?.restartCount ?? 0, pid: engine?.pid ?? null, workers: engine?.workers ?? [] },
    // Connections that have not started a session hold no slot; they are counted apart.
    sessions: { active: sessions.length, max: options.maxSessions, pending, maxPending: options.maxPendingConnections, list: sessions },
    admission,
    // The live sessions' end-to-end verdict now (their last 100 steps, at most 10 s old): what `degraded` and admission read.
    recentBudget: admission?.liveBudget ?? stats.recentBudget(options.clock.now(), ctx.isLive),
    budgetMs: stats.steps.budgetMs,
    window: options.statsWindow,
    steps: stats.steps.steps,
    // Budget figures are end to end (frame in → reply out, the e2e span); engineMisses counts step.total alone.
    budgetMisses: stats.steps.budgetMisses,
    engineMisses: stats.steps.engineMisses,
    budget,
    keepsUp: budget.keepsUp,
    realTimeFactor: budget.realTimeFactor,
    spans: stats.steps.snapshot(),
    events: stats.events,
    counters: stats.counters,
    eventLoopLagMs: stats.eventLoopLagMs(),
    uptimeS: Math.round(options.clock.now() - ctx.startedAt) / 1000,
    hooks: hookHealth(ctx),
  };
}

export function metricsText(ctx: HttpContext): string {
  const { stats, engine } = ctx;
  const counters: Record<string, number> = { ...stats.counters, budget_misses: stats.steps.budgetMisses, engine_budget_misses: stats.steps.engineMisses };
  for (const [kind, n] of Object.entries(stats.events)) counters[`events_${kind}`] = n;
  let inputFrames = 0;
  let sendBytes = 0;
  let active = 0;
  for (const s of ctx.sessions()) {
    if (s.pending) continue;
    const x = s.summary();
    inputFrames += x.inputQueue;
    sendBytes += x.sendQueueBytes;
    active++;
  }
  const lag = stats.eventLoopLagMs();
  const budget = stats.budget();
  const admission = ctx.admission?.();
  return formatPrometheus({
    spans: stats.steps.snapshot(),
    counters,
    gauges: {
      sessions_active: active,
      sessions_max: ctx.options.maxSessions,
      // Sessions the engine holds at the measured cost per step (admission.ts), and that cost.
      admission_capacity: admission?.capacity ?? NaN,
      session_cost_ms: admission?.costMs ?? NaN,
      // 1 while admission would refuse the next session (at capacity, or live sessions behind), 0 while it admits.
      admission_refusing: admission ? (admission.refusing === null ? 0 : 1) : NaN,
      engine_up: engine?.state === 'ok' ? 1 : 0,
      // Workers that can take a session, of how many (serve --engines): a pool can be up with fewer.
      engine_workers: engine?.workers?.length ?? 0,
      engine_workers_up: engine?.workers?.filter((w) => w.state === 'ok').length ?? 0,
      real_time_factor: budget.realTimeFactor ?? NaN,
      engine_real_time_factor: budget.engineRealTimeFactor ?? NaN,
      // 1 while the window's e2e p99 is within the budget, 0 when the server falls behind (NaN: no steps yet).
      keeps_up: budget.keepsUp === null ? NaN : budget.keepsUp ? 1 : 0,
      input_queue_frames: inputFrames,
      send_queue_bytes: sendBytes,
      event_loop_lag_p99_ms: lag.p99,
    },
  });
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Routes one HTTP request. `authorized` comes from the token check. */
export function handleHttp(req: IncomingMessage, res: ServerResponse, ctx: HttpContext, authorized: boolean): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (!authorized) {
    ctx.stats.count('auth_failures');
    send(res, 401, 'application/json', JSON.stringify({ error: 'unauthorized: send "Authorization: Bearer <token>" or ?token=<token>' }));
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: `${req.method} not allowed: GET /health, /metrics or /telemetry` }));
    return;
  }
  if (path === '/health') {
    const h = healthReport(ctx);
    // A load balancer reads the status code; a person reads `status` and `reason`.
    send(res, h.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(h, null, 2)}\n`);
  } else if (path === '/metrics') {
    send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', metricsText(ctx));
  } else if (path === '/telemetry' && ctx.telemetry) {
    ctx.telemetry.serve(req, res);
  } else {
    send(res, 404, 'application/json', JSON.stringify({ error: `no route ${path}: GET /health, GET /metrics, GET /telemetry (SSE), or a WebSocket upgrade` }));
  }
}
