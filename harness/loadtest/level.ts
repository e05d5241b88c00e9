// One load level: N clients, started over the ramp, each streaming for the duration, then
// the level's figures (per client and pooled) and its verdict against the lag budget. A
// level passes when every client connected, kept its lag p99 within the budget, saw no
// stall, no client-timeout silence, no lost audio and was not disconnected, and the load test
// measured every client whole (its measuring worker kept up and did not die).
import { FRAME_MS } from '../../src/audio/frames.ts';
import type { Libopus } from '../../src/audio/opus/index.ts';
import { percentiles, type MeterOptions, type Percentiles } from '../measure/index.ts';
import { PROXY_DEFAULTS } from '../proxy/index.ts';
import { Measurer } from '../proxy/measurer.ts';
import { CLIENT_FINISH_BOUND_MS, EncodedStream, recordPath, runClient, type ClientProgress, type ClientReport } from './client.ts';
import { LoadtestError } from './errors.ts';
import type { ClientInput } from './input.ts';
import { readServerHealth, type ServerHealth } from './server-health.ts';
import type { Target } from './target.ts';

export interface LevelOptions {
  readonly target: Target;
  readonly clients: number;
  readonly durationS: number;
  readonly rampS: number;
  readonly inputs: readonly ClientInput[];
  readonly budgetMs: number;
  readonly lib: Libopus;
  readonly connectTimeoutMs: number;
  readonly token?: string;
  readonly meter?: Omit<MeterOptions, 'onFrame'>;
  /** Recording folder (one session per client), or null. */
  readonly record: string | null;
  /** Names this run's recordings. */
  readonly runId: string;
  /** A progress line every few seconds. */
  readonly progress?: (line: string) => void;
  readonly progressMs?: number;
  readonly signal?: AbortSignal;
  /** Read the server's own /health at the end of the level (default true). */
  readonly serverHealth?: boolean;
  /** Lines for the console (the measuring worker falling behind or failing); default stderr. */
  readonly log?: (line: string) => void;
  /** Messages (and bytes) the measuring worker may fall behind on one client before its measuring stops (defaults: the proxy's). */
  readonly maxMeasureBacklog?: number;
  readonly maxMeasureBacklogBytes?: number;
  /** How long the level may last before it fails as stuck (default levelBoundMs: the sum of its clients' bounds). */
  readonly boundMs?: number;
  /** TEST-ONLY: CPU the measuring worker burns per message (measuring made slow on purpose). */
  readonly testMeasureBurnMs?: number;
  /** TEST-ONLY: the measuring worker throws after measuring this many messages. */
  readonly testMeasureCrashAt?: number;
}

export interface LevelFigures {
  readonly clients: number;
  readonly connected: number;
  /** Refusals by the server's code (SERVER_BUSY…), never folded into failures. */
  readonly refused: Readonly<Record<string, number>>;
  readonly failed: Readonly<Record<string, number>>;
  /** Lag over every answered frame of every client. */
  readonly lag: Percentiles;
  /** The worst client's lag p99. */
  readonly worstP99: number | null;
  /** Lag growth, ms per minute: the median client's and the largest. */
  readonly growth: { readonly median: number | null; readonly max: number | null };
  readonly handshake: Percentiles;
  readonly firstAudio: Percentiles;
  readonly stalls: number;
  readonly clientTimeouts: number;
  readonly missing: number;
  readonly disconnects: number;
  /** Who closed the disconnected connections, with codes ("server 1011": 2). */
  readonly disconnectCodes: Readonly<Record<string, number>>;
  /** Clients the load test did not measure whole: its measuring worker fell behind (measuring stopped) or died. */
  readonly unmeasured: { readonly backlog: number; readonly workerFailed: number };
}

export interface LevelResult {
  readonly clients: number;
  readonly durationS: number;
  readonly budgetMs: number;
  readonly pass: boolean;
  readonly why: readonly string[];
  readonly figures: LevelFigures;
  readonly reports: readonly ClientReport[];
  readonly seconds: number;
  /** The server's own figures from its /health at the end of the level, or why there are none (not SolaceLive, not asked). */
  readonly server: ServerHealth;
}

const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

export function levelFigures(reports: readonly ClientReport[]): LevelFigures {
  const done = reports.filter((r) => r.status === 'done' && r.figures);
  const refused: Record<string, number> = {};
  const failed: Record<string, number> = {};
  for (const r of reports) {
    if (r.status === 'refused') count(refused, r.error!.code);
    if (r.status === 'failed') count(failed, r.error!.code);
  }
  const figs = done.map((r) => r.figures!);
  const p99s = figs.flatMap((f) => (f.lag.p99 === null ? [] : [f.lag.p99]));
  const slopes = figs.flatMap((f) => (f.lag.slopeMsPerMin === null ? [] : [f.lag.slopeMsPerMin]));
  const disconnectCodes: Record<string, number> = {};
  for (const r of done) if (r.disconnected) count(disconnectCodes, r.figures!.end ? `${r.figures!.end.by} ${r.figures!.end.code}` : 'not closed');
  return {
    clients: reports.length,
    connected: done.length,
    refused,
    failed,
    lag: percentiles(figs.flatMap((f) => f.lag.series.map((p) => p[1]))),
    worstP99: p99s.length ? Math.max(...p99s) : null,
    growth: { median: slopes.length ? percentiles(slopes).p50 : null, max: slopes.length ? Math.max(...slopes) : null },
    handshake: percentiles(figs.flatMap((f) => (f.handshakeMs === null ? [] : [f.handshakeMs]))),
    firstAudio: percentiles(figs.flatMap((f) => (f.firstAudioMs === null ? [] : [f.firstAudioMs]))),
    stalls: figs.reduce((s, f) => s + f.stalls.count, 0),
    clientTimeouts: figs.reduce((s, f) => s + f.clientTimeouts.count, 0),
    missing: figs.reduce((s, f) => s + f.missing.count, 0),
    disconnects: done.filter((r) => r.disconnected).length,
    disconnectCodes,
    unmeasured: {
      backlog: reports.filter((r) => r.figures?.events.some((e) => e.kind === 'measure-backlog')).length,
      workerFailed: reports.filter((r) => r.figures?.events.some((e) => e.kind === 'measure-worker-failed')).length,
    },
  };
}

const list = (m: Readonly<Record<string, number>>) => Object.entries(m).map(([k, n]) => `${n} ${k}`).join(', ');

/** Why a level fails (empty: it passes). */
export function verdict(f: LevelFigures, reports: readonly ClientReport[], budgetMs: number): string[] {
  const why: string[] = [];
  const refused = Object.values(f.refused).reduce((a, b) => a + b, 0);
  const failed = Object.values(f.failed).reduce((a, b) => a + b, 0);
  if (refused) why.push(`${refused} refused (${list(f.refused)})`);
  if (failed) why.push(`${failed} failed to connect (${list(f.failed)})`);
  const over = reports.filter((r) => r.figures && r.status === 'done' && !(r.figures.lag.p99 !== null && r.figures.lag.p99 <= budgetMs));
  if (over.length) why.push(`${over.length} client(s) with lag p99 over ${budgetMs} ms (worst ${f.worstP99 === null ? 'no audio' : `${Math.round(f.worstP99)} ms`})`);
  if (f.stalls) why.push(`${f.stalls} stall(s)`);
  if (f.clientTimeouts) why.push(`${f.clientTimeouts} client-timeout silence(s)`);
  if (f.missing) why.push(`${f.missing} frame(s) never answered`);
  if (f.disconnects) why.push(`${f.disconnects} disconnect(s) (${list(f.disconnectCodes)})`);
  // The load-test process's own trouble, not the server's: its figures are incomplete, so no verdict can pass.
  if (f.unmeasured.backlog) why.push(`${f.unmeasured.backlog} client(s) not measured to the end: the load test's measuring worker fell behind (this machine, not the server)`);
  if (f.unmeasured.workerFailed) why.push(`${f.unmeasured.workerFailed} client(s) not measured to the end: the load test's measuring worker failed`);
  return why;
}

export async function runLevel(o: LevelOptions): Promise<LevelResult> {
  const t0 = performance.now();
  const frames = Math.max(1, Math.round((o.durationS * 1000) / FRAME_MS));
  const streams = new Map<ClientInput, EncodedStream>();
  if (o.target.protocol === 'moshi') for (const input of new Set(Array.from({ length: o.clients }, (_, i) => o.inputs[i % o.inputs.length]!))) streams.set(input, new EncodedStream(o.lib, input, frames));
  const progress: ClientProgress[] = Array.from({ length: o.clients }, () => ({ state: 'connecting', framesSent: 0, framesBack: 0 }));
  const started: boolean[] = progress.map(() => false);
  const log = o.log ?? ((l: string) => console.error(l));
  // One worker decodes, measures and records every Moshi client of the level, as the proxy's does for its connections.
  const measurer = o.target.protocol === 'moshi' ? await Measurer.start({
    lib: o.lib, maxBacklog: o.maxMeasureBacklog ?? PROXY_DEFAULTS.maxMeasureBacklog, maxBacklogBytes: o.maxMeasureBacklogBytes ?? PROXY_DEFAULTS.maxMeasureBacklogBytes,
    hangMs: PROXY_DEFAULTS.measureHangMs,
    test: { testBurnMs: o.testMeasureBurnMs ?? 0, testCrashAt: o.testMeasureCrashAt ?? 0, testHangAt: 0, testHangAtStart: false },
    log: (id, line) => log(id === null ? line : `[${id.replace('loadtest-', 'client ').replace(/\d+$/, (n) => String(Number(n) + 1))}] ${line}`),
  }) : null;
  const timer = o.progress ? setInterval(() => o.progress!(progressLine(o.clients, progress, started, (performance.now() - t0) / 1000, o.durationS + o.rampS)), o.progressMs ?? 2000) : null;
  // Every wait of a client has its bound; past their sum the level is stuck, and says where each client is instead of hanging its caller.
  const boundMs = o.boundMs ?? levelBoundMs(o);
  let bound: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    bound = setTimeout(() => reject(new LoadtestError('LOADTEST_ERR_LEVEL_STUCK',
      `the level of ${o.clients} client(s) did not end within ${Math.round(boundMs / 1000)} s, longer than every wait of its clients can take together; where they are: ${progressLine(o.clients, progress, started, (performance.now() - t0) / 1000, o.durationS + o.rampS)}`)), boundMs);
  });
  try {
    const all = Promise.all(Array.from({ length: o.clients }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (o.rampS * 1000 * i) / o.clients));
      started[i] = true;
      const input = o.inputs[i % o.inputs.length]!;
      return runClient(o.target, { index: i, input, frames, seed: i + 1 }, {
        lib: o.lib, connectTimeoutMs: o.connectTimeoutMs, ...(o.token ? { token: o.token } : {}), ...(o.meter ? { meter: o.meter } : {}),
        recordDir: o.record ? recordPath(o.record, o.runId, o.clients, i) : null,
        recordMeta: { run: o.runId, level: o.clients, durationS: o.durationS },
        ...(streams.has(input) ? { stream: streams.get(input)! } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(measurer ? { measurer } : {}),
      }, progress[i]!);
    }));
    all.catch(() => undefined);
    const reports = await Promise.race([all, stuck]);
    const figures = levelFigures(reports);
    const why = verdict(figures, reports, o.budgetMs);
    // Before the clients' sessions leave the server's window: its figures cover the same steps.
    const server = o.serverHealth === false ? { none: 'not asked' } : await readServerHealth(o.target, o.token);
    return { clients: o.clients, durationS: o.durationS, budgetMs: o.budgetMs, pass: why.length === 0, why, figures, reports, seconds: (performance.now() - t0) / 1000, server };
  } finally {
    clearTimeout(bound);
    if (timer) clearInterval(timer);
    await measurer?.close();
  }
}

/**
 * How long a level can last when each of its clients' waits holds to its bound: the ramp, the
 * connect, the measuring worker's opening, the input, the finish and the figures (a hung
 * worker is ended after the hang bound, each time), and a minute for a loaded machine.
 */
export function levelBoundMs(o: Pick<LevelOptions, 'rampS' | 'durationS' | 'connectTimeoutMs'>): number {
  return (o.rampS + o.durationS) * 1000 + o.connectTimeoutMs + 2 * PROXY_DEFAULTS.measureHangMs + CLIENT_FINISH_BOUND_MS + 60_000;
}

function progressLine(n: number, p: readonly ClientProgress[], started: readonly boolean[], t: number, total: number): string {
  const by: Record<string, number> = {};
  for (const [i, c] of p.entries()) if (started[i]) count(by, c.state);
  const waiting = started.filter((s) => !s).length;
  const sent = p.reduce((s, c) => s + c.framesSent, 0);
  const back = p.reduce((s, c) => s + c.framesBack, 0);
  return `${n} client(s), ${t.toFixed(0)}/${Math.ceil(total)} s: ${list(by)}${waiting ? `, ${waiting} not started` : ''}; frames ${sent} sent, ${back} back`;
}
