// What does `solacelive proxy` add to each direction of a Moshi connection? One-way message
// latency, client → server and server → client, directly and through the proxy (a child
// process running the real CLI, recording unless --no-record), in interleaved trials so the
// machine's load drifts on both alike. Client and upstream live in this process (one clock:
// a message's send and receive times are both performance.now() here). Traffic is Moshi's:
// the client sends an Ogg Opus page every 40 ms, the upstream an 80 ms audio message every 80 ms,
// so the proxy decodes, measures and records as it would in use. Target: p99 added <= 1 ms.
// --in-process runs the proxy in this process instead (startProxy): no second process to
// schedule, so on a loaded machine it isolates the proxy's own work from the OS scheduler.
//   node bench/proxy-overhead.ts [--trials N] [--seconds S] [--no-record] [--in-process] [--json OUT]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusEncoder } from '../src/audio/opus/index.ts';
import { loadLibopusNode } from '../src/audio/opus/node.ts';
import { encodeMoshi } from '../src/protocol/moshi/index.ts';
import { percentile } from '../src/telemetry/window.ts';
import { startProxy, type MoshiProxy } from '../harness/proxy/index.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/solacelive.mjs');
const { values } = parseArgs({ options: { trials: { type: 'string' }, seconds: { type: 'string' }, 'no-record': { type: 'boolean' }, 'in-process': { type: 'boolean' }, json: { type: 'string' } } });
const trials = Number(values.trials ?? 4);
const seconds = Number(values.seconds ?? 10);
if (!(trials >= 2 && seconds >= 1)) throw new Error('--trials >= 2, --seconds >= 1');

const lib = await loadLibopusNode();
const steps = Math.round((seconds * 1000) / 80);
const tone = (k: number) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * (k * 1920 + i)) / 24000));
// Pre-encoded so encoding costs nothing during a trial: the client's pages (each its own message) and the server's per-step messages.
const clientEnc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
const clientMsgs: Uint8Array[] = [];
for (let k = 0; k < steps; k++) for (const p of clientEnc.push(tone(k))) clientMsgs.push(encodeMoshi({ kind: 'audio', data: p }));
const serverEnc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 2 });
const serverMsgs: Uint8Array[] = [];
for (let k = 0; k < steps; k++) serverMsgs.push(encodeMoshi({ kind: 'audio', data: Buffer.concat(serverEnc.push(tone(k + 7)).map((p) => Buffer.from(p))) }));

// The upstream: handshake, then its messages at 80 ms; each received client message time-stamped.
const upstreamRx: number[] = [];
const upstreamTx: number[] = [];
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.send(encodeMoshi({ kind: 'handshake', payload: new Uint8Array([0, 0]) }));
  ws.on('message', () => upstreamRx.push(performance.now()));
  let k = 0;
  const t0 = performance.now();
  const tick = () => {
    if (ws.readyState !== WebSocket.OPEN || k >= serverMsgs.length) return;
    upstreamTx.push(performance.now());
    ws.send(serverMsgs[k++]!);
    setTimeout(tick, Math.max(0, t0 + k * 80 - performance.now()));
  };
  setTimeout(tick, 80);
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
const upstream = `ws://127.0.0.1:${(http.address() as { port: number }).port}/api/chat`;

const recordDir = mkdtempSync(join(tmpdir(), 'proxy-overhead-'));
let child: ChildProcess | null = null;
let inProcess: MoshiProxy | null = null;
let proxyUrl: string;
if (values['in-process']) {
  inProcess = await startProxy({ upstream, record: values['no-record'] ? null : recordDir, log: () => undefined });
  proxyUrl = inProcess.url;
} else {
  const c = spawn(process.execPath, [BIN, 'proxy', '--upstream', upstream, '--listen', '127.0.0.1:0', ...(values['no-record'] ? [] : ['--record', recordDir])], { stdio: ['ignore', 'ignore', 'pipe'] });
  child = c;
  proxyUrl = await new Promise<string>((resolve, reject) => {
    let log = '';
    c.stderr!.on('data', (d) => {
      log += d;
      const m = /listening on (ws:\/\/\S+?)\/api\/chat/.exec(log);
      if (m) resolve(m[1]!);
    });
    c.once('exit', (code) => reject(new Error(`proxy exited (${code}): ${log}`)));
  });
}

interface Trial { readonly up: number[]; readonly down: number[] }

/** One connection: the client sends its pages at 40 ms; returns the one-way delays both ways. */
async function trial(url: string): Promise<Trial> {
  upstreamRx.length = 0;
  upstreamTx.length = 0;
  const clientTx: number[] = [];
  const clientRx: number[] = [];
  const ws = new WebSocket(`${url}/api/chat`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => (d[0] === 0 ? resolve() : clientRx.push(performance.now())));
    ws.on('error', reject);
  });
  const t0 = performance.now();
  for (let i = 0; i < clientMsgs.length; i++) {
    const wait = t0 + i * 40 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    clientTx.push(performance.now());
    ws.send(clientMsgs[i]!);
  }
  await new Promise((r) => setTimeout(r, 300));
  ws.close();
  await new Promise((r) => ws.once('close', r));
  const n = Math.min(clientTx.length, upstreamRx.length);
  const m = Math.min(upstreamTx.length, clientRx.length);
  return { up: Array.from({ length: n }, (_, i) => upstreamRx[i]! - clientTx[i]!), down: Array.from({ length: m }, (_, i) => clientRx[i]! - upstreamTx[i]!) };
}

const pooled = { direct: { up: [] as number[], down: [] as number[] }, proxied: { up: [] as number[], down: [] as number[] } };
for (let t = 0; t < trials; t++) {
  for (const [name, url] of [['direct', upstream.replace('/api/chat', '')], ['proxied', proxyUrl]] as const) {
    const r = await trial(url);
    pooled[name].up.push(...r.up);
    pooled[name].down.push(...r.down);
    console.error(`trial ${t + 1}/${trials} ${name}: ${r.up.length} up, ${r.down.length} down`);
  }
}
if (child) {
  child.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
}
await inProcess?.close();
wss.close();
http.close();
rmSync(recordDir, { recursive: true, force: true });

const stats = (xs: number[]) => {
  const s = Float64Array.from(xs).sort();
  const r = (q: number) => Math.round(percentile(s, q) * 1000) / 1000;
  return { count: s.length, p50: r(0.5), p95: r(0.95), p99: r(0.99) };
};
const result = {
  bench: 'proxy-overhead', recording: !values['no-record'], proxy: values['in-process'] ? 'in-process' : 'child process', trials, seconds,
  machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model, load: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  clientToServer: { direct: stats(pooled.direct.up), proxied: stats(pooled.proxied.up) },
  serverToClient: { direct: stats(pooled.direct.down), proxied: stats(pooled.proxied.down) },
  addedMs: {
    clientToServer: { p50: 0, p99: 0 },
    serverToClient: { p50: 0, p99: 0 },
  },
};
for (const dir of ['clientToServer', 'serverToClient'] as const) {
  result.addedMs[dir] = { p50: Math.round((result[dir].proxied.p50 - result[dir].direct.p50) * 1000) / 1000, p99: Math.round((result[dir].proxied.p99 - result[dir].direct.p99) * 1000) / 1000 };
}
console.log(JSON.stringify(result, null, 2));
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
