// `solacelive serve`: the packet server on one port (WebSocket sessions, GET /health,
// GET /metrics). The server listens first and the engine loads after, so /health answers
// (and says why) while a model loads or when none can.
import { blasFromEnv } from '../engine/blas.ts';
import { availableParallelism } from 'node:os';
import { EngineHost } from '../engine/host.ts';
import { EnginePool } from '../engine/pool.ts';
import { resolveModel } from '../engine/models.ts';
import type { EnginePort } from '../server/engine-port.ts';
import { createServer, stopOnSignals } from '../server/server.ts';
import type { SolaceServer } from '../server/server.ts';
import { DEFAULT_HOST, DEFAULT_PORT, resolveServerOptions, SERVER_DEFAULTS, type ServerOptions } from '../server/options.ts';
import { CliError, intOption, parseCommandArgs, UsageError, type Command } from './args.ts';
import type { SessionHooks } from '../server/hooks.ts';
import type { EngineInfo } from '../engine/types.ts';

export interface EngineChoice {
  readonly engine: EnginePort | null;
  /** Why there is no engine (shown on /health and to every client), when engine is null. */
  readonly reason?: string;
}

/**
 * Engine workers `serve` runs by default: one per core. Measured on 2 cores (README, server
 * section): the server's own thread needs a few percent of a core per real-time session, so
 * it does not need a core of its own.
 */
export const DEFAULT_ENGINES = availableParallelism();

/**
 * ENGINE PLUG-IN POINT — the one place `serve` builds its engine. `model` is the --model
 * value (a folder with model.json, or a hub repo such as kyutai/moshiko-mlx-q4), or null
 * for the embedded default (tiny). `engines` worker processes (each loads the model; one is
 * a plain EngineHost, as replay, record and the tests use). Return the engine unstarted:
 * serve starts it after the port is open, and closes it on shutdown.
 */
export async function createEngine(model: string | null, log: (message: string) => void = (m) => console.error(`solacelive serve: ${m}`), engines = 1): Promise<EngineChoice> {
  let spec;
  try {
    spec = resolveModel(model ?? undefined, log);
  } catch (err) {
    // Missing weights: serve degraded and say why, rather than refuse to start.
    return { engine: null, reason: (err as Error).message };
  }
  if (spec.untrained) log(`model ${spec.name} has UNTRAINED synthetic weights: its audio and text are noise`);
  const options = { spec, blas: blasFromEnv() };
  return { engine: engines === 1 ? new EngineHost(options) : new EnginePool({ ...options, engines }) };
}

/** What serve asks of a recorder: hooks that write each session under `dir`. */
export interface RecorderRequest {
  readonly dir: string;
  /** 'all' (--record) or only sessions whose client asks ('requested', --record-requested). */
  readonly mode: 'all' | 'requested';
  readonly engineInfo: () => EngineInfo | null;
  readonly log: (message: string) => void;
}
export type RecorderFactory = (request: RecorderRequest) => SessionHooks;
/** The live dashboard on the running server (harness/dashboard); resolves when the user quits it. */
export type DashboardFactory = (server: SolaceServer, url: string) => Promise<void>;

async function runServe(argv: string[], recorder: RecorderFactory | undefined, dashboard?: DashboardFactory): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    model: { type: 'string' },
    token: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'max-sessions': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-input-rate': { type: 'string' },
    'max-queued-frames': { type: 'string' },
    'max-lag-ms': { type: 'string' },
    admission: { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'dead-peer-ms': { type: 'string' },
    record: { type: 'string' },
    'record-requested': { type: 'string' },
    dashboard: { type: 'boolean' },
    engines: { type: 'string' },
    'trust-proxy': { type: 'boolean' },
  });
  const d = SERVER_DEFAULTS;
  const options: ServerOptions = {
    host: values.host ?? DEFAULT_HOST,
    port: intOption(values, 'port', DEFAULT_PORT),
    // From the environment too, so the token need not appear in `ps`.
    token: values.token ?? process.env.SOLACELIVE_TOKEN ?? null,
    allowOrigins: values['allow-origin'] ?? [],
    maxSessions: intOption(values, 'max-sessions', d.maxSessions),
    maxMessageBytes: intOption(values, 'max-message-bytes', d.maxMessageBytes),
    maxInputRate: intOption(values, 'max-input-rate', d.maxInputRate),
    maxQueuedFrames: intOption(values, 'max-queued-frames', d.maxQueuedFrames),
    maxLagMs: intOption(values, 'max-lag-ms', d.maxLagMs),
    admission: (values.admission ?? d.admission) as ServerOptions['admission'],
    heartbeatMs: intOption(values, 'heartbeat-ms', d.heartbeatMs),
    deadPeerMs: intOption(values, 'dead-peer-ms', d.deadPeerMs),
    trustProxy: values['trust-proxy'] ?? d.trustProxy,
  };
  if (values.dashboard && !dashboard) throw new UsageError('--dashboard needs the dashboard (harness/): run serve through bin/solacelive.mjs');
  // Throws ServerOptionsError (a bad port, a non-loopback host without a token) before the model is looked at.
  resolveServerOptions(options);
  const engines = intOption(values, 'engines', DEFAULT_ENGINES);
  if (!(engines >= 1 && engines <= 64)) throw new UsageError(`--engines must be 1..64 engine worker processes, got ${engines}`);
  // Recording needs the session writer, which lives in harness/ (src never imports it);
  // bin/solacelive.mjs composes this command with harness/cli/serve.ts's recorder, which
  // refuses a folder it cannot write before the model loads.
  const recordDir = values.record ?? values['record-requested'];
  let hooks: SessionHooks = {};
  let engineInfo: () => EngineInfo | null = () => null;
  if (recordDir !== undefined) {
    if (!recorder) throw new UsageError('--record needs the session recorder (harness/): run serve through bin/solacelive.mjs');
    hooks = recorder({ dir: recordDir, mode: values.record !== undefined ? 'all' : 'requested', engineInfo: () => engineInfo(), log: (m) => console.error(`solacelive serve: ${m}`) });
  }
  const { engine, reason } = await createEngine(values.model ?? null, undefined, engines);
  engineInfo = () => engine?.info ?? null;
  const server = createServer(reason === undefined ? options : { ...options, noEngineReason: reason }, engine, hooks);
  const addr = await server.start().catch(async (err: NodeJS.ErrnoException) => {
    await engine?.close();
    throw listenError(err, options);
  });
  const http = addr.url.replace(/^ws:/, 'http:');
  console.error(`solacelive serve: listening on ${addr.url}  (health ${http}/health, metrics ${http}/metrics)`);
  if (!engine) {
    console.error(`solacelive serve: DEGRADED, no model will run: ${server.options.noEngineReason}`);
  } else {
    engine.on('state', (s, why) => console.error(`solacelive serve: engine ${s}${why ? `: ${why}` : ''}`));
    engine.start().then(
      (info) => {
        if (info) console.error(`solacelive serve: model ${info.model} ready${info.untrained ? ' (UNTRAINED synthetic weights: output is noise, not speech)' : ''}`);
      },
      (err: Error) => console.error(`solacelive serve: engine failed to start, serving degraded: ${err.message}`),
    );
  }
  return new Promise<number>((resolve) => {
    const shutdown = async () => {
      console.error('solacelive serve: shutting down (sessions told, then closed)');
      await server.stop();
      await engine?.close();
    };
    stopOnSignals(shutdown, () => resolve(0));
    // Quitting the dashboard (q) stops the server as a signal would.
    if (values.dashboard && dashboard) void dashboard(server, http).then(shutdown, shutdown).then(() => resolve(0));
  });
}

/** A port that cannot be had, said as what to do about it; other errors pass through. */
export function listenError(err: NodeJS.ErrnoException, o: { host?: string; port?: number }): Error {
  const where = `${o.host ?? DEFAULT_HOST}:${o.port ?? DEFAULT_PORT}`;
  if (err.code === 'EADDRINUSE') return new CliError('CLI_ERR_PORT_IN_USE', `port ${where} is in use (another solacelive serve?): pick another with --port P, or --port 0 for a free one`);
  if (err.code === 'EACCES') return new CliError('CLI_ERR_PORT_DENIED', `not allowed to listen on ${where} (ports below 1024 need root): pick another with --port P, or --port 0 for a free one`);
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new CliError('CLI_ERR_HOST', `cannot listen on ${where}: the host name ${o.host} does not resolve (give an address such as 127.0.0.1)`);
  if (err.code === 'EADDRNOTAVAIL') return new CliError('CLI_ERR_HOST', `cannot listen on ${where}: no network interface of this machine has the address ${o.host ?? DEFAULT_HOST}`);
  return err;
}

const SUMMARY = 'run the packet server: WebSocket sessions, GET /health, GET /metrics';
const HELP = [
    'usage: solacelive serve [--host H] [--port P] [--model DIR|REPO] [--token T] [options]',
    '',
    'Serves real-time Moshi sessions over WebSocket (80 ms packets, see README) and',
    'GET /health (JSON) and GET /metrics (Prometheus) on the same port. With no --model it',
    'serves the embedded tiny model, which is UNTRAINED (seeded synthetic weights): it',
    'exercises the real pipeline but its output is not speech.',
    '',
    `  --host H                bind address (default ${DEFAULT_HOST}); anything but loopback needs --token`,
    `  --port P                port (default ${DEFAULT_PORT}; 0 picks a free one)`,
    '  --model DIR|REPO        model folder (with model.json) or hub repo, e.g. kyutai/moshiko-mlx-q4',
    `  --engines N             engine worker processes, each with its own copy of the model (default: one per`,
    `                          core, here ${DEFAULT_ENGINES}); a session stays on one worker, the least loaded when it opens`,
    '  --token T               require "Authorization: Bearer T" or ?token=T (or set SOLACELIVE_TOKEN)',
    '  --allow-origin ORIGIN   also accept browser pages from ORIGIN (scheme://host[:port]; repeatable).',
    '                          By default only pages on localhost, 127.0.0.1 or [::1] (any port) may',
    '                          connect, and a loopback server answers only loopback Host names',
    `  --max-sessions N        upper bound on started sessions (default ${SERVER_DEFAULTS.maxSessions}). Below it a session is`,
    '                          admitted only if the engine workers hold it at the measured cost per step (CPU,',
    '                          or wall time when other processes stretch the steps) and the live sessions',
    '                          keep the end-to-end budget (else SERVER_BUSY, close 1013, retry hint;',
    '                          /health "admission"; /health answers 503 "full" meanwhile). Connections',
    `                          that have not sent start hold no slot (at most ${SERVER_DEFAULTS.maxPendingConnections}, ${SERVER_DEFAULTS.maxPendingPerAddress} per address)`,
    '  --trust-proxy           behind a balancer on this machine (HAProxy with `option forwardfor`): count the',
    '                          per-address limits by the client address in X-Forwarded-For of connections',
    '                          from loopback (default off: the header is ignored, it can be forged)',
    `  --max-message-bytes N   largest WebSocket message accepted (default ${SERVER_DEFAULTS.maxMessageBytes})`,
    `  --max-input-rate N      packets per second per session (default ${SERVER_DEFAULTS.maxInputRate})`,
    `  --max-queued-frames N   frames waiting for the engine per session (default ${SERVER_DEFAULTS.maxQueuedFrames})`,
    '  --admission cost|max-sessions  admit by measured cost under --max-sessions (default), or by',
    '                          --max-sessions alone (benchmarks that overload on purpose)',
    `  --max-lag-ms N          close a real-time session whose frames wait this long for the engine, for`,
    `                          this long in a row (FALLING_BEHIND, close 1013; default ${SERVER_DEFAULTS.maxLagMs})`,
    `  --heartbeat-ms N        server heartbeat interval (default ${SERVER_DEFAULTS.heartbeatMs})`,
    `  --dead-peer-ms N        close a peer silent this long (default ${SERVER_DEFAULTS.deadPeerMs})`,
    '  --record DIR            record every session into DIR/<time>-<id>.session (replay: solacelive replay)',
    '  --record-requested DIR  record only sessions whose client asks (start METADATA "record": true)',
    '  --dashboard             show the live dashboard (as `solacelive dash`) in this terminal; q stops',
    '                          the server. Not on a terminal: a summary line every 5 s and a final table',
    '',
    'GET /health: 200 "ok" only while a new session would be admitted; 503 with "status" "full" (at',
    'capacity), "degraded" (live sessions over the end-to-end budget, or no model), "starting" or',
    '"restarting", and a "reason": what a load balancer\'s health check reads (deploy/haproxy.cfg).',
    '',
    'SIGINT/SIGTERM: every session gets a METADATA error and a 1001 close, then the server exits.',
  ].join('\n');

/** The serve command, with session recording and the dashboard when given them (harness/cli/serve.ts). */
export function makeServeCommand(recorder?: RecorderFactory, dashboard?: DashboardFactory): Command {
  return { summary: SUMMARY, help: HELP, run: (argv) => runServe(argv, recorder, dashboard) };
}

/** Without the harness: everything but --record. */
export const command: Command = makeServeCommand();
