// Where the live view's snapshots come from: a server's GET /telemetry stream (Server-Sent
// Events, `solacelive dash`) or the server's feed in the same process (`serve --dashboard`).
// Both give the same TelemetrySnapshot and a connection status the views show.
import type { TelemetryFeed, TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';

export type SourceStatus =
  | { readonly kind: 'connecting'; readonly url: string; readonly attempt: number }
  | { readonly kind: 'live'; readonly url: string }
  /** The server is not reachable or refused the stream; `retryInMs` null: given up. */
  | { readonly kind: 'down'; readonly url: string; readonly reason: string; readonly retryInMs: number | null }
  | { readonly kind: 'ended'; readonly url: string; readonly reason: string };

export interface SourceHandlers {
  readonly onSnapshot: (s: TelemetrySnapshot) => void;
  readonly onStatus: (s: SourceStatus) => void;
}

/** Starts delivering; returns the function that stops it. */
export type TelemetrySource = (h: SourceHandlers) => () => void;

/** Splits a Server-Sent Events byte stream into events (the subset a server sends: event, data, id). */
export class SseParser {
  private buf = '';
  private event = 'message';
  private data: string[] = [];

  /** Feeds a chunk; returns the events completed by it. */
  push(chunk: string): { event: string; data: string }[] {
    this.buf += chunk;
    const out: { event: string; data: string }[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + (this.buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') });
        this.event = 'message';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}

/** http(s) base URL of a server given as http://host:port, ws://host:port or host:port. */
export function telemetryUrl(url: string, hz: number): string {
  let u = url.trim();
  if (!/^[a-z]+:\/\//i.test(u)) u = `http://${u}`;
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new Error(`not a server URL: ${url} (expected e.g. http://127.0.0.1:8788)`);
  }
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`not a server URL: ${url} (use http://, https://, ws:// or wss://)`);
  parsed.pathname = '/telemetry';
  parsed.search = `?hz=${hz}`;
  return parsed.toString();
}

function why(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused: no server is listening there (start one with `solacelive serve`)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset by the server';
  return e.cause?.message ?? e.message;
}

export interface SseSourceOptions {
  readonly url: string;
  readonly hz: number;
  readonly token?: string | undefined;
  /** Delay between attempts while the server is down (default 2000 ms). */
  readonly retryMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  readonly maxAttempts?: number;
}

/** Snapshots from GET /telemetry, reconnecting while the server is down or restarts. */
export function sseSource(o: SseSourceOptions): TelemetrySource {
  const target = telemetryUrl(o.url, o.hz);
  const shown = target.replace(/\/telemetry\?.*$/, '');
  const retryMs = o.retryMs ?? 2000;
  return (h) => {
    let stopped = false;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    const retry = (reason: string, fatal = false) => {
      if (stopped) return;
      failures++;
      const give = fatal || (o.maxAttempts !== undefined && failures >= o.maxAttempts);
      h.onStatus({ kind: 'down', url: shown, reason, retryInMs: give ? null : retryMs });
      if (!give) timer = setTimeout(attempt, retryMs);
    };
    const attempt = async () => {
      if (stopped) return;
      h.onStatus({ kind: 'connecting', url: shown, attempt: failures + 1 });
      controller = new AbortController();
      let res: Response;
      try {
        res = await fetch(target, { headers: { accept: 'text/event-stream', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) }, signal: controller.signal });
      } catch (err) {
        if (!stopped) retry(why(err));
        return;
      }
      if (res.status === 401) return retry('unauthorized: give the server\'s token with --token or SOLACELIVE_TOKEN', true);
      if (res.status === 404) return retry('the server has no GET /telemetry (an older solacelive?)', true);
      if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        return retry(`unexpected answer: HTTP ${res.status} ${res.headers.get('content-type') ?? ''}`);
      }
      failures = 0;
      h.onStatus({ kind: 'live', url: shown });
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let bye: string | null = null;
      try {
        for await (const chunk of res.body) {
          for (const ev of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
            if (ev.event === 'telemetry') h.onSnapshot(JSON.parse(ev.data) as TelemetrySnapshot);
            else if (ev.event === 'bye') bye = (JSON.parse(ev.data) as { reason?: string }).reason ?? 'server said bye';
          }
        }
      } catch (err) {
        if (stopped) return;
        return retry(`stream broken: ${why(err)}`);
      }
      if (stopped) return;
      // A server that shuts down says so; keep trying, it may come back (a restart).
      if (bye) h.onStatus({ kind: 'ended', url: shown, reason: bye });
      retry(bye ? `server stopped (${bye})` : 'stream ended');
    };
    void attempt();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    };
  };
}

/** Snapshots from a server in this process. */
export function feedSource(feed: TelemetryFeed, hz: number, label = 'this process'): TelemetrySource {
  return (h) => {
    h.onStatus({ kind: 'live', url: label });
    return feed.subscribe(h.onSnapshot, hz);
  };
}
