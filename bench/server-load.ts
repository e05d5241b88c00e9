// Server load: N concurrent clients streaming in real time on loopback, N = 1, 2, … until a
// level fails. A level passes when step.total p99 ≤ 80 ms, the sessions keep up with real time
// (end-to-end p99 ≤ KEEP_UP_MS, so frames do not pile up for the engine) and no audio was lost (every frame
// answered with audio after warm-up: no skipped decode, no missing frame, sessions ended
// normally). Also reported per level: end-to-end latency per frame, transport latency each
// way (packet timestamp → receipt; server and clients share this process's clock), and the
// server's event-loop lag, and CPU: each engine worker's (process CPU per second of the level)
// and this process's (the server thread and the clients together: an upper bound on what the
// server's own thread needs). `--engines 1,2` runs the levels once per engine count, side by side.
//
//   node bench/server-load.ts [--max-clients 8] [--seconds 10] [--engines 1,2] [--all] [--model DIR] [--json OUT]
//   node bench/server-load.ts --haproxy [--engines 1] …   two `solacelive serve --engines E` processes behind
//                                                         HAProxy (deploy/haproxy.cfg), the clients through it
//   node bench/server-load.ts --url ws://HOST:PORT …      an endpoint already running (a server, a balancer)
//
// --all runs every level up to --max-clients, past a failing one (to compare engine counts level by level).
// Through --haproxy or --url a level is judged on what the clients see (the servers are other
// processes): it passes when every session's end-to-end p99 is within the 80 ms budget and no
// audio was lost (every frame after warm-up answered, sessions ended normally). --haproxy adds
// each server's lost-audio events and how HAProxy spread the sessions.
//
// The engine comes from the same plug-in point as `solacelive serve` (src/cli/serve.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { freePort, startHaproxy, type RunningHaproxy } from '../deploy/haproxy.ts';
import { createEngine } from '../src/cli/serve.ts';
import { EngineHost } from '../src/engine/host.ts';
import { EnginePool } from '../src/engine/pool.ts';
import type { EnginePort } from '../src/server/engine-port.ts';
import type { SessionResult } from '../src/client/client.ts';
import { connect } from '../src/client/connect.ts';
import { decodeMessageSafe } from '../src/protocol/index.ts';
import { createServer } from '../src/server/server.ts';
import { BUDGET_MS } from '../src/telemetry/spans.ts';
import { summarize } from '../src/telemetry/window.ts';

const { values } = parseArgs({
  options: {
    'max-clients': { type: 'string' }, seconds: { type: 'string' }, model: { type: 'string' }, json: { type: 'string' }, engines: { type: 'string' }, all: { type: 'boolean' },
    haproxy: { type: 'boolean' }, url: { type: 'string' },
  },
});
const engineCounts = (values.engines ?? '1').split(',').map(Number);
if (!engineCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= 16)) throw new Error('--engines: engine worker counts 1..16, comma-separated (e.g. 1,2)');
const maxClients = Number(values['max-clients'] ?? 8);
const seconds = Number(values.seconds ?? 10);
if (!(maxClients >= 1 && maxClients <= 64 && seconds >= 1 && seconds <= 120)) throw new Error('--max-clients 1..64 and --seconds 1..120');


function frames(n: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (150 + 10 * seed) * (k * 1920 + i)) / 24000)));
}

function timestamps(bytes: Uint8Array): number[] {
  return decodeMessageSafe(bytes).packets.map((p) => p.timestamp);
}

interface Level {
  readonly clients: number;
  readonly pass: boolean;
  readonly why: string[];
  readonly stepTotalP50: number;
  readonly stepTotalP99: number;
  readonly e2eP50: number;
  readonly e2eP99: number;
  readonly upP99: number;
  readonly downP99: number;
  readonly eventLoopLagP99: number;
  /** Each worker's process CPU per second of the level (1 = a core). */
  readonly workerCpu: number[];
  /** This process's CPU per second: server thread plus clients. */
  readonly serverAndClientsCpu: number;
}

/** Server events that mean a client lost audio (through a balancer, read from each server's /health). */
const LOST_AUDIO = ['skipped-decode', 'missing-frame', 'dropped-frame'] as const;

/** End-to-end latency (frame sent → its audio back) above which a level is falling behind. */
const KEEP_UP_MS = 3 * BUDGET_MS;

/** CPU ms each worker has used so far (asked of the worker itself, not the 1 s sample). */
async function workerCpuMs(engine: EnginePort): Promise<number[]> {
  const hosts = engine instanceof EnginePool ? engine.hosts : engine instanceof EngineHost ? [engine] : [];
  return Promise.all(hosts.map(async (h) => (await h.stats()).cpuUs / 1000));
}

async function level(engine: EnginePort, n: number): Promise<Level> {
  const up: number[] = [];
  const down: number[] = [];
  // Every level's clients are let in (admission by the bound alone): the bench finds where they stop keeping up.
  const server = createServer({ port: 0, maxSessions: n, admission: 'max-sessions' }, engine, {
    onInbound: (_id, bytes, t) => {
      for (const ts of timestamps(bytes)) up.push(t - ts);
    },
  });
  const { url } = await server.start();
  const steps = Math.round((seconds * 1000) / BUDGET_MS);
  const cpu0 = await workerCpuMs(engine);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const results: SessionResult[] = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const c = await connect(url, { seed: i + 1, pace: 'realtime', onInbound: (bytes, t) => {
      for (const ts of timestamps(bytes)) down.push(t - ts);
    } });
    return c.run(frames(steps, i));
  }));
  const wall = performance.now() - t0;
  const own = process.cpuUsage(own0);
  const cpu1 = await workerCpuMs(engine);
  const h = server.health();
  await server.stop();
  const why: string[] = [];
  const p99 = h.spans['step.total']?.p99 ?? NaN;
  if (!(p99 <= BUDGET_MS)) why.push(`step.total p99 ${p99.toFixed(1)} ms > ${BUDGET_MS}`);
  for (const kind of ['skipped-decode', 'missing-frame'] as const) if (h.events[kind]) why.push(`${h.events[kind]} ${kind}`);
  const bad = results.filter((r) => !r.ok || r.gaps.some((g) => g.reason !== 'warm-up'));
  if (bad.length) why.push(`${bad.length} session(s) not answered in full (${bad.map((r) => r.close.reason || r.close.code).join('; ')})`);
  const e2e = summarize(results.flatMap((r) => (r.latency.window ? [r.latency.p50] : [])));
  // Without this a level whose sessions fall ever further behind real time (frames queueing
  // for the engine) still passes until the queue overflows: its steps are fast, none lost.
  const worstE2eP99 = Math.max(...results.map((r) => r.latency.p99).filter(Number.isFinite));
  if (worstE2eP99 > KEEP_UP_MS) why.push(`falls behind real time: end-to-end p99 ${worstE2eP99.toFixed(0)} ms > ${KEEP_UP_MS}`);
  return {
    clients: n,
    pass: why.length === 0,
    why,
    stepTotalP50: h.spans['step.total']?.p50 ?? NaN,
    stepTotalP99: p99,
    e2eP50: e2e.p50,
    e2eP99: Math.max(...results.map((r) => r.latency.p99)),
    upP99: summarize(up).p99,
    downP99: summarize(down).p99,
    eventLoopLagP99: h.eventLoopLagMs.p99,
    workerCpu: cpu1.map((c, i) => (c - cpu0[i]!) / wall),
    serverAndClientsCpu: (own.user + own.system) / 1000 / wall,
  };
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1).padStart(7) : '      -');
const runs: { engines: number; best: number; levels: Level[] }[] = [];
console.log(`${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (values.haproxy || values.url) {
  await remoteRuns();
  process.exit(0);
}
for (const engines of engineCounts) {
  const { engine, reason } = await createEngine(values.model ?? null, undefined, engines);
  if (!engine) throw new Error(`server-load needs an engine: ${reason}`);
  await engine.start();
  if (engine.state !== 'ok') throw new Error(`engine ${engine.state}: ${engine.reason}`);
  const levels: Level[] = [];
  console.log(`--engines ${engines}: model ${engine.info!.model}${engine.info!.untrained ? ' (untrained)' : ''}, ${seconds} s per level, real-time clients on loopback`);
  console.log('clients  step.total p50  p99  e2e p50  e2e p99  up p99  down p99  loop lag p99  worker cpu  this process cpu  verdict');
  for (let n = 1; n <= maxClients; n++) {
    const l = await level(engine, n);
    levels.push(l);
    console.log(`${String(n).padStart(7)}  ${f(l.stepTotalP50)} ${f(l.stepTotalP99)}  ${f(l.e2eP50)}  ${f(l.e2eP99)}  ${f(l.upP99)} ${f(l.downP99)}  ${f(l.eventLoopLagP99)}       ${l.workerCpu.map((c) => c.toFixed(2)).join('/').padStart(9)}  ${l.serverAndClientsCpu.toFixed(2).padStart(15)}  ${l.pass ? 'pass' : `FAIL: ${l.why.join(', ')}`}`);
    if (!l.pass && !values.all) break;
  }
  const best = levels.filter((l) => l.pass).at(-1)?.clients ?? 0;
  console.log(`--engines ${engines}: largest N with step.total p99 <= ${BUDGET_MS} ms, keeping up and no lost audio: ${best}`);
  runs.push({ engines, best, levels });
  await engine.close();
}
if (values.json) writeFileSync(values.json, JSON.stringify({ seconds, cores: availableParallelism(), loadavg: loadavg(), runs }, null, 2));

// ---------------------------------------------------------------- through a balancer

interface RemoteLevel {
  readonly clients: number;
  readonly pass: boolean;
  readonly why: string[];
  readonly e2eP50: number;
  /** The worst session's end-to-end p99 (frame sent → its audio back, as the client saw it). */
  readonly e2eP99: number;
  /** Sessions HAProxy gave each server at this level (--haproxy). */
  readonly spread: Record<string, number> | null;
  /** Lost-audio events the servers counted at this level (--haproxy). */
  readonly serverEvents: Record<string, number> | null;
  readonly load1: number;
}

/** N real-time clients against `url`, judged on what they saw. */
async function clientLevel(url: string, n: number): Promise<Omit<RemoteLevel, 'spread' | 'serverEvents' | 'load1'>> {
  const steps = Math.round((seconds * 1000) / BUDGET_MS);
  const why: string[] = [];
  const settled = await Promise.allSettled(Array.from({ length: n }, async (_, i) => (await connect(url, { seed: i + 1, pace: 'realtime', connectTimeoutMs: 30_000 })).run(frames(steps, i))));
  const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const refused = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (refused.length) why.push(`${refused.length} session(s) not opened (${refused[0]})`);
  const bad = results.filter((r) => !r.ok || r.gaps.some((g) => g.reason !== 'warm-up'));
  // Each distinct reason once: with many sessions they are mostly the same.
  const reasons = [...new Set(bad.map((r) => String(r.gaps.find((g) => g.reason !== 'warm-up')?.reason ?? (r.close.reason || r.close.code))))];
  if (bad.length) why.push(`${bad.length} session(s) lost audio (${reasons.join('; ')})`);
  const e2eP99 = Math.max(...results.map((r) => r.latency.p99).filter(Number.isFinite));
  if (!(e2eP99 <= BUDGET_MS)) why.push(`end-to-end p99 ${e2eP99.toFixed(0)} ms > ${BUDGET_MS}`);
  return { clients: n, pass: why.length === 0, why, e2eP50: summarize(results.flatMap((r) => (r.latency.window ? [r.latency.p50] : []))).p50, e2eP99 };
}

/** `solacelive serve ARGS`, resolved once its model is ready. */
function startServe(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [new URL('../bin/solacelive.mjs', import.meta.url).pathname, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve ${args.join(' ')}: model not ready within 120 s:\n${log}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`serve ${args.join(' ')} exited (${code}):\n${log}`)));
    child.stderr!.on('data', (d) => {
      log += d;
      if (/model \S+ ready/.test(log)) {
        clearTimeout(t);
        resolve(child);
      }
    });
  });
}

async function serverEvents(ports: readonly number[]): Promise<number[][]> {
  return Promise.all(ports.map(async (p) => {
    const h = (await (await fetch(`http://127.0.0.1:${p}/health`)).json()) as { events: Record<string, number> };
    return LOST_AUDIO.map((k) => h.events[k] ?? 0);
  }));
}

async function remoteRuns(): Promise<void> {
  const out: { engines: number | null; best: number; levels: RemoteLevel[] }[] = [];
  for (const engines of values.url ? [null] : engineCounts) {
    const children: ChildProcess[] = [];
    let haproxy: RunningHaproxy | null = null;
    const cleanup = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    };
    process.once('exit', cleanup);
    try {
      let url = values.url ?? '';
      const ports: number[] = [];
      if (engines !== null) {
        ports.push(await freePort(), await freePort());
        // --max-sessions above any level: the levels measure what the servers hold, not a cap.
        const model = values.model ? ['--model', values.model] : [];
        children.push(...(await Promise.all(ports.map((p) => startServe(['--port', String(p), '--engines', String(engines), '--max-sessions', '64', ...model])))));
        haproxy = await startHaproxy({ bind: `127.0.0.1:${await freePort()}`, servers: { s1: `127.0.0.1:${ports[0]}`, s2: `127.0.0.1:${ports[1]}` }, stats: `127.0.0.1:${await freePort()}` });
        children.push(haproxy.child);
        await haproxy.waitFor((s) => s.s1?.status === 'UP' && s.s2?.status === 'UP', 30_000, 'both servers UP');
        url = haproxy.url;
        console.log(`--haproxy: 2 × solacelive serve --engines ${engines} behind HAProxy (deploy/haproxy.cfg) at ${url}, ${seconds} s per level, real-time clients on loopback`);
      } else {
        console.log(`--url ${url}: ${seconds} s per level, real-time clients`);
      }
      console.log('clients  e2e p50  e2e p99  sessions per server  lost-audio events  load1  verdict');
      const levels: RemoteLevel[] = [];
      for (let n = 1; n <= maxClients; n++) {
        const before = haproxy ? await haproxy.states() : null;
        const ev0 = await serverEvents(ports);
        const l = await clientLevel(url, n);
        const after = haproxy ? await haproxy.states() : null;
        const ev1 = await serverEvents(ports);
        const spread = before && after ? Object.fromEntries(Object.keys(after).map((k) => [k, after[k]!.total - (before[k]?.total ?? 0)])) : null;
        const serverEventsAt = ports.length ? Object.fromEntries(LOST_AUDIO.map((k, i) => [k, ev1.reduce((a, e, s) => a + e[i]! - ev0[s]![i]!, 0)])) : null;
        const why = [...l.why, ...Object.entries(serverEventsAt ?? {}).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k} (servers)`)];
        const level: RemoteLevel = { ...l, pass: why.length === 0, why, spread, serverEvents: serverEventsAt, load1: loadavg()[0]! };
        levels.push(level);
        const spreadText = spread ? Object.values(spread).join('/') : '-';
        const evText = serverEventsAt ? Object.values(serverEventsAt).reduce((a, b) => a + b, 0) : '-';
        console.log(`${String(n).padStart(7)}  ${f(l.e2eP50)}  ${f(l.e2eP99)}  ${spreadText.padStart(19)}  ${String(evText).padStart(17)}  ${level.load1.toFixed(2).padStart(5)}  ${level.pass ? 'pass' : `FAIL: ${why.join(', ')}`}`);
        if (!level.pass && !values.all) break;
      }
      const best = levels.filter((l) => l.pass).at(-1)?.clients ?? 0;
      console.log(`${engines === null ? url : `--haproxy, 2 servers × --engines ${engines}`}: largest N with end-to-end p99 <= ${BUDGET_MS} ms and no lost audio: ${best}`);
      out.push({ engines, best, levels });
    } finally {
      await haproxy?.stop();
      cleanup();
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ seconds, cores: availableParallelism(), loadavg: loadavg(), via: values.url ?? 'haproxy', runs: out }, null, 2));
}
