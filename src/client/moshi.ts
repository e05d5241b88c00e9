// A Node client for the Moshi protocol, speaking to /api/chat as Kyutai's web client does:
// the options in the query string, nothing sent before the handshake (0x00), then the
// microphone as Ogg Opus (opus-recorder's shape: 20 ms packets, 2 per page, each page its
// own message), text (0x02) and Ogg Opus audio (0x01) back. It works against any Moshi
// server; against SolaceLive the metadata message also names the session.
//
// Latency without step numbers: a Moshi server answers each 80 ms frame with 80 ms of audio,
// in order, after a warm-up of one frame (Moshi's acoustic delay). So the k-th 1920 samples
// of the reply stream, counted as the server encoded them (decoded samples plus the
// stream's pre-skip), answer frame k + warm-up; its latency is the arrival of the message
// that completed them minus the time that frame's last page was sent.
import WebSocket, { type RawData } from 'ws';
import { FRAME_MS, FRAME_SAMPLES } from '../audio/frames.ts';
import type { SamplingParams } from '../engine/types.ts';
import type { ReadyMessage } from '../server/messages.ts';
import { OggOpusDecoder, OggOpusEncoder, MOSHI_CLIENT_SHAPE, type Libopus } from '../audio/opus/index.ts';
import { OggOpusSampleCounter } from '../audio/opus/counter.ts';
import { loadLibopusNode } from '../audio/opus/node.ts';
import { decodeMessageSafe, packetTypeName } from '../protocol/index.ts';
import { decodeMoshi, encodeMoshi, MoshiProtocolError, type MoshiMessage } from '../protocol/moshi/index.ts';
import { realClock, type Clock } from '../telemetry/clock.ts';
import { ClientError, describeClose, rawBytes } from './client.ts';
import { refusedUpgrade, socketWhy } from './connect.ts';
import { LatencyTracker, type LatencyReport } from './latency.ts';

/** Where Moshi servers (upstream's and SolaceLive's) speak the protocol. */
export const MOSHI_CHAT_PATH = '/api/chat';
/** Frames a Moshi server answers with nothing (the acoustic delay of Moshi's delay pattern: one step, upstream and here). */
export const MOSHI_WARMUP_FRAMES = 1;

export interface MoshiClientOptions {
  /** Query parameters (text_temperature, text_seed, …); numbers are written as given. */
  readonly query?: Readonly<Record<string, string | number>>;
  readonly token?: string;
  /** More request headers (an Origin, as a browser page sends one). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** How long to wait for the handshake. */
  readonly connectTimeoutMs?: number;
  /** Frames the server answers with nothing before its first audio (default MOSHI_WARMUP_FRAMES). */
  readonly warmupFrames?: number;
  /** Each text piece as it arrives. */
  readonly onText?: (text: string) => void;
  /** Every WebSocket message both ways, as sent or received (for recording and tests). */
  readonly onInbound?: (bytes: Uint8Array, t: number) => void;
  readonly onOutbound?: (bytes: Uint8Array, t: number) => void;
  readonly libopus?: () => Promise<Libopus>;
  /**
   * 'decode' (default): the reply audio is decoded and kept (result().audio). 'count': only its
   * length is counted, from the Opus packets' headers (samplesReceived, latency; result().audio
   * empty), for a client whose audio is measured elsewhere: decoding on the loop would delay
   * the stamps of the messages behind it.
   */
  readonly replyAudio?: 'decode' | 'count';
}

export interface MoshiText {
  readonly text: string;
  /** Client clock time it arrived. */
  readonly at: number;
}

export interface MoshiResult {
  /** The reply audio, decoded (24 kHz), in arrival order; sample 0 answers the first frame after the warm-up. Empty with replyAudio 'count'. */
  readonly audio: Float32Array;
  readonly text: readonly MoshiText[];
  readonly metadata: readonly unknown[];
  /** The session SolaceLive named in its metadata (null from other Moshi servers). */
  readonly session: string | null;
  /** SolaceLive's ready message for the session (seed, model, …); null from other Moshi servers. */
  readonly solacelive: ReadyMessage | null;
  readonly errors: readonly string[];
  readonly ignored: number;
  readonly framesSent: number;
  /** 80 ms frames of reply audio received whole. */
  readonly audioFrames: number;
  readonly warmupFrames: number;
  /** Every frame after the warm-up answered, and the connection closed normally. */
  readonly ok: boolean;
  readonly close: { readonly code: number; readonly reason: string };
  /** Frame sent → its audio back, by order (see the top of this file). */
  readonly latency: LatencyReport;
}

/** ws://host:port (any path-less URL, http(s) too) → its /api/chat; a URL with a path is kept as given. */
export function moshiUrl(url: string, query: Readonly<Record<string, string | number>> = {}): URL {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = MOSHI_CHAT_PATH;
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  return u;
}

export interface MoshiSessionOptions {
  /** text_seed; also audio_seed unless `audioSeed` is given. */
  readonly seed?: number;
  readonly audioSeed?: number;
  /** Fields given go into the query; the server's defaults hold for the rest. */
  readonly sampling?: Partial<SamplingParams>;
  /** record=1: a SolaceLive extension (asks the server to record the session); other servers ignore it. */
  readonly record?: boolean;
}

const QUERY_NAMES: Readonly<Record<keyof SamplingParams, string>> = {
  textTemperature: 'text_temperature', textTopK: 'text_topk', audioTemperature: 'audio_temperature', audioTopK: 'audio_topk',
};

/** The /api/chat query string for a session's options, with the parameter names of Kyutai's client. */
export function moshiQuery(o: MoshiSessionOptions): Record<string, string | number> {
  const q: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(o.sampling ?? {}) as [keyof SamplingParams, number][]) q[QUERY_NAMES[k]] = v;
  if (o.seed !== undefined) q.text_seed = o.seed;
  const audioSeed = o.audioSeed ?? o.seed;
  if (audioSeed !== undefined) q.audio_seed = audioSeed;
  if (o.record) q.record = 1;
  return q;
}

/** "CODE: message" (how SolaceLive words its 0x05 errors) → a ClientError with that code. */
function serverError(text: string, fallback: string): ClientError {
  const m = /^([A-Z][A-Z0-9_]+): /.exec(text);
  return new ClientError(m ? m[1]! : fallback, text);
}

/** Opens /api/chat and resolves once the server's handshake arrived. */
export async function connectMoshi(url: string, options: MoshiClientOptions = {}): Promise<MoshiClient> {
  const clock = options.clock ?? realClock;
  const lib = await (options.libopus ?? loadLibopusNode)();
  const u = moshiUrl(url, options.query);
  const where = `${u.origin}${u.pathname}`;
  const headers: Record<string, string> = { ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
  const ws = new WebSocket(u, { headers, perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  const early: { bytes: Uint8Array; t: number }[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: ClientError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };
    const notMoshi = (why: string) => fail(new ClientError('CLIENT_ERR_PROTOCOL', `${where} does not speak the Moshi protocol: ${why}`));
    const waitMs = options.connectTimeoutMs ?? 45_000;
    const timer = setTimeout(() => fail(new ClientError('CLIENT_ERR_TIMEOUT', `no handshake from ${where} within ${waitMs} ms`)), waitMs);
    const errors: string[] = [];
    ws.on('error', (err: NodeJS.ErrnoException) => fail(new ClientError('CLIENT_ERR_CONNECT', `${where}: ${socketWhy(err)}`, err.code)));
    ws.on('unexpected-response', (_req, res) => refusedUpgrade(res, where, fail));
    ws.on('close', (code, reason) => {
      const last = errors[errors.length - 1];
      fail(last ? serverError(last, `CLIENT_ERR_CLOSED_${code}`) : new ClientError(`CLIENT_ERR_CLOSED_${code}`, `${where} closed before the handshake (${describeClose(code, reason.toString())})`));
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const t = clock.now();
      const bytes = rawBytes(data);
      options.onInbound?.(bytes, t);
      if (!isBinary) return notMoshi(`it sent a text message (${JSON.stringify(bytes.subarray(0, 40).toString())})`);
      // A SolaceLive packet server (any path but /api/chat) sends 17-byte packets; its HEARTBEAT's first byte would read as Moshi audio.
      const pk = decodeMessageSafe(bytes);
      if (pk.packets.length > 0 && !pk.error) {
        return notMoshi(`it answered with SolaceLive packets (${pk.packets.map((p) => p.type).join(', ')}); a SolaceLive server speaks Moshi at ${MOSHI_CHAT_PATH}, and \`solacelive client\` without --protocol moshi speaks its packets`);
      }
      let m: MoshiMessage;
      try {
        m = decodeMoshi(bytes);
      } catch (err) {
        return notMoshi((err as MoshiProtocolError).message);
      }
      if (m.kind === 'unknown') return notMoshi(`message kind ${m.byte}${packetTypeName(m.byte) ? ` (a SolaceLive ${packetTypeName(m.byte)} packet?)` : ''} is not one of Moshi's 0-7`);
      if (m.kind === 'error') errors.push(m.text);
      if (m.kind !== 'handshake') {
        early.push({ bytes, t });
        return;
      }
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      const client = new MoshiClient(ws, lib, options, clock);
      for (const e of early) client.ingest(e.bytes, e.t, false);
      resolve(client);
    });
  });
}

export class MoshiClient {
  private readonly ws: WebSocket;
  private readonly clock: Clock;
  private readonly o: MoshiClientOptions;
  private readonly encoder: OggOpusEncoder;
  /** The reply stream: decoded, or (replyAudio 'count') only counted. */
  private readonly decoder: OggOpusDecoder | OggOpusSampleCounter;
  private readonly audio: Float32Array[] = [];
  private samples = 0;
  private readonly texts: MoshiText[] = [];
  private readonly metadata: unknown[] = [];
  private readonly errors: string[] = [];
  private ignored = 0;
  private framesSent = 0;
  /** 80 ms reply frames completed (see the top of this file). */
  private replyFrames = 0;
  private readonly warmup: number;
  private readonly latency = new LatencyTracker();
  private lastReceived: number;
  private closeInfo: { code: number; reason: string } | null = null;
  private decodeError: string | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  /** Use `connectMoshi()`. */
  constructor(ws: WebSocket, lib: Libopus, options: MoshiClientOptions, clock: Clock) {
    this.ws = ws;
    this.o = options;
    this.clock = clock;
    this.lastReceived = clock.now();
    this.warmup = options.warmupFrames ?? MOSHI_WARMUP_FRAMES;
    for (let s = 0; s < this.warmup; s++) this.latency.gap(s);
    this.encoder = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x534c4956, vendor: 'SolaceLive client' });
    this.decoder = options.replyAudio === 'count' ? new OggOpusSampleCounter() : new OggOpusDecoder({ lib });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      resolve(this.closeInfo);
    }));
    ws.on('message', (data: RawData) => this.ingest(rawBytes(data), this.clock.now(), true));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Reply audio received so far (decoded, or counted with replyAudio 'count'), in samples. */
  get samplesReceived(): number {
    return this.samples;
  }

  /** SolaceLive's session (its ready message, in the metadata's `solacelive` field); null from other Moshi servers. */
  get solacelive(): ReadyMessage | null {
    for (const m of this.metadata) {
      const r = (m as { solacelive?: Partial<ReadyMessage> } | null)?.solacelive;
      if (r && typeof r.session === 'string' && typeof r.seed === 'number') return r as ReadyMessage;
    }
    return null;
  }

  /** @internal Messages of the session (those before the handshake too). */
  ingest(bytes: Uint8Array, t: number, tap: boolean): void {
    if (tap) this.o.onInbound?.(bytes, t);
    this.lastReceived = t;
    let m: MoshiMessage;
    try {
      m = decodeMoshi(bytes);
    } catch (err) {
      this.errors.push(`undecodable message: ${(err as Error).message}`);
      return;
    }
    switch (m.kind) {
      case 'audio':
        this.audioIn(m.data, t);
        return;
      case 'text':
      case 'coloredText':
        this.texts.push({ text: m.text, at: t });
        this.o.onText?.(m.text);
        return;
      case 'metadata':
        this.metadata.push(m.json);
        return;
      case 'error':
        this.errors.push(m.text);
        return;
      case 'ping':
      case 'handshake':
        return;
      default:
        this.ignored++;
    }
  }

  private audioIn(data: Uint8Array, t: number): void {
    if (this.decodeError) return;
    let n: number;
    try {
      if (this.decoder instanceof OggOpusSampleCounter) n = this.decoder.push(data);
      else {
        this.decoder.push(data);
        const pcm = this.decoder.read();
        if (pcm.length > 0) this.audio.push(pcm.slice());
        n = pcm.length;
      }
    } catch (err) {
      this.decodeError = (err as Error).message;
      this.errors.push(`reply audio: ${this.decodeError}`);
      return;
    }
    if (n === 0) return;
    this.samples += n;
    // Samples as the server encoded them: the decoder dropped the pre-skip (48 kHz units) from the start.
    const encoded = this.samples + Math.ceil((this.decoder.head?.preSkip ?? 0) / 2);
    while ((this.replyFrames + 1) * FRAME_SAMPLES <= encoded) {
      this.replyFrames++;
      this.latency.audio(t);
    }
  }

  private send(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.o.onOutbound?.(bytes, this.clock.now());
    this.ws.send(bytes);
  }

  /** Sends a message as it is (paced replay sends the recorded ones). */
  sendRaw(bytes: Uint8Array): void {
    this.send(bytes);
  }

  /** Encodes PCM and sends each finished page as its own message, as opus-recorder does. */
  sendPcm(pcm: Float32Array): void {
    for (const page of this.encoder.push(pcm)) this.send(encodeMoshi({ kind: 'audio', data: page }));
  }

  /** Sends one 1920-sample frame now; returns its index. */
  sendFrame(frame: Float32Array): number {
    if (frame.length !== FRAME_SAMPLES) throw new ClientError('CLIENT_ERR_FRAME', `a frame is ${FRAME_SAMPLES} samples, got ${frame.length}`);
    const index = this.framesSent++;
    this.latency.sent(index, this.clock.now());
    this.sendPcm(frame);
    return index;
  }

  /**
   * Streams 1920-sample frames at real time, as a microphone feeds Kyutai's client: each 40 ms
   * half at the moment it would have been captured whole (frame k's halves at start + k·80 ms
   * and 40 ms later), so each page leaves when it is full. An abort ends the input there.
   */
  async stream(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, signal?: AbortSignal): Promise<void> {
    const t0 = this.clock.now();
    const half = FRAME_SAMPLES / 2;
    let k = 0;
    for await (const frame of frames) {
      if (frame.length !== FRAME_SAMPLES) throw new ClientError('CLIENT_ERR_FRAME', `a frame is ${FRAME_SAMPLES} samples, got ${frame.length}`);
      for (let h = 0; h < 2; h++) {
        if (!this.isOpen || signal?.aborted) return;
        await sleep(t0 + k * FRAME_MS + (h * FRAME_MS) / 2 - this.clock.now());
        if (!this.isOpen || signal?.aborted) return;
        // The frame counts as sent with its last half: only then has the server all of it.
        if (h === 1) this.latency.sent(this.framesSent++, this.clock.now());
        this.sendPcm(frame.subarray(h * half, (h + 1) * half));
      }
      k++;
    }
  }

  /**
   * Ends the stream (the last page flushes the encoder, so the server gets every sample),
   * waits for the reply to every frame after the warm-up, or for `quietMs` without any
   * message, at most `maxWaitMs`, then closes (the protocol has no end message). SolaceLive
   * cuts frames on the encoder's boundaries, so the input's tail behind the pre-skip is one
   * more frame, whole with the EOS page, that it answers too (then it closes): against it
   * the client waits for that reply as well.
   */
  async finish(options: { quietMs?: number; maxWaitMs?: number } = {}): Promise<MoshiResult> {
    const { quietMs = 2000, maxWaitMs = 30_000 } = options;
    let expectFrames = Math.max(0, this.framesSent - this.warmup);
    if (this.framesSent > 0) {
      for (const page of this.encoder.end()) this.send(encodeMoshi({ kind: 'audio', data: page }));
      const encoded = Math.ceil((this.framesSent * FRAME_SAMPLES + Math.ceil(this.encoder.preSkip / 2)) / FRAME_SAMPLES);
      // The tail's reply (a SolaceLive server's) pairs with now, when its last page left.
      for (let k = this.framesSent; k < encoded; k++) this.latency.sent(k, this.clock.now());
      if (this.solacelive !== null) expectFrames = Math.max(0, encoded - this.warmup);
    }
    await this.settle({ quietMs, maxWaitMs, expectFrames });
    return this.result();
  }

  /** Waits for the replies as finish() does, without ending the stream (paced replay sends its own pages), then closes. */
  async settle(options: { quietMs?: number; maxWaitMs?: number; expectFrames?: number } = {}): Promise<void> {
    const { quietMs = 2000, maxWaitMs = 30_000 } = options;
    const expected = options.expectFrames ?? Math.max(0, this.framesSent - this.warmup);
    const deadline = this.clock.now() + maxWaitMs;
    while (this.isOpen && this.clock.now() < deadline && this.replyFrames < expected && this.clock.now() - this.lastReceived < quietMs) await sleep(20);
    // The server may be closing already (it ends the session on the stream's EOS page): wait for that close too.
    if (this.isOpen) this.ws.close(1000, 'client done');
    const t = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(t);
  }

  /** stream() then finish(). */
  async run(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, signal?: AbortSignal): Promise<MoshiResult> {
    await this.stream(frames, signal);
    return this.finish();
  }

  result(): MoshiResult {
    const audio = new Float32Array(this.samples);
    let at = 0;
    for (const a of this.audio) {
      audio.set(a, at);
      at += a.length;
    }
    const close = this.closeInfo ?? { code: 0, reason: 'still open' };
    return {
      audio, text: [...this.texts], metadata: [...this.metadata], session: this.solacelive?.session ?? null, solacelive: this.solacelive, errors: [...this.errors], ignored: this.ignored,
      framesSent: this.framesSent, audioFrames: this.replyFrames, warmupFrames: this.warmup,
      ok: close.code === 1000 && this.replyFrames >= this.framesSent - this.warmup,
      close, latency: this.latency.report(),
    };
  }
}

/**
 * The reply lined up with the input, as the packet client writes it: the warm-up frames
 * silent, then the decoded reply, cut or padded with silence to `samples`.
 */
export function replyTrack(r: MoshiResult, samples: number): Float32Array {
  const out = new Float32Array(samples);
  const at = Math.min(samples, r.warmupFrames * FRAME_SAMPLES);
  out.set(r.audio.subarray(0, samples - at), at);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
