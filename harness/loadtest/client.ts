// One load-test client: connects with the protocol's own Node client (src/client/moshi.ts
// or src/client/client.ts), streams its input at real time (frame k leaves at its start +
// k·80 ms by a clock, whatever the replies do), measures the connection as the proxy does
// and, with a recording folder, records it in the proxy's format. On the Moshi protocol the
// event loop only stamps each message and hands a copy to the measuring worker the proxy uses
// (harness/proxy/measurer.ts), which decodes, measures and records: a stamp never waits for
// another client's decoding. (The packet protocol carries PCM: nothing to decode.)
import { join } from 'node:path';
import { FRAME_MS, FRAME_SAMPLES } from '../../src/audio/frames.ts';
import { describeLibopus, INPUT_FRAMING, MOSHI_CLIENT_SHAPE, OggOpusEncoder, type Libopus } from '../../src/audio/opus/index.ts';
import { ClientError } from '../../src/client/client.ts';
import { connect } from '../../src/client/connect.ts';
import { connectMoshi, moshiQuery, MOSHI_WARMUP_FRAMES } from '../../src/client/moshi.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';
import type { Clock } from '../../src/telemetry/clock.ts';
import { hostBasics } from '../../src/telemetry/host.ts';
import { PROXY_FORMAT, proxiedManifestInit, type ManifestInit, type SessionError } from '../format/node.ts';
import { MoshiMeter, type ConnectionEvent, type ConnectionFigures, type MeterOptions } from '../measure/index.ts';
import { ProxyRecording } from '../proxy/index.ts';
import type { MeasuredConnection, Measurer } from '../proxy/measurer.ts';
import { softwareInfo } from '../recorder.ts';
import { frameAt, type ClientInput } from './input.ts';
import { PacketMeter } from './packet-meter.ts';
import type { Target } from './target.ts';

export interface ClientPlan {
  readonly index: number;
  readonly input: ClientInput;
  /** Frames to stream (the input looped). */
  readonly frames: number;
  readonly seed: number;
}

export interface ClientOptions {
  readonly lib: Libopus;
  readonly connectTimeoutMs: number;
  readonly token?: string;
  readonly meter?: Omit<MeterOptions, 'onFrame'>;
  /** Session folder for this connection (proxy recording format), or null. */
  readonly recordDir: string | null;
  /** Extra manifest meta (which load test, level, client). */
  readonly recordMeta?: Record<string, unknown>;
  /** Moshi: the client's Ogg pages, encoded once per input and length (EncodedStream). */
  readonly stream?: EncodedStream;
  readonly signal?: AbortSignal;
  /** Moshi: the measuring worker (one for all clients of a level); required on that protocol. */
  readonly measurer?: Measurer;
}

export type ClientStatus = 'done' | 'refused' | 'failed';

export interface ClientReport {
  readonly index: number;
  readonly input: string;
  readonly status: ClientStatus;
  /** Why the connection was refused or failed (the server's code when it said one). */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly figures: ConnectionFigures | null;
  readonly framesSent: number;
  /** The connection ended before the client had sent its input, or with an abnormal close code. */
  readonly disconnected: boolean;
  readonly recording: { readonly path: string; readonly status: 'complete' | 'failed'; readonly error: string | null } | null;
}

/** What a running client shows the progress line. */
export interface ClientProgress {
  /** Where the client is; 'measuring': waiting for the measuring worker (its opening or the figures at the end). */
  state: 'connecting' | 'measuring' | 'streaming' | 'finishing' | 'closing' | ClientStatus;
  framesSent: number;
  framesBack: number;
}

/** Refusals: the server said it has no room (admission, HTTP 503/429, close 1013), as opposed to a failure. */
export function isRefusal(code: string): boolean {
  return /^(SERVER_BUSY|SERVER_FULL|TOO_MANY_PENDING|ENGINE_UNAVAILABLE)$|^CLIENT_ERR_HTTP_(429|503)$|^CLIENT_ERR_CLOSED_1013$/.test(code);
}

/**
 * A client's Ogg Opus stream as Moshi messages, per half frame (what opus-recorder sends every
 * 40 ms) and the end pages; encoded once per input and length, as the first client needs each
 * half (a long run does not wait for its whole input to be encoded). Every client with that
 * input sends the same bytes: each is its own stream at the server.
 */
export class EncodedStream {
  private readonly enc: OggOpusEncoder;
  private readonly halves: Uint8Array[][] = [];
  private endPages: Uint8Array[] | null = null;
  private readonly input: ClientInput;
  private readonly frames: number;

  constructor(lib: Libopus, input: ClientInput, frames: number) {
    this.enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x4c4f4144, vendor: 'SolaceLive loadtest' });
    this.input = input;
    this.frames = frames;
  }

  /** The messages of half frame i (2k: frame k's first 40 ms). */
  half(i: number): readonly Uint8Array[] {
    const n = FRAME_SAMPLES / 2;
    while (this.halves.length <= i && this.halves.length < 2 * this.frames) {
      const h = this.halves.length;
      const pcm = frameAt(this.input, h >> 1).subarray((h & 1) * n, ((h & 1) + 1) * n);
      this.halves.push(this.enc.push(pcm).map((page) => encodeMoshi({ kind: 'audio', data: page })));
    }
    return this.halves[i] ?? [];
  }

  /**
   * Frames the end-of-stream pages complete at a server that cuts on the encoder's boundaries
   * (SolaceLive): the input's tail behind the pre-skip, padded.
   */
  get tailFrames(): number {
    return Math.ceil((this.frames * FRAME_SAMPLES + Math.ceil(this.enc.preSkip / 2)) / FRAME_SAMPLES) - this.frames;
  }

  /** The end-of-stream pages, after every half. */
  end(): readonly Uint8Array[] {
    this.half(2 * this.frames - 1);
    this.endPages ??= this.enc.end().map((page) => encodeMoshi({ kind: 'audio', data: page }));
    return this.endPages;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
// A server that says nothing this long after the input ended has nothing more to say (a slow one still streams).
const QUIET_MS = 5000;
const FINISH_MS = 30_000;
/** The longest a client can take past its input's end when every wait in it holds to its bound (the streaming loop's, settle's close). */
export const CLIENT_FINISH_BOUND_MS = FINISH_MS + 2000;

/** Runs one client to its end; never throws for what the server does (that is in the report). */
export async function runClient(target: Target, plan: ClientPlan, o: ClientOptions, progress: ClientProgress): Promise<ClientReport> {
  const c0 = performance.now();
  const clock: Clock = { now: () => performance.now() - c0 };
  if (target.protocol === 'moshi') return moshiClient(target, plan, o, progress, clock, performance.timeOrigin + c0);
  let rec: ProxyRecording | null = null;
  let recError: string | null = null;
  const recording = async (figures: ConnectionFigures | null) => {
    if (!rec) return o.recordDir && recError ? { path: o.recordDir, status: 'failed' as const, error: recError } : null;
    const { result, figuresError } = await rec.close({ format: PROXY_FORMAT, version: 1, connection: `loadtest-${plan.index}`, upstream: target.url, figures: figures ?? new MoshiMeter(o.lib).figures() });
    const e = result.error ?? figuresError;
    return { path: rec.dir, status: e ? ('failed' as const) : ('complete' as const), error: e ? `${e.code}: ${e.message}` : null };
  };
  if (o.recordDir) {
    try {
      rec = await ProxyRecording.create(o.recordDir, manifestInit(target, plan, o), o.meter?.warmupFrames ?? MOSHI_WARMUP_FRAMES, (e: SessionError) => (recError = `${e.code}: ${e.message}`));
    } catch (err) {
      recError = `${(err as SessionError).code ?? 'ERR'}: ${(err as Error).message}`;
    }
  }
  const failed = async (err: unknown, figures: ConnectionFigures | null): Promise<ClientReport> => {
    const e = err instanceof ClientError ? err : null;
    const code = e?.code ?? (err as { code?: string }).code ?? 'LOADTEST_ERR_CLIENT';
    const status: ClientStatus = isRefusal(code) ? 'refused' : 'failed';
    progress.state = status;
    return { index: plan.index, input: plan.input.name, status, error: { code, message: (err as Error).message }, figures, framesSent: progress.framesSent, disconnected: false, recording: await recording(figures) };
  };
  return packetClient(target, plan, o, progress, clock, rec, recording, failed);
}

type Recording = (f: ConnectionFigures | null) => Promise<ClientReport['recording']>;
type Failed = (err: unknown, f: ConnectionFigures | null) => Promise<ClientReport>;

async function moshiClient(target: Target, plan: ClientPlan, o: ClientOptions, progress: ClientProgress, clock: Clock, t0Abs: number): Promise<ClientReport> {
  if (!o.measurer) throw new TypeError('runClient: a Moshi-protocol client needs a measurer');
  const warmup = o.meter?.warmupFrames ?? MOSHI_WARMUP_FRAMES;
  const recordPlan = o.recordDir ? { dir: o.recordDir, init: manifestInit(target, plan, o), warmupFrames: warmup } : null;
  // The worker creates the recording (a failure is an event in the figures) before anything is sent.
  progress.state = 'measuring';
  const meter = await o.measurer.open(`loadtest-${plan.index}`, t0Abs, o.meter ?? {}, recordPlan);
  const ended = async () => {
    progress.state = 'measuring';
    const e = await meter.finish(target.url);
    return { figures: e.figures, recording: recordingOf(o.recordDir, meter, e) };
  };
  meter.upstreamOpen(0);
  let lastIn = 0;
  let client;
  progress.state = 'connecting';
  try {
    client = await connectMoshi(target.url, {
      query: moshiQuery({ seed: plan.seed }), clock, connectTimeoutMs: o.connectTimeoutMs, libopus: async () => o.lib,
      // The reply audio is decoded by the measuring worker; this loop only counts it.
      replyAudio: 'count',
      ...(o.token ? { token: o.token } : {}),
      onInbound: (bytes, t) => {
        lastIn = t;
        meter.message('server', bytes, true, t);
      },
      onOutbound: (bytes, t) => meter.message('client', bytes, true, t),
    });
  } catch (err) {
    meter.end('server', 0, (err as Error).message, clock.now());
    const e = err instanceof ClientError ? err : null;
    const code = e?.code ?? (err as { code?: string }).code ?? 'LOADTEST_ERR_CLIENT';
    const status: ClientStatus = isRefusal(code) ? 'refused' : 'failed';
    const { figures, recording } = await ended();
    progress.state = status;
    return { index: plan.index, input: plan.input.name, status, error: { code, message: (err as Error).message }, figures, framesSent: progress.framesSent, disconnected: false, recording };
  }
  let closedAt: number | null = null;
  let closedBy: 'client' | 'server' = 'server';
  const closed = client.closed.then((c) => {
    closedAt = clock.now();
    meter.end(closedBy, c.code, c.reason, closedAt);
  });
  const stream = o.stream!;
  progress.state = 'streaming';
  const t0 = clock.now();
  let sent = 0;
  for (let k = 0; k < plan.frames && client.isOpen && !o.signal?.aborted; k++) {
    for (let h = 0; h < 2 && client.isOpen; h++) {
      await sleep(t0 + k * FRAME_MS + (h * FRAME_MS) / 2 - clock.now());
      for (const m of stream.half(2 * k + h)) client.sendRaw(m);
    }
    sent = k + 1;
    progress.framesSent = sent;
    progress.framesBack = Math.floor(client.samplesReceived / FRAME_SAMPLES);
  }
  const streamEnd = clock.now();
  // Stopped by the user (Ctrl-C) is an input that ended early, not a disconnect.
  const completed = sent === plan.frames || (o.signal?.aborted === true && client.isOpen);
  // The end-of-stream page when the whole input went out (a stopped client just waits for its replies).
  if (client.isOpen && sent === plan.frames) for (const m of stream.end()) client.sendRaw(m);
  progress.state = 'finishing';
  // Replies to every frame after the warm-up (SolaceLive answers the EOS tail too, then closes), or quiet, or the bound; then the client closes if the server has not.
  const tail = sent === plan.frames && client.solacelive !== null ? stream.tailFrames : 0;
  const want = Math.max(0, sent + tail - warmup) * FRAME_SAMPLES;
  const deadline = clock.now() + FINISH_MS;
  while (client.isOpen && clock.now() < deadline && client.samplesReceived + FRAME_SAMPLES <= want && clock.now() - lastIn < QUIET_MS) {
    await sleep(20);
    progress.framesBack = Math.floor(client.samplesReceived / FRAME_SAMPLES);
  }
  if (client.isOpen) closedBy = 'client';
  progress.state = 'closing';
  await client.settle({ maxWaitMs: 0, quietMs: 0 });
  await closed;
  progress.framesBack = Math.floor(client.samplesReceived / FRAME_SAMPLES);
  const { figures, recording } = await ended();
  const end = figures.end;
  const disconnected = !completed || (closedAt !== null && closedAt < streamEnd) || (end !== null && end.code !== 1000 && end.code !== 1005);
  progress.state = 'done';
  return { index: plan.index, input: plan.input.name, status: 'done', error: null, figures, framesSent: sent, disconnected, recording };
}

/** The recording's end as a ClientReport gives it: the folder the worker wrote, or why there is none. */
function recordingOf(dir: string | null, c: MeasuredConnection, e: Awaited<ReturnType<MeasuredConnection['finish']>>): ClientReport['recording'] {
  if (!dir) return null;
  if (e.recording) return { path: c.path ?? dir, status: e.recording.status, error: e.recording.error ? `${e.recording.error.code}: ${e.recording.error.message}` : null };
  // Not created (the worker's event says why) or never reached the worker.
  const why = e.figures.events.find((x: ConnectionEvent) => x.kind === 'recording-failed' || x.kind === 'measure-worker-failed');
  return { path: dir, status: 'failed', error: why ? why.message : 'not recorded' };
}

async function packetClient(target: Target, plan: ClientPlan, o: ClientOptions, progress: ClientProgress, clock: Clock, rec: ProxyRecording | null, recording: Recording, failed: Failed): Promise<ClientReport> {
  const meter = new PacketMeter(o.meter);
  const warmup = o.meter?.warmupFrames ?? MOSHI_WARMUP_FRAMES;
  let client;
  try {
    client = await connect(target.url, {
      seed: plan.seed, pace: 'realtime', clock, connectTimeoutMs: o.connectTimeoutMs, collectAudio: false,
      ...(o.token ? { token: o.token } : {}),
      onInbound: (bytes, t) => {
        meter.message('server', bytes, t);
        rec?.packet('server', bytes, t);
      },
      onOutbound: (bytes, t) => {
        meter.message('client', bytes, t);
        rec?.packet('client', bytes, t);
      },
      onAudio: (pcm, step) => {
        const t = clock.now();
        meter.audio(step, t, pcm);
        progress.framesBack++;
        if (step >= warmup) rec?.frame('server', { index: step - warmup, t, pcm });
      },
      onText: (p) => meter.text(p.piece ?? '', clock.now()),
      onMessage: (m) => meter.server(m, clock.now()),
    });
  } catch (err) {
    meter.end('server', 0, (err as Error).message, clock.now());
    return failed(err, meter.figures());
  }
  meter.handshake(clock.now());
  let closedAt: number | null = null;
  let closedBy: 'client' | 'server' = 'server';
  void client.closed.then((c) => {
    closedAt = clock.now();
    meter.end(closedBy, c.code, c.reason, closedAt);
  });
  progress.state = 'streaming';
  const t0 = clock.now();
  let sent = 0;
  for (let k = 0; k < plan.frames && client.isOpen && !o.signal?.aborted; k++) {
    await sleep(t0 + k * FRAME_MS - clock.now());
    if (!client.isOpen) break;
    const pcm = frameAt(plan.input, k);
    client.sendFrame(pcm);
    const t = clock.now();
    meter.clientFrame(k, t, pcm);
    rec?.frame('client', { index: k, t, pcm });
    sent = k + 1;
    progress.framesSent = sent;
  }
  const streamEnd = clock.now();
  const completed = sent === plan.frames || (o.signal?.aborted === true && client.isOpen);
  progress.state = 'finishing';
  // 'end', then the server answers what is left and closes; bounded, then the client closes.
  const ended = client.isOpen ? client.end() : Promise.resolve(null);
  let timer: NodeJS.Timeout | undefined;
  const bound = await Promise.race([ended.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), FINISH_MS)))]);
  clearTimeout(timer);
  if (!bound) {
    closedBy = 'client';
    await client.close();
  }
  const figures = meter.figures();
  const end = figures.end;
  const disconnected = !completed || (closedAt !== null && closedAt < streamEnd) || (end !== null && end.code !== 1000 && end.code !== 1005);
  progress.state = 'done';
  return { index: plan.index, input: plan.input.name, status: 'done', error: null, figures, framesSent: sent, disconnected, recording: await recording(figures) };
}

function manifestInit(target: Target, plan: ClientPlan, o: ClientOptions): ManifestInit {
  const u = new URL(target.url);
  const query = target.protocol === 'moshi' ? Object.fromEntries(Object.entries(moshiQuery({ seed: plan.seed })).map(([k, v]) => [k, String(v)])) : { text_seed: String(plan.seed) };
  const init = proxiedManifestInit({
    upstream: `${u.origin}${u.pathname}`, query, client: { address: null, userAgent: 'solacelive loadtest', origin: null },
    host: hostBasics(), software: softwareInfo(), opus: describeLibopus(o.lib.identity), inputFraming: INPUT_FRAMING,
  });
  return { ...init, meta: { ...init.meta, wire: target.protocol, loadtest: { client: plan.index, input: plan.input.name, ...o.recordMeta } } };
}

export const recordPath = (dir: string, run: string, level: number, index: number): string => join(dir, `${run}-n${level}-c${index + 1}.session`);
