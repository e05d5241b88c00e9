// Server options → resolved options. Every queue and buffer the server keeps has a limit
// here, with a named default, so a misbehaving client can cost at most a known amount of
// memory and time. Bad values fail at start, not in the middle of a session.
import { CodedError } from '../errors.ts';
import { AUDIO_PAYLOAD_BYTES, HEADER_BYTES } from '../protocol/index.ts';
import { realClock, type Clock } from '../telemetry/clock.ts';
import { isLoopbackHost, parseAllowOrigins } from './request-guard.ts';

export { isLoopbackHost };

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8788;

/** One AUDIO_CHUNK on the wire: no message may be smaller than this limit. */
const AUDIO_PACKET_BYTES = HEADER_BYTES + AUDIO_PAYLOAD_BYTES;

export const SERVER_DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  token: null as string | null,
  /**
   * Upper bound on concurrent started sessions (each with its own model state), a safety cap:
   * below it the server admits by measured cost (src/server/admission.ts), which is the limit.
   */
  maxSessions: 32,
  /**
   * 'cost': admit while the engine workers hold a new session at the measured cost per step
   * (and below maxSessions); 'max-sessions': maxSessions alone (benchmarks that overload on purpose).
   */
  admission: 'cost' as 'cost' | 'max-sessions',
  /**
   * A real-time session whose frames wait this long for their steps, for this long in a row,
   * is told FALLING_BEHIND and closed: a conversation 1.5 s late is broken, and a session
   * falling behind steadily meets this well before maxQueuedFrames' 4 s of queue.
   */
  maxLagMs: 1500,
  /** Connections that have not started a session yet; at the limit the oldest is closed. They never hold a session slot. */
  maxPendingConnections: 32,
  /** The same, per remote address: one peer cannot fill the server-wide bound alone. */
  maxPendingPerAddress: 8,
  /**
   * Per-address limits count the address a loopback proxy (HAProxy's `option forwardfor`) names
   * in X-Forwarded-For, not the proxy's own. Off: the header is ignored (it can be forged).
   */
  trustProxy: false,
  /** Once half the pending bound is used, connections older than this that have not started are closed. */
  pressureHandshakeMs: 1000,
  /** One WebSocket message; larger ones are refused by ws with close 1009. 16 audio packets. */
  maxMessageBytes: 16 * AUDIO_PACKET_BYTES,
  /** Inbound packets per second per session (token bucket), 8x real-time audio. */
  maxInputRate: 100,
  /** Burst the bucket allows above the rate. */
  inputBurst: 50,
  /** Frames accepted but not yet stepped; more means the client outruns the engine. */
  maxQueuedFrames: 50,
  /** Server HEARTBEAT interval (design.md: every 5 s). */
  heartbeatMs: 5000,
  /** No inbound bytes for this long and the peer is considered gone. */
  deadPeerMs: 15_000,
  /** Time a new connection has to send its start METADATA. */
  handshakeTimeoutMs: 10_000,
  /** Socket bytes buffered (ws bufferedAmount) above which text partials are dropped. */
  sendHighWaterBytes: 32 * 1024,
  /** Buffered plus queued bytes above which the next step skips its decode. */
  skipDecodeBytes: 96 * 1024,
  /** Bytes waiting in the send queue above which the peer is a slow consumer and is closed. */
  maxSendQueueBytes: 1024 * 1024,
  /** Socket congested (over the high water mark) continuously this long: slow consumer. */
  slowConsumerMs: 10_000,
  /** A frame later than this past its slot is recorded as a late-frame event. */
  lateToleranceMs: 40,
  /** A frame still absent this long past its slot is replaced by silence (real-time pace only). */
  missingFrameMs: 400,
  /** Protocol errors tolerated per session (each answered with a METADATA error) before closing. */
  maxProtocolErrors: 10,
  /** Steps in the sliding window behind /health percentiles. */
  statsWindow: 1000,
  /** After sending a close frame, how long to wait for the peer's before dropping the socket. */
  closeTimeoutMs: 2000,
  /** On shutdown, how long sessions get to flush and close before they are cut. */
  shutdownGraceMs: 3000,
  /** While the engine starts or restarts, how long a handshake waits for it. */
  engineWaitMs: 30_000,
};

export interface ServerOptions extends Partial<Omit<typeof SERVER_DEFAULTS, 'token'>> {
  /** Required for a non-loopback host; clients send it as `Authorization: Bearer T` or `?token=T`. */
  readonly token?: string | null;
  /** Browser Origins allowed besides loopback ones (`--allow-origin`), e.g. https://moshi.example.com. */
  readonly allowOrigins?: readonly string[];
  readonly clock?: Clock;
  /** Why there is no engine at all (the server then runs degraded and says this). */
  readonly noEngineReason?: string;
}

export type ResolvedServerOptions = Readonly<typeof SERVER_DEFAULTS> & {
  readonly allowOrigins: readonly string[];
  readonly clock: Clock;
  readonly noEngineReason: string;
};

export type ServerOptionsErrorCode = 'SERVER_ERR_OPTIONS' | 'SERVER_ERR_INSECURE_BIND';

export class ServerOptionsError extends CodedError<ServerOptionsErrorCode> {
  override readonly name = 'ServerOptionsError';
}

/** Smallest token accepted: anything shorter is guessable. */
export const MIN_TOKEN_LENGTH = 8;

function allowOrigins(values: readonly string[]): string[] {
  try {
    return parseAllowOrigins(values);
  } catch (err) {
    throw new ServerOptionsError('SERVER_ERR_OPTIONS', (err as Error).message);
  }
}

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new ServerOptionsError('SERVER_ERR_OPTIONS', `${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function resolveServerOptions(o: ServerOptions = {}): ResolvedServerOptions {
  const d = SERVER_DEFAULTS;
  const pick = <K extends keyof typeof d>(k: K): (typeof d)[K] => (o[k] ?? d[k]) as (typeof d)[K];
  const r = {
    host: pick('host'),
    port: pick('port'),
    token: o.token ?? null,
    maxSessions: positiveInt('maxSessions', pick('maxSessions')),
    maxPendingConnections: positiveInt('maxPendingConnections', pick('maxPendingConnections')),
    maxPendingPerAddress: positiveInt('maxPendingPerAddress', pick('maxPendingPerAddress')),
    pressureHandshakeMs: positiveInt('pressureHandshakeMs', pick('pressureHandshakeMs')),
    trustProxy: pick('trustProxy') === true,
    allowOrigins: allowOrigins(o.allowOrigins ?? []),
    maxMessageBytes: positiveInt('maxMessageBytes', pick('maxMessageBytes'), AUDIO_PACKET_BYTES),
    maxInputRate: positiveInt('maxInputRate', pick('maxInputRate')),
    inputBurst: positiveInt('inputBurst', pick('inputBurst')),
    maxQueuedFrames: positiveInt('maxQueuedFrames', pick('maxQueuedFrames')),
    maxLagMs: positiveInt('maxLagMs', pick('maxLagMs')),
    admission: pick('admission'),
    heartbeatMs: positiveInt('heartbeatMs', pick('heartbeatMs')),
    deadPeerMs: positiveInt('deadPeerMs', pick('deadPeerMs')),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', pick('handshakeTimeoutMs')),
    sendHighWaterBytes: positiveInt('sendHighWaterBytes', pick('sendHighWaterBytes')),
    skipDecodeBytes: positiveInt('skipDecodeBytes', pick('skipDecodeBytes')),
    maxSendQueueBytes: positiveInt('maxSendQueueBytes', pick('maxSendQueueBytes'), AUDIO_PACKET_BYTES),
    slowConsumerMs: positiveInt('slowConsumerMs', pick('slowConsumerMs')),
    lateToleranceMs: positiveInt('lateToleranceMs', pick('lateToleranceMs'), 0),
    missingFrameMs: positiveInt('missingFrameMs', pick('missingFrameMs')),
    maxProtocolErrors: positiveInt('maxProtocolErrors', pick('maxProtocolErrors'), 0),
    statsWindow: positiveInt('statsWindow', pick('statsWindow')),
    closeTimeoutMs: positiveInt('closeTimeoutMs', pick('closeTimeoutMs')),
    shutdownGraceMs: positiveInt('shutdownGraceMs', pick('shutdownGraceMs')),
    engineWaitMs: positiveInt('engineWaitMs', pick('engineWaitMs'), 0),
    clock: o.clock ?? realClock,
    noEngineReason: o.noEngineReason ?? 'no engine: the server was started without one',
  };
  if (r.admission !== 'cost' && r.admission !== 'max-sessions') throw new ServerOptionsError('SERVER_ERR_OPTIONS', `admission must be "cost" or "max-sessions", got ${JSON.stringify(r.admission)}`);
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) throw new ServerOptionsError('SERVER_ERR_OPTIONS', `port must be 0..65535, got ${r.port}`);
  if (typeof r.host !== 'string' || r.host.trim() === '') throw new ServerOptionsError('SERVER_ERR_OPTIONS', 'host must be a non-empty string');
  if (r.deadPeerMs <= r.heartbeatMs) {
    throw new ServerOptionsError('SERVER_ERR_OPTIONS', `deadPeerMs (${r.deadPeerMs}) must exceed heartbeatMs (${r.heartbeatMs}): a live peer needs time to answer`);
  }
  if (r.maxPendingPerAddress > r.maxPendingConnections) {
    throw new ServerOptionsError('SERVER_ERR_OPTIONS', `maxPendingPerAddress (${r.maxPendingPerAddress}) must be <= maxPendingConnections (${r.maxPendingConnections})`);
  }
  // Pressure only ever shortens the wait.
  r.pressureHandshakeMs = Math.min(r.pressureHandshakeMs, r.handshakeTimeoutMs);
  if (r.skipDecodeBytes < r.sendHighWaterBytes) {
    throw new ServerOptionsError('SERVER_ERR_OPTIONS', `skipDecodeBytes (${r.skipDecodeBytes}) must be >= sendHighWaterBytes (${r.sendHighWaterBytes}): partials are dropped before decodes are skipped`);
  }
  if (r.token !== null) {
    if (typeof r.token !== 'string' || r.token.length < MIN_TOKEN_LENGTH || /\s/.test(r.token)) {
      throw new ServerOptionsError('SERVER_ERR_OPTIONS', `token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`);
    }
  }
  if (!isLoopbackHost(r.host) && r.token === null) {
    throw new ServerOptionsError(
      'SERVER_ERR_INSECURE_BIND',
      `refusing to listen on ${r.host} without a token: anyone who can reach it could use the model. ` +
        'Pass --token T (clients send "Authorization: Bearer T" or ?token=T), or bind 127.0.0.1.',
    );
  }
  return r;
}
