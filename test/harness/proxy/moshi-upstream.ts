// A small real Moshi server for the proxy tests (a real WebSocket server on loopback, not a
// stand-in for the proxy): it echoes each whole 80 ms client frame after the warm-up frame as 80 ms
// of Ogg Opus in the upstream server's shape (not the padded tail of the client's EOS page:
// a server stepping whole frames only, unlike SolaceLive), after a delay the test chooses per connection
// in the query: delay=MS (base), growth=MS (added per frame), pauseAt=K&pauseMs=MS (hold every
// reply and ping from frame K), silent=1 (handshake, then nothing), closeAt=K&closeCode=C,
// garbage=1 (a text frame, an unknown kind and a broken Ogg page after the handshake),
// flood=BYTES (that many bytes of audio messages at once), noread=1 (stops reading the client).
// HTTP refusals: path /refuse/STATUS answers that status instead of the WebSocket.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { MOSHI_SERVER_SHAPE, OggOpusEncoder, type Libopus } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { encodeMoshi, decodeMoshi } from '../../../src/protocol/moshi/index.ts';
import { OpusTap } from '../../../harness/measure/index.ts';

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  /** Client frames each connection received, by connection order. */
  readonly received: number[];
  close(): Promise<void>;
}

/** Runs `fn` at `at` (performance.now()) and never before: a Node timer counts from the loop's cached, whole-ms time and can fire early. */
function at_(at: number, fn: () => void): void {
  const left = at - performance.now();
  if (left <= 0) fn();
  else setTimeout(() => at_(at, fn), Math.ceil(left));
}

export async function startTestUpstream(): Promise<TestUpstream> {
  const lib: Libopus = await loadLibopusNode();
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const received: number[] = [];
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const refuse = /^\/refuse\/(\d{3})$/.exec(u.pathname);
    if (refuse) {
      const body = 'TEST_REFUSED: go away\n';
      socket.end(`HTTP/1.1 ${refuse[1]} Refused\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, u.searchParams, received.push(0) - 1));
  });

  function session(ws: WebSocket, q: URLSearchParams, n: number): void {
    const num = (k: string, d: number) => (q.has(k) ? Number(q.get(k)) : d);
    const delay = num('delay', 0);
    const growth = num('growth', 0);
    const pauseAt = num('pauseAt', Infinity);
    const pauseMs = num('pauseMs', 0);
    const closeAt = num('closeAt', Infinity);
    const silent = q.get('silent') === '1';
    const tap = new OpusTap(lib);
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 0x7e57 + n });
    const send = (b: Uint8Array) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b);
    };
    const echo: Float32Array[] = [];
    let paused = false;
    let pauseEnd = 0;
    let next = 0;
    ws.send(encodeMoshi({ kind: 'metadata', json: { test: true } }));
    ws.send(encodeMoshi({ kind: 'handshake', payload: new Uint8Array([0, 0]) }));
    if (q.get('noread') === '1') (ws as unknown as { _socket: Socket })._socket.pause();
    if (q.has('flood')) {
      const page = new Uint8Array(64 * 1024).fill(7);
      page[0] = 1;
      for (let sent = 0; sent < num('flood', 0); sent += page.length) send(page);
    }
    if (q.get('garbage') === '1') {
      ws.send('not a Moshi message');
      send(new Uint8Array([0x42, 1, 2, 3]));
      send(encodeMoshi({ kind: 'audio', data: new Uint8Array([0x4f, 0x67, 0x67, 0x53, 9, 9, 9]) }));
    }
    if (silent) return;
    const ping = setInterval(() => !paused && send(encodeMoshi({ kind: 'ping' })), 200);
    ws.on('close', () => clearInterval(ping));
    ws.on('message', (data: Buffer) => {
      const t = performance.now();
      let m;
      try {
        m = decodeMoshi(data);
      } catch {
        return;
      }
      if (m.kind !== 'audio') return;
      const out = tap.push(m.data, t);
      for (const p of out.pcm) echo.push(p.pcm);
      // Answers each 80 ms as soon as the client has sent it whole (the sender's frame boundaries,
      // as the proxy counts them), with the client's decoded audio as far as it goes.
      for (const f of out.timing) {
        received[n] = f.index + 1;
        if (f.index >= closeAt) {
          ws.close(num('closeCode', 1011), 'test upstream closes');
          return;
        }
        if (f.index === 0 || f.index === tap.tail) continue; // the warm-up frame: answered by nothing; the padded tail: not stepped
        if (f.index === pauseAt) {
          paused = true;
          pauseEnd = f.t + pauseMs;
          setTimeout(() => (paused = false), pauseMs);
        }
        const pages = enc.push(echo.shift() ?? new Float32Array(1920));
        // Held replies leave together when the pause ends; later ones at their own time.
        const at = Math.max(f.t + delay + growth * f.index, f.index >= pauseAt ? pauseEnd : 0);
        const order = next++;
        at_(at, () => sendOrdered(pages, order));
      }
    });
    // Replies leave in order even when timers fire close together.
    const waiting = new Map<number, Uint8Array[]>();
    let sentUpTo = 0;
    function sendOrdered(pages: Uint8Array[], order: number): void {
      waiting.set(order, pages);
      while (waiting.has(sentUpTo)) {
        const p = waiting.get(sentUpTo)!;
        waiting.delete(sentUpTo++);
        const bytes = Buffer.concat(p.map((x) => Buffer.from(x)));
        send(encodeMoshi({ kind: 'audio', data: bytes }));
      }
    }
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/api/chat`, port, received,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
