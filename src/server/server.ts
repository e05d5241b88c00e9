// The server: HTTP (/health, /metrics) and WebSocket sessions on one port. It owns the
// listening socket and the session registry; the engine is given (and started/closed by
// the caller), so the server comes up — degraded if need be — while a model loads.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Admission, type Refusal } from './admission.ts';
import { isAuthorized } from './auth.ts';
import { clientAddress } from './client-address.ts';
import type { EnginePort } from './engine-port.ts';
import type { SessionHooks } from './hooks.ts';
import { handleHttp, healthReport, type HttpContext } from './http.ts';
import { TelemetryFeed } from './telemetry-stream.ts';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.ts';
import { checkRequest, type GuardRefusal } from './request-guard.ts';
import { loadLibopusNode } from '../audio/opus/node.ts';
import { hostFingerprint } from '../telemetry/host.ts';
import { MoshiWire } from './moshi-wire.ts';
import { parseMoshiQuery } from './moshi-query.ts';
import { PacketWire } from './packet-wire.ts';
import type { WireFactory } from './wire.ts';
import { Session } from './session.ts';
import { ServerStats } from './stats.ts';

export interface SolaceServer {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly sessions: ReadonlyMap<string, Session>;
  /** Live telemetry snapshots: GET /telemetry streams them, an in-process dashboard subscribes. */
  readonly telemetry: TelemetryFeed;
  /** Listens; resolves with the bound address (port 0 picks a free port). */
  start(): Promise<{ host: string; port: number; url: string }>;
  /** Graceful shutdown: every session is told and closed (cut after shutdownGraceMs), then the port closes. */
  stop(): Promise<void>;
  /** The /health report, for callers in the same process (dashboard, tests). */
  health(): ReturnType<typeof healthReport>;
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** Refuses an upgrade before any WebSocket exists (bad token, shutting down). */
function refuseUpgrade(socket: Socket, status: number, text: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Where Kyutai's web client and servers speak the Moshi protocol. */
export const MOSHI_PATH = '/api/chat';

let build: { version: string; commit: string | null } | null = null;
/** This package's version and commit, for what the Moshi metadata message shows (read once). */
function buildInfo(): { version: string; commit: string | null } {
  if (!build) {
    const root = new URL('../..', import.meta.url).pathname;
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const fp = hostFingerprint(root, version);
    build = { version: fp.version, commit: fp.commit };
  }
  return build;
}

export function createServer(options: ServerOptions, engine: EnginePort | null, hooks: SessionHooks = {}): SolaceServer {
  const o = resolveServerOptions(options);
  const stats = new ServerStats(o.statsWindow);
  const sessions = new Map<string, Session>();
  const startedAt = o.clock.now();
  const admission = new Admission();
  const live = () => {
    let started = 0;
    for (const x of sessions.values()) if (x.started) started++;
    return started;
  };
  // By cost, the live sessions' recent end-to-end verdict refuses too (they must not be pushed
  // further); by the bound alone (benchmarks that overload on purpose), only the bound does.
  const byCost = o.admission === 'cost';
  const isLive = (id: string) => sessions.get(id)?.started === true;
  const liveBudget = () => (byCost ? stats.recentBudget(o.clock.now(), isLive) : null);
  const ctx: HttpContext = {
    engine, options: o, stats, sessions: () => sessions.values(), startedAt, hooks, isLive,
    admission: () => ({ mode: o.admission, ...admission.state(byCost ? engine?.workers : undefined, live(), o.maxSessions, liveBudget()) }),
  };
  // The workers sample their CPU time about once a second: take each sample while it is
  // fresh, so the cost covers steps and not the idle time between admissions.
  const observe = setInterval(() => {
    if (engine?.workers) admission.observe(engine.workers);
  }, 500).unref();
  // The feed taps the sessions' hooks; /health keeps reading the caller's own (ctx.hooks).
  const telemetry = new TelemetryFeed(ctx);
  ctx.telemetry = telemetry;
  const sessionHooks = telemetry.tap(hooks);
  const http = createHttpServer((req, res) => {
    const refusal = guard(req);
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: refusal.message, code: refusal.code }));
      return;
    }
    handleHttp(req, res, ctx, isAuthorized(req, o.token));
  });
  // Deflate off: float audio does not compress, and it would cost CPU on the event loop.
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  let stopping: Promise<void> | null = null;

  const onSessionsLost = (ids: readonly string[], reason: string) => {
    for (const id of ids) sessions.get(id)?.engineLost(reason);
  };
  engine?.on('sessions-lost', onSessionsLost);

  /**
   * Started sessions hold the slots; connections that never start do not (see makeRoomForPending).
   * A new one is admitted while the engine holds it at the measured cost (admission.ts), up to maxSessions.
   */
  function admit(): Refusal | null {
    return admission.decide(byCost ? engine?.workers : undefined, live(), o.maxSessions, liveBudget());
  }

  /**
   * Bounds connections that have not sent start: per address and server-wide the oldest goes
   * when a new one would pass the limit, and under pressure (half the bound used) any older
   * than pressureHandshakeMs goes, so idle sockets cannot lock real clients out.
   */
  function makeRoomForPending(remote: string): void {
    const pending = [...sessions.values()].filter((x) => x.pending).sort((a, b) => a.acceptedAt - b.acceptedAt);
    const now = o.clock.now();
    const evict = (x: Session, why: string) => {
      stats.count('pending_evicted');
      x.evictPending(why);
    };
    const fromRemote = pending.filter((x) => x.remote === remote);
    let left = pending.length;
    for (let i = 0; i <= fromRemote.length - o.maxPendingPerAddress; i++) {
      evict(fromRemote[i]!, `${fromRemote.length} connections from ${remote} have not started a session (limit ${o.maxPendingPerAddress}); closed the oldest`);
      left--;
    }
    const rest = pending.filter((x) => x.pending);
    for (let i = 0; i <= rest.length - o.maxPendingConnections; i++) {
      evict(rest[i]!, `${rest.length} connections have not started a session (limit ${o.maxPendingConnections}); closed the oldest`);
      left--;
    }
    if (left + 1 >= o.maxPendingConnections / 2) {
      for (const x of pending) {
        if (x.pending && now - x.acceptedAt >= o.pressureHandshakeMs) {
          evict(x, `no start METADATA within ${o.pressureHandshakeMs} ms while ${left + 1} connections wait to start`);
        }
      }
    }
  }

  /** The wire protocol of an upgrade: Moshi's at /api/chat (its query holds the session's options), ours anywhere else. */
  function wireFor(req: IncomingMessage): WireFactory {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== MOSHI_PATH) return (core) => new PacketWire(core);
    const parsed = parseMoshiQuery(url.search);
    return (core) => new MoshiWire(core, { query: parsed, libopus: loadLibopusNode, build: buildInfo() });
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    stats.count('connections');
    const remote = clientAddress(req, o.trustProxy);
    makeRoomForPending(remote);
    const id = randomUUID();
    const session = new Session({
      id,
      options: o,
      engine,
      hooks: sessionHooks,
      stats,
      remote,
      admit,
      wire: wireFor(req),
      socket: {
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        send: (data, cb) => ws.send(data, { binary: true }, cb),
        close: (code, reason) => ws.close(code, reason),
        terminate: () => ws.terminate(),
      },
      onClosed: (s) => sessions.delete(s.id),
    });
    sessions.set(id, session);
    ws.on('message', (data, isBinary) => session.onMessage(asBytes(data), isBinary));
    ws.on('close', (code, reason) => session.onSocketClose(code, reason.toString()));
    // ws reports bad frames and oversized messages here, after closing with 1002/1009 itself.
    ws.on('error', () => stats.count('protocol_errors'));
  }

  const guardRules = { bindHost: o.host, allowOrigins: o.allowOrigins };
  /** Host and Origin rules (request-guard.ts) for every request and upgrade. */
  function guard(req: IncomingMessage): GuardRefusal | null {
    const refusal = checkRequest(req.headers, guardRules);
    if (refusal) stats.count('requests_refused');
    return refusal;
  }

  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    if (stopping) return refuseUpgrade(socket, 503, 'Service Unavailable', 'server shutting down\n');
    const refusal = guard(req);
    if (refusal) return refuseUpgrade(socket, 403, 'Forbidden', `${refusal.code}: ${refusal.message}\n`);
    if (!isAuthorized(req, o.token)) {
      stats.count('auth_failures');
      return refuseUpgrade(socket, 401, 'Unauthorized', 'unauthorized: send "Authorization: Bearer <token>" or ?token=<token>\n');
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  });

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(observe);
      telemetry.close();
      http.close();
      const all = [...sessions.values()];
      const closed = Promise.all(all.map((s) => s.shutdown()));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<'cut'>((r) => (timer = setTimeout(() => r('cut'), o.shutdownGraceMs)));
      if ((await Promise.race([closed, grace])) === 'cut') {
        for (const s of all) s.terminate();
        await closed;
      }
      clearTimeout(timer);
      http.closeAllConnections();
      engine?.off('sessions-lost', onSessionsLost);
      wss.close();
      stats.close();
    })();
    return stopping;
  }

  return {
    options: o,
    stats,
    sessions,
    telemetry,
    health: () => healthReport(ctx),
    start: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(o.port, o.host, () => {
          http.off('error', reject);
          const a = http.address() as AddressInfo;
          const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `ws://${host}:${a.port}` });
        });
      }),
    stop,
  };
}

/** SIGINT/SIGTERM → `stop` once; a second signal exits at once. Returns a remover. */
export function stopOnSignals(stop: () => Promise<void>, onStopped: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    void stop().finally(() => onStopped(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
