// The recording Moshi proxy: clients connect here instead of to the server; each connection
// opens its own connection upstream and every message is forwarded both ways unchanged and
// in order. This loop only stamps a message's arrival, sends it on and posts a copy to the
// measuring worker (measurer.ts), which decodes, measures and records it: a message never
// waits for another one's decoding. Each direction is its own socket with its own send
// buffer, so a slow side never blocks the other; a buffer over maxBufferedBytes means that
// side is not reading, and the proxy closes the connection saying so. Nothing here assumes
// the server is SolaceLive.
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { rawBytes } from '../../src/client/client.ts';
import { socketWhy } from '../../src/client/connect.ts';
import { describeLibopus, INPUT_FRAMING, type Libopus } from '../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import { checkRequest } from '../../src/server/request-guard.ts';
import { hostBasics } from '../../src/telemetry/host.ts';
import { proxiedManifestInit, type ManifestSoftware } from '../format/node.ts';
import { METER_DEFAULTS, summaryLines, type ConnectionFigures, type MeterOptions, type Side } from '../measure/index.ts';
import { softwareInfo } from '../recorder.ts';
import { ProxyError } from './errors.ts';
import { Measurer } from './measurer.ts';

export { ProxyError };

export interface ProxyOptions {
  /** ws://HOST:PORT/PATH of the Moshi server; the client's query string is forwarded to it. */
  readonly upstream: string;
  readonly host?: string;
  readonly port?: number;
  /** Origins allowed besides loopback ones (as serve's --allow-origin). */
  readonly allowOrigins?: readonly string[];
  /** Folder for one session folder per connection; null: no recording (figures still printed). */
  readonly record?: string | null;
  readonly meter?: Omit<MeterOptions, 'onFrame'>;
  /** Bytes one side may leave unread before the proxy closes the connection (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** Largest message either side may send (default 4 MiB; WebSocket close 1009 beyond). */
  readonly maxMessageBytes?: number;
  /** How long the upstream may take to accept the WebSocket (default 10 000 ms; then HTTP 504). */
  readonly upstreamTimeoutMs?: number;
  /** How long a side gets to finish a close before its socket is cut (default 2000 ms). */
  readonly closeGraceMs?: number;
  /** Recording backlog before it stops (SessionWriter maxPendingBytes). */
  readonly recordMaxPendingBytes?: number;
  /** Messages the measuring worker may fall behind on one connection before measuring (and recording) it stops (default 1000: ~27 s of Moshi traffic). */
  readonly maxMeasureBacklog?: number;
  /** Bytes the measuring worker may fall behind on one connection before measuring (and recording) it stops (default 16 MiB). */
  readonly maxMeasureBacklogBytes?: number;
  /** TEST-ONLY: CPU the measuring worker burns per message (a slow worker on purpose). */
  readonly testMeasureBurnMs?: number;
  /** TEST-ONLY: the first measuring worker throws after measuring this many messages. */
  readonly testMeasureCrashAt?: number;
  /** TEST-ONLY: the first measuring worker blocks for good after measuring this many messages. */
  readonly testMeasureHangAt?: number;
  /** TEST-ONLY: the first measuring worker blocks for good before it is ready. */
  readonly testMeasureHangAtStart?: boolean;
  /** How long the measuring worker may do nothing at all while it has work before it is taken for hung and replaced (default 30 000 ms). */
  readonly measureHangMs?: number;
  readonly log?: (line: string) => void;
  readonly onConnectionEnd?: (report: ConnectionReport) => void;
}

export interface ConnectionReport {
  readonly id: string;
  /** The session folder, or null (no --record, or it could not be created). */
  readonly path: string | null;
  readonly figures: ConnectionFigures;
  /** The recording's end: 'complete', 'failed' with its error, or null when nothing was recorded. */
  readonly recording: { readonly status: 'complete' | 'failed'; readonly error: { readonly code: string; readonly message: string } | null } | null;
}

type Defaults = {
  readonly host: string; readonly port: number; readonly maxBufferedBytes: number; readonly maxMessageBytes: number; readonly upstreamTimeoutMs: number; readonly closeGraceMs: number;
  readonly maxMeasureBacklog: number; readonly maxMeasureBacklogBytes: number; readonly measureHangMs: number;
};
export const PROXY_DEFAULTS: Defaults = {
  host: '127.0.0.1', port: 0, maxBufferedBytes: 8 * 1024 * 1024, maxMessageBytes: 4 * 1024 * 1024, upstreamTimeoutMs: 10_000, closeGraceMs: 2000,
  maxMeasureBacklog: 1000, maxMeasureBacklogBytes: 16 * 1024 * 1024,
  // No progress at all for 30 s with work waiting: a slow disk still completes writes within seconds, a GC pause is far shorter.
  measureHangMs: 30_000,
};

/** Checks --upstream: a ws(s):// URL (http(s) accepted and mapped), without credentials or fragment. */
export function parseUpstream(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ProxyError('PROXY_ERR_UPSTREAM', `--upstream ${JSON.stringify(url)} is not a URL: give ws://HOST:PORT/api/chat`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new ProxyError('PROXY_ERR_UPSTREAM', `--upstream ${JSON.stringify(url)}: the scheme must be ws:// or wss://`);
  if (u.username || u.password || u.hash) throw new ProxyError('PROXY_ERR_UPSTREAM', `--upstream ${JSON.stringify(url)}: no credentials or #fragment (a token goes in the client's request)`);
  return u;
}

export class MoshiProxy {
  readonly url: string;
  readonly reports: ConnectionReport[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly o: ProxyOptions & Defaults;
  private readonly upstream: URL;
  private readonly lib: Libopus;
  private readonly software: ManifestSoftware;
  private readonly measurer: Measurer;
  private readonly open = new Set<Promise<void>>();
  private count = 0;

  private constructor(server: Server, o: ProxyOptions & Defaults, upstream: URL, lib: Libopus, measurer: Measurer, url: string) {
    this.server = server;
    this.o = o;
    this.upstream = upstream;
    this.lib = lib;
    this.measurer = measurer;
    this.url = url;
    this.software = softwareInfo();
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: o.maxMessageBytes });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(`a Moshi WebSocket proxy for ${this.upstream.href}: connect with WebSocket\n`);
    });
  }

  static async start(options: ProxyOptions): Promise<MoshiProxy> {
    const o = { ...PROXY_DEFAULTS, ...options };
    const upstream = parseUpstream(o.upstream);
    const lib = await loadLibopusNode();
    const log = o.log ?? ((l: string) => console.error(l));
    const measurer = await Measurer.start({
      lib, maxBacklog: o.maxMeasureBacklog, maxBacklogBytes: o.maxMeasureBacklogBytes, hangMs: o.measureHangMs,
      test: { testBurnMs: o.testMeasureBurnMs ?? 0, testCrashAt: o.testMeasureCrashAt ?? 0, testHangAt: o.testMeasureHangAt ?? 0, testHangAtStart: o.testMeasureHangAtStart ?? false },
      log: (id, line) => log(id === null ? line : `[proxy ${id}] ${line}`),
    });
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => reject(new ProxyError('PROXY_ERR_LISTEN', `cannot listen on ${o.host}:${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)));
        server.listen(o.port, o.host, () => resolve());
      });
    } catch (err) {
      await measurer.close();
      throw err;
    }
    const addr = server.address() as { port: number };
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    return new MoshiProxy(server, o, upstream, lib, measurer, `ws://${host}:${addr.port}`);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Stops listening, closes open connections (1001) and waits for their reports. */
  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.wss.clients) c.close(1001, 'proxy shutting down');
    await Promise.all([...this.open]);
    this.server.closeAllConnections();
    await this.measurer.close();
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => console.error(l)))(line);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = checkRequest(req.headers, { bindHost: this.o.host, allowOrigins: this.o.allowOrigins ?? [] });
    if (refusal) {
      this.log(`refused a connection: ${refusal.code}: ${refusal.message}`);
      httpReply(socket, refusal.status, `${refusal.code}: ${refusal.message}`);
      return;
    }
    const done = this.connection(req, socket, head).catch((err: unknown) => this.log(`connection failed: ${(err as Error).stack ?? String(err)}`));
    this.open.add(done);
    void done.finally(() => this.open.delete(done));
  }

  private async connection(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const t0Abs = performance.timeOrigin + t0;
    // The client may leave while the recording is created or the upstream connects: reading
    // the socket is what notices that (a paused socket never sees the peer's FIN). Bytes read
    // early are handed to the WebSocket as part of `head`.
    let socketGone = false;
    socket.once('close', () => (socketGone = true));
    socket.on('error', () => undefined);
    const early: Buffer[] = [head];
    const onEarly = (d: Buffer) => early.push(d);
    // An upgrade socket is half-open: the peer's FIN is an 'end' and no 'close' follows on its own.
    const onEnd = () => socket.destroy();
    socket.on('data', onEarly);
    socket.once('end', onEnd);
    const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${++this.count}`;
    const o = this.o;
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://proxy').searchParams);
    const target = new URL(this.upstream.href);
    target.search = new URL(req.url ?? '/', 'http://proxy').search;
    const where = `${this.upstream.origin}${this.upstream.pathname}`;
    const tag = `[proxy ${id}]`;
    const plan = o.record ? {
      dir: join(o.record, `${id}.session`),
      init: proxiedManifestInit({
        upstream: where, query,
        client: { address: req.socket.remoteAddress ?? null, userAgent: req.headers['user-agent'] ?? null, origin: req.headers.origin ?? null },
        host: hostBasics(), software: this.software, opus: describeLibopus(this.lib.identity), inputFraming: INPUT_FRAMING,
      }),
      warmupFrames: o.meter?.warmupFrames ?? METER_DEFAULTS.warmupFrames,
      ...(o.recordMaxPendingBytes === undefined ? {} : { maxPendingBytes: o.recordMaxPendingBytes }),
    } : null;
    // The worker creates the recording (a failure is its event and log line) before anything is forwarded.
    const meter = await this.measurer.open(id, t0Abs, o.meter ?? {}, plan);
    this.log(`${tag} client ${req.socket.remoteAddress ?? '?'} → ${where}${meter.path ? `, recording in ${meter.path}` : ''}`);

    let client: WebSocket | null = null;
    let settled = false;
    const queued: { bytes: Uint8Array; isBinary: boolean }[] = [];
    const finished = new Promise<void>((resolveFinished) => {
      let upClosed = false;
      let clientClosed = false;
      const maybeDone = () => {
        if (upClosed && clientClosed) resolveFinished();
      };
      const up = new WebSocket(target, {
        headers: forwardHeaders(req), perMessageDeflate: false, maxPayload: o.maxMessageBytes, handshakeTimeout: o.upstreamTimeoutMs,
      });
      up.binaryType = 'nodebuffer';
      const refuse = (status: number, kind: string, message: string) => {
        if (settled) return;
        settled = true;
        meter.event({ kind, atMs: now(), side: 'server', message, code: status });
        meter.end('proxy', status, message, now());
        httpReply(socket, status, `proxy: ${message}`);
        clientClosed = true;
      };
      const clientLeft = () => {
        // Before the upgrade: the client left before the upstream answered (after it, the WebSocket's close says so).
        if (client !== null || clientClosed) return;
        settled = true;
        meter.end('client', 1006, 'client left before the upstream answered', now());
        clientClosed = true;
        up.terminate();
        maybeDone();
      };
      if (socketGone) clientLeft();
      else socket.once('close', clientLeft);
      up.on('unexpected-response', (_r, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body = (body + d).slice(0, 2000)));
        res.on('end', () => {
          refuse(res.statusCode ?? 502, 'upstream-refused', `${where} refused the WebSocket: HTTP ${res.statusCode}${body.trim() ? ` ${body.trim().split('\n')[0]}` : ''}`);
          up.terminate();
        });
        res.on('error', () => undefined);
      });
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (!settled) {
          const timedOut = /timed out/i.test(err.message);
          refuse(timedOut ? 504 : 502, timedOut ? 'upstream-timeout' : 'upstream-unreachable', timedOut ? `${where} did not accept the WebSocket within ${o.upstreamTimeoutMs} ms` : `${where}: ${socketWhy(err)}`);
          return;
        }
        meter.event({ kind: 'socket-error', atMs: now(), side: 'server', message: err.message });
      });
      up.on('message', (data: RawData, isBinary: boolean) => {
        const bytes = rawBytes(data);
        if (client === null) queued.push({ bytes, isBinary });
        else pass('server', bytes, isBinary, client);
      });
      up.on('close', (code: number, reason: Buffer) => {
        upClosed = true;
        if (settled && client !== null) {
          meter.end('server', code, reason.toString(), now());
          closeSide(client, code, reason.toString(), 'upstream');
        }
        maybeDone();
      });
      up.on('open', () => {
        if (settled) {
          up.terminate();
          return;
        }
        settled = true;
        meter.upstreamOpen(now());
        socket.off('data', onEarly);
        socket.off('end', onEnd);
        // Synchronous up to the WebSocket's own 'data' listener: no byte is emitted in between.
        this.wss.handleUpgrade(req, socket, Buffer.concat(early), (ws) => {
          client = ws;
          for (const q of queued.splice(0)) pass('server', q.bytes, q.isBinary, ws);
          ws.on('message', (data: RawData, isBinary: boolean) => pass('client', rawBytes(data), isBinary, up));
          ws.on('error', (err) => meter.event({ kind: 'socket-error', atMs: now(), side: 'client', message: err.message }));
          ws.on('close', (code: number, reason: Buffer) => {
            clientClosed = true;
            meter.end('client', code, reason.toString(), now());
            closeSide(up, code, reason.toString(), 'client');
            maybeDone();
          });
        });
      });

      /** Stamps, forwards, then hands a copy to the measuring worker: nothing else on this loop. */
      const pass = (from: Side, bytes: Uint8Array, isBinary: boolean, dst: WebSocket) => {
        const t = now();
        if (dst.readyState === WebSocket.OPEN) dst.send(bytes, { binary: isBinary });
        meter.message(from, bytes, isBinary, t);
        if (dst.bufferedAmount > o.maxBufferedBytes) notReading(from === 'client' ? 'server' : 'client', dst.bufferedAmount);
      };
      let overflowed = false;
      const notReading = (side: Side, waiting: number) => {
        if (overflowed) return;
        overflowed = true;
        const other = side === 'client' ? up : client;
        const message = `the ${side} is not reading: ${waiting} bytes waiting (limit ${o.maxBufferedBytes})`;
        meter.event({ kind: `${side}-not-reading`, atMs: now(), side: 'proxy', message });
        meter.end('proxy', 1013, message, now());
        this.log(`${tag} ${message}; closing the connection`);
        const stuck = side === 'client' ? client : up;
        stuck?.terminate();
        if (other) closeSide(other, 1013, `proxy: ${message}`.slice(0, 120), 'proxy');
      };
      const closeSide = (ws: WebSocket, code: number, reason: string, by: 'client' | 'upstream' | 'proxy') => {
        if (ws.readyState === WebSocket.CLOSED) return;
        if (ws.readyState === WebSocket.CONNECTING) {
          ws.terminate();
          return;
        }
        if (ws.readyState === WebSocket.OPEN) {
          // The other side's code as is; those no endpoint may send become what they mean.
          if (code === 1005) ws.close();
          else if (code === 1006 || code === 1015 || !sendable(code)) ws.close(by === 'client' ? 1001 : 1014, `proxy: ${by === 'client' ? 'the client' : 'the upstream'} connection was lost (${code})`);
          else ws.close(code, reason.slice(0, 120));
        }
        setTimeout(() => ws.terminate(), o.closeGraceMs).unref();
      };
    });
    await finished;
    const { figures, recording } = await meter.finish(where);
    this.log(`${tag} ended${meter.path ? ` (recorded: ${meter.path}, ${recording?.status})` : ''}`);
    for (const line of summaryLines(figures)) this.log(`${tag}   ${line}`);
    const report: ConnectionReport = { id, path: meter.path, figures, recording };
    this.reports.push(report);
    o.onConnectionEnd?.(report);
  }
}

/** What the upstream needs of the client's request: its credentials (and nothing that names the proxy's clients). */
function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = {};
  if (req.headers.authorization) h.authorization = req.headers.authorization;
  if (req.headers['user-agent']) h['user-agent'] = req.headers['user-agent'];
  return h;
}

function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function httpReply(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), 1000).unref();
}

export const startProxy = (options: ProxyOptions): Promise<MoshiProxy> => MoshiProxy.start(options);
