// A Moshi server that answers at once, run in its own worker thread (startPromptUpstream): the
// reference end of a test about the load-test process's own stamping. Each client frame after
// the warm-up frame is answered the moment its last page arrives with 80 ms of Ogg Opus
// (pages encoded once, in the upstream server's shape), without decoding anything: its
// answer time does not depend on how many clients it serves, and its loop is not the
// clients' loop, so what a client measures beyond the loopback round trip is its own delay.
// With ?burst=N it is a server that steps its sessions together instead: it holds the
// handshakes until N connections are in, then every 80 ms sends each of them, in a random
// order, a text message holding the send time (ms since the first burst, on this thread's
// clock) and 80 ms of audio: what a client stamps beyond that time, less its smallest such
// difference, is how long its stamp waited.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { MOSHI_SERVER_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { encodeMoshi } from '../../../src/protocol/moshi/index.ts';

const REPLY_FRAMES = 400;

export interface PromptUpstream {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the upstream in a worker thread of its own; resolves with its port. */
export async function startPromptUpstream(): Promise<PromptUpstream> {
  const w = new Worker(new URL(import.meta.url));
  const port = await new Promise<number>((resolve, reject) => {
    w.once('message', (m: { port: number }) => resolve(m.port));
    w.once('error', reject);
  });
  return { port, close: async () => void (await w.terminate()) };
}

/** An Ogg page's granule position is 0 on the header pages, > 0 on audio pages. */
const isAudioPage = (page: Uint8Array): boolean => page.length >= 14 && new DataView(page.buffer, page.byteOffset).getBigInt64(6, true) > 0n;

async function serve(): Promise<void> {
  const lib = await loadLibopusNode();
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 0x70726d70 });
  const pages: Uint8Array[] = [];
  for (let f = 0; f < REPLY_FRAMES; f++) {
    const pcm = Float32Array.from({ length: FRAME_SAMPLES }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * (f * FRAME_SAMPLES + i)) / 24000));
    pages.push(...enc.push(pcm));
  }
  const head = pages.filter((p) => !isAudioPage(p)).map((p) => encodeMoshi({ kind: 'audio', data: p }));
  const audio = pages.filter(isAudioPage).map((p) => encodeMoshi({ kind: 'audio', data: p }));
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const open = (ws: WebSocket) => {
    ws.send(encodeMoshi({ kind: 'handshake', payload: new Uint8Array([0, 0]) }));
    for (const h of head) ws.send(h);
  };
  const waiting: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket, req) => {
    const burst = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('burst') ?? 0);
    if (burst > 0) {
      waiting.push(ws);
      if (waiting.length === burst) bursts(waiting.splice(0));
      return;
    }
    open(ws);
    let clientPages = 0;
    ws.on('message', (data: RawData) => {
      const b = data as Buffer;
      if (b[0] !== 1 || !isAudioPage(b.subarray(1))) return;
      // Client pages are 40 ms: page 2k+1 completes frame k, answered by reply frame k-1 (the warm-up frame is not).
      const k = (clientPages++ - 1) / 2;
      if (!Number.isInteger(k) || k < 1) return;
      const j = (k - 1) % (audio.length / 2);
      ws.send(audio[2 * j]!);
      ws.send(audio[2 * j + 1]!);
    });
  });
  function bursts(all: WebSocket[]): void {
    for (const ws of all) open(ws);
    const t0 = performance.now();
    let k = 0;
    const tick = () => {
      const live = all.filter((ws) => ws.readyState === WebSocket.OPEN);
      if (live.length === 0) return;
      for (let i = live.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [live[i], live[j]] = [live[j]!, live[i]!];
      }
      const j = k % (audio.length / 2);
      for (const ws of live) {
        ws.send(encodeMoshi({ kind: 'text', text: (performance.now() - t0).toFixed(3) }));
        ws.send(audio[2 * j]!);
        ws.send(audio[2 * j + 1]!);
      }
      k++;
      setTimeout(tick, Math.max(0, t0 + k * 80 - performance.now()));
    };
    setTimeout(tick, 80);
  }

  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  parentPort!.postMessage({ port: (http.address() as { port: number }).port });
}

if (!isMainThread && parentPort) await serve();
