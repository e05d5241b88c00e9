// Opening a session: connect, send the start METADATA, wait for 'ready'. Everything the
// server says before 'ready' (an error, a close, an HTTP refusal) becomes a ClientError
// with the server's code, so a caller can tell "no engine" from "bad token" from "full".
import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import { decodeMessageSafe, encodePacket, seqNext } from '../protocol/index.ts';
import { asServerMessage, type ErrorMessage, type StartMessage } from '../server/messages.ts';
import { realClock } from '../telemetry/clock.ts';
import { ClientError, describeClose, rawBytes, SolaceClient, type ClientOptions } from './client.ts';

/** A connection failure in words (the errno stays on the error for callers that branch on it). */
export function socketWhy(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'no server is listening there (connection refused)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'host not found';
  if (err.code === 'ECONNRESET') return 'the connection was reset';
  if (err.code === 'ETIMEDOUT' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `the host cannot be reached (${err.code})`;
  return err.message;
}

/**
 * An HTTP answer instead of a WebSocket: fails with CLIENT_ERR_HTTP_<status>, its first body
 * line appended (the server's reason: SolaceLive says "CODE: message" there).
 */
export function refusedUpgrade(res: IncomingMessage, where: string, fail: (e: ClientError) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => (body = (body + d).slice(0, 500)));
  const done = () => {
    const why = body.trim().split('\n')[0] ?? '';
    fail(new ClientError(`CLIENT_ERR_HTTP_${res.statusCode}`, `${where}: server answered HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim() + (why ? ` (${why})` : '')));
  };
  res.on('end', done);
  res.on('error', done);
  res.on('close', done);
}

/**
 * Opens a session: connects, sends the start METADATA and waits for 'ready'. Rejects with a
 * ClientError carrying the server's error code (e.g. ENGINE_UNAVAILABLE) or the close code.
 */
export function connect(url: string, options: ClientOptions = {}): Promise<SolaceClient> {
  const clock = options.clock ?? realClock;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  const errors: ErrorMessage[] = [];
  let outSeq = 0;
  let lastReceived = clock.now();
  const start: StartMessage = {
    type: 'start', protocol: 1,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.sampling === undefined ? {} : { sampling: options.sampling }),
    record: options.record ?? false,
    pace: options.pace ?? 'realtime',
  };
  return new Promise<SolaceClient>((resolve, reject) => {
    let settled = false;
    const fail = (e: ClientError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners('message');
      reject(e);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };
    const waitMs = options.connectTimeoutMs ?? 45_000;
    const timer = setTimeout(() => fail(new ClientError('CLIENT_ERR_TIMEOUT', `no ready from ${url} within ${waitMs} ms`)), waitMs);
    ws.on('error', (err: NodeJS.ErrnoException) => fail(new ClientError('CLIENT_ERR_CONNECT', `${url}: ${socketWhy(err)}`, err.code)));
    ws.on('unexpected-response', (_req, res) => refusedUpgrade(res, url, fail));
    ws.on('close', (code, reason) => {
      const last = errors[errors.length - 1];
      fail(new ClientError(last?.code ?? `CLIENT_ERR_CLOSED_${code}`, last ? last.message : `closed before ready (${describeClose(code, reason.toString())})`));
    });
    ws.on('open', () => {
      const t = clock.now();
      const bytes = encodePacket({ type: 'METADATA', priority: 3, sequence: outSeq, timestamp: t, requiresAck: false, data: start as never });
      outSeq = seqNext(outSeq);
      options.onOutbound?.(bytes, t);
      ws.send(bytes);
    });
    const onMessage = (data: RawData) => {
      const t = clock.now();
      lastReceived = t;
      const bytes = rawBytes(data);
      options.onInbound?.(bytes, t);
      const { packets } = decodeMessageSafe(bytes);
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i]!;
        if (p.type !== 'METADATA') continue;
        const m = asServerMessage(p.data);
        if (m?.type === 'error') {
          errors.push(m);
          // A non-fatal error before ready is still the end of this handshake.
          fail(new ClientError(m.code, m.message));
          return;
        }
        if (m?.type === 'ready' && !settled) {
          settled = true;
          clearTimeout(timer);
          ws.removeAllListeners('message');
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => undefined);
          const client = new SolaceClient(ws, m, options, { errors, lastReceived, outSeq });
          // Packets that shared ready's message belong to the session.
          client.ingest(packets.slice(i + 1), t);
          resolve(client);
          return;
        }
      }
    };
    ws.on('message', onMessage);
  });
}
