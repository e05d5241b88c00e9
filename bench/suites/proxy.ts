// What `solacelive proxy` adds to each direction of a Moshi connection: one-way message
// latency client → server (`up`) and server → client (`down`) through the proxy, recording as
// in use, against the same traffic sent directly (the floor, timed in the same rounds: one
// direct trial, one through the proxy in this process and one through `solacelive proxy` as a
// process of its own per round, the order rotating, so the machine's load falls on all alike).
// Client and upstream live in this process: one clock for a message's send and receive times.
// Traffic is Moshi's: an Ogg Opus page from the client every 40 ms, an 80 ms audio message from
// the upstream every 80 ms, so the proxy decodes, measures and records as it would in use.
// In this process (`up`, `down`) the figure is the proxy's own work, but its forwarding shares
// this loop with the client and the upstream; as its own process (`process.up`,
// `process.down`, as `solacelive proxy` runs) it has a loop of its own and pays the scheduler
// waking it. Beside them, the same trials through a bare WebSocket forwarder (`hop.*`,
// bench/lib/ws-forwarder.ts, in this process and as its own): what any Node WebSocket proxy
// pays here, so the proxy's own part is its figure minus the hop's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxy } from '../../harness/proxy/index.ts';
import { loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusEncoder } from '../../src/audio/index.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { ownChild } from '../lib/owned.ts';
import { startWsForwarder } from '../lib/ws-forwarder.ts';

const CLIENT_EVERY_MS = 40;
const SERVER_EVERY_MS = 80;
const BIN = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;
const FORWARDER = new URL('../lib/ws-forwarder.ts', import.meta.url).pathname;

/** A forwarding process (`solacelive proxy`, or the bare forwarder) on port 0, resolved with its URL once it listens. */
function startForwardingProcess(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = ownChild(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const name = args[0] === BIN ? 'solacelive proxy' : 'the bare forwarder';
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not listening within 30 s:\n${log}`));
    }, 30_000);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${log}`)));
    child.stderr!.on('data', (d) => {
      log = (log + d).slice(-8000); // its per-connection summaries go on: keep reading, keep little
      const m = /listening on (ws:\/\/\S+?)\/api\/chat/.exec(log);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

interface Trial { readonly up: number[]; readonly down: number[] }

export const proxySuite: SuiteDef = {
  name: 'proxy',
  describe: 'one-way Moshi message latency through `solacelive proxy` (in process and as its own process, recording) against the direct connection',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the proxy runs no model: benched in the tiny config only' };
    const seconds = ctx.quick ? 1.5 : 3;
    const steps = Math.round((seconds * 1000) / SERVER_EVERY_MS);
    const lib = await loadLibopusNode();
    const tone = (k: number) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * (k * 1920 + i)) / 24000));
    // Encoded before any trial, so encoding costs nothing while one runs.
    const clientEnc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
    const clientMsgs: Uint8Array[] = [];
    for (let k = 0; k < steps; k++) for (const p of clientEnc.push(tone(k))) clientMsgs.push(encodeMoshi({ kind: 'audio', data: p }));
    const serverEnc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 2 });
    const serverMsgs: Uint8Array[] = [];
    for (let k = 0; k < steps; k++) serverMsgs.push(encodeMoshi({ kind: 'audio', data: Buffer.concat(serverEnc.push(tone(k + 7)).map((p) => Buffer.from(p))) }));

    // The upstream: handshake, then its messages every 80 ms; each client message time-stamped on arrival.
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
        setTimeout(tick, Math.max(0, t0 + k * SERVER_EVERY_MS - performance.now()));
      };
      setTimeout(tick, SERVER_EVERY_MS);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const direct = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
    const recordDir = mkdtempSync(join(tmpdir(), 'solacelive-bench-proxy-'));
    const proxy = await startProxy({ upstream: `${direct}/api/chat`, record: recordDir, log: () => undefined });
    const own = await startForwardingProcess([BIN, 'proxy', '--upstream', `${direct}/api/chat`, '--listen', '127.0.0.1:0', '--record', recordDir]);
    const hop = await startWsForwarder(`${direct}/api/chat`);
    const hopOwn = await startForwardingProcess([FORWARDER, `${direct}/api/chat`]);

    /** One connection: the client sends its pages every 40 ms; the one-way delays both ways. */
    const trial = async (url: string): Promise<Trial> => {
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
        const wait = t0 + i * CLIENT_EVERY_MS - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        clientTx.push(performance.now());
        ws.send(clientMsgs[i]!);
      }
      await new Promise((r) => setTimeout(r, 300));
      ws.close();
      await new Promise((r) => ws.once('close', r));
      const n = Math.min(clientTx.length, upstreamRx.length);
      const m = Math.min(upstreamTx.length, clientRx.length);
      if (n === 0 || m === 0) throw new Error(`a ${url === direct ? 'direct' : `proxied (${url})`} trial delivered no messages (${n} up, ${m} down)`);
      return { up: Array.from({ length: n }, (_, i) => upstreamRx[i]! - clientTx[i]!), down: Array.from({ length: m }, (_, i) => clientRx[i]! - upstreamTx[i]!) };
    };

    return {
      describe: `one ${seconds} s connection per path per round: direct, the proxy in process, \`solacelive proxy\` as a process, a bare forwarder in process and as a process (order rotating), ${clientMsgs.length} messages up and ${serverMsgs.length} down each`,
      figures: [
        { name: 'up', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.up', describe: 'the same client messages sent directly' } },
        { name: 'down', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.down', describe: 'the same server messages sent directly' } },
        { name: 'process.up', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.up', describe: 'the same client messages sent directly' } },
        { name: 'process.down', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.down', describe: 'the same server messages sent directly' } },
        ...['hop.up', 'hop.down', 'hop.process.up', 'hop.process.down'].map((name) => ({
          name, calibration: 'matmul' as const, budget: false,
          floor: { kind: 'direct' as const, bytes: 0, sample: name.endsWith('up') ? 'direct.up' : 'direct.down', describe: `the same ${name.endsWith('up') ? 'client' : 'server'} messages sent directly` },
        })),
      ],
      notes: [
        'up/down: the proxy in the bench process (its forwarding loop shared with the client and the upstream; decoding, measuring and recording in its worker thread)',
        'process.up/process.down: `solacelive proxy` as a process of its own, as it runs in use (its own loop; the scheduler adds its wake-ups)',
        'hop.*: a bare `ws` forwarder (bench/lib/ws-forwarder.ts: no checks, measuring or recording) in this process and as its own: what any Node WebSocket proxy adds here; the proxy\'s own part is its figure minus the hop\'s',
      ],
      async round(index, tick) {
        const paths = [
          { url: direct, up: 'direct.up', down: 'direct.down' }, { url: proxy.url, up: 'up', down: 'down' }, { url: own.url, up: 'process.up', down: 'process.down' },
          { url: hop.url, up: 'hop.up', down: 'hop.down' }, { url: hopOwn.url, up: 'hop.process.up', down: 'hop.process.down' },
        ];
        const out: Record<string, number[]> = Object.fromEntries(paths.flatMap((p) => [[p.up, []], [p.down, []]]));
        for (let i = 0; i < paths.length; i++) {
          const p = paths[(index + i) % paths.length]!;
          tick();
          const t = await trial(p.url);
          out[p.up]!.push(...t.up);
          out[p.down]!.push(...t.down);
        }
        tick();
        return out;
      },
      async close() {
        for (const p of [own, hopOwn]) {
          p.child.kill('SIGTERM');
          await new Promise((r) => (p.child.exitCode === null ? p.child.once('exit', r) : r(null)));
        }
        await hop.close();
        await proxy.close();
        wss.close();
        await new Promise((r) => http.close(r));
        rmSync(recordDir, { recursive: true, force: true });
      },
    };
  },
};
