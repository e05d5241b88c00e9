// What `solacelive proxy` adds to each direction of a Moshi connection: one-way message
// latency client → server (`up`) and server → client (`down`) through the proxy (in this
// process, recording as in use), against the same traffic sent directly (the floor, timed in
// the same rounds: one direct and one proxied trial per round, the order alternating, so the
// machine's load falls on both alike). Client and upstream live in this process: one clock
// for a message's send and receive times. Traffic is Moshi's: an Ogg Opus page from the client
// every 40 ms, an 80 ms audio message from the upstream every 80 ms, so the proxy decodes,
// measures and records as it would in use. In this process the figure is the proxy's own
// work; as a process of its own it also pays the scheduler waking it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxy } from '../../harness/proxy/index.ts';
import { loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusEncoder } from '../../src/audio/index.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const CLIENT_EVERY_MS = 40;
const SERVER_EVERY_MS = 80;

interface Trial { readonly up: number[]; readonly down: number[] }

export const proxySuite: SuiteDef = {
  name: 'proxy',
  describe: 'one-way Moshi message latency through `solacelive proxy` (in process, recording) against the direct connection',
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
      if (n === 0 || m === 0) throw new Error(`a ${url === direct ? 'direct' : 'proxied'} trial delivered no messages (${n} up, ${m} down)`);
      return { up: Array.from({ length: n }, (_, i) => upstreamRx[i]! - clientTx[i]!), down: Array.from({ length: m }, (_, i) => clientRx[i]! - upstreamTx[i]!) };
    };

    return {
      describe: `one direct and one proxied ${seconds} s connection per round (order alternating), ${clientMsgs.length} messages up and ${serverMsgs.length} down each`,
      figures: [
        { name: 'up', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.up', describe: 'the same client messages sent directly' } },
        { name: 'down', calibration: 'matmul', budget: false, floor: { kind: 'direct', bytes: 0, sample: 'direct.down', describe: 'the same server messages sent directly' } },
      ],
      notes: ['the proxy runs in the bench process (its own work); through `solacelive proxy` as a process of its own the scheduler adds its wake-ups'],
      async round(index, tick) {
        const out: Record<string, number[]> = { up: [], down: [], 'direct.up': [], 'direct.down': [] };
        const order = index % 2 === 0 ? ['direct', 'proxied'] as const : ['proxied', 'direct'] as const;
        for (const side of order) {
          tick();
          const t = await trial(side === 'direct' ? direct : proxy.url);
          out[side === 'direct' ? 'direct.up' : 'up']!.push(...t.up);
          out[side === 'direct' ? 'direct.down' : 'down']!.push(...t.down);
        }
        tick();
        return out;
      },
      async close() {
        await proxy.close();
        wss.close();
        await new Promise((r) => http.close(r));
        rmSync(recordDir, { recursive: true, force: true });
      },
    };
  },
};
