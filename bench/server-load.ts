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
//
// --all runs every level up to --max-clients, past a failing one (to compare engine counts level by level).
//
// The engine comes from the same plug-in point as `solacelive serve` (src/cli/serve.ts).
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
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
  options: { 'max-clients': { type: 'string' }, seconds: { type: 'string' }, model: { type: 'string' }, json: { type: 'string' }, engines: { type: 'string' }, all: { type: 'boolean' } },
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
  const server = createServer({ port: 0, maxSessions: n }, engine, {
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
