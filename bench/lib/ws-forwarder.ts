// The floor of a WebSocket proxy on this runtime: a bare forwarder (the same `ws` library, no
// checks, no measuring, no recording) that passes each message on as it arrives. The proxy
// suite times it beside `solacelive proxy`, in its process and as a process of its own, so the
// proxy's figures can be read against what any Node WebSocket hop costs here.
// As a script: `node bench/lib/ws-forwarder.ts UPSTREAM_URL` prints "listening on ws://…".
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

export interface Forwarder {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWsForwarder(upstream: string): Promise<Forwarder> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (client, req) => {
    const up = new WebSocket(`${upstream}${new URL(req.url ?? '/', 'http://x').search}`, { perMessageDeflate: false });
    const early: [RawData, boolean][] = [];
    up.on('open', () => {
      for (const [d, b] of early.splice(0)) up.send(d, { binary: b });
    });
    up.on('message', (d, b) => {
      if (client.readyState === WebSocket.OPEN) client.send(d, { binary: b });
    });
    client.on('message', (d, b) => {
      if (up.readyState === WebSocket.OPEN) up.send(d, { binary: b });
      else early.push([d, b]);
    });
    const end = (ws: WebSocket) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close());
    client.on('close', () => end(up));
    up.on('close', () => end(client));
    client.on('error', () => up.terminate());
    up.on('error', () => client.terminate());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `ws://127.0.0.1:${(http.address() as { port: number }).port}`,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const upstream = process.argv[2];
  if (!upstream) {
    console.error('usage: node bench/lib/ws-forwarder.ts ws://HOST:PORT/PATH');
    process.exit(2);
  }
  const f = await startWsForwarder(upstream);
  console.error(`listening on ${f.url}/api/chat`);
}
