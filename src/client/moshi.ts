// A Node client for the Moshi protocol, speaking to /api/chat as Kyutai's web client does:
// the options in the query string, nothing sent before the handshake (0x00), then the
// microphone as Ogg Opus (opus-recorder's shape: 20 ms packets, 2 per page, each page its
// own message), text (0x02) and Ogg Opus audio (0x01) back. It works against any Moshi
// server; against SolaceLive the metadata message also names the session.
import WebSocket, { type RawData } from 'ws';
import { FRAME_MS, FRAME_SAMPLES } from '../audio/frames.ts';
import { OggOpusDecoder, OggOpusEncoder, MOSHI_CLIENT_SHAPE, type Libopus } from '../audio/opus/index.ts';
import { loadLibopusNode } from '../audio/opus/node.ts';
import { decodeMoshi, encodeMoshi, MoshiProtocolError, type MoshiMessage } from '../protocol/moshi/index.ts';
import { realClock, type Clock } from '../telemetry/clock.ts';
import { ClientError, describeClose, rawBytes } from './client.ts';

export interface MoshiClientOptions {
  /** Query parameters (text_temperature, text_seed, …); numbers are written as given. */
  readonly query?: Readonly<Record<string, string | number>>;
  readonly token?: string;
  readonly clock?: Clock;
  /** How long to wait for the handshake. */
  readonly connectTimeoutMs?: number;
  /** Every WebSocket message both ways, as sent or received (for recording and tests). */
  readonly onInbound?: (bytes: Uint8Array, t: number) => void;
  readonly onOutbound?: (bytes: Uint8Array, t: number) => void;
  readonly libopus?: () => Promise<Libopus>;
}

export interface MoshiText {
  readonly text: string;
  /** Client clock time it arrived. */
  readonly at: number;
}

export interface MoshiResult {
  /** The reply audio, decoded (24 kHz), in arrival order. */
  readonly audio: Float32Array;
  readonly text: readonly MoshiText[];
  readonly metadata: readonly unknown[];
  readonly errors: readonly string[];
  readonly ignored: number;
  readonly framesSent: number;
  readonly close: { readonly code: number; readonly reason: string };
  /** Time from the handshake to the first reply audio, ms (null: none came). */
  readonly firstAudioMs: number | null;
}

/** Opens /api/chat and resolves once the server's handshake arrived. */
export async function connectMoshi(url: string, options: MoshiClientOptions = {}): Promise<MoshiClient> {
  const clock = options.clock ?? realClock;
  const lib = await (options.libopus ?? loadLibopusNode)();
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/chat';
  for (const [k, v] of Object.entries(options.query ?? {})) u.searchParams.set(k, String(v));
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
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
    const waitMs = options.connectTimeoutMs ?? 45_000;
    const timer = setTimeout(() => fail(new ClientError('CLIENT_ERR_TIMEOUT', `no handshake from ${u.href} within ${waitMs} ms`)), waitMs);
    const errors: string[] = [];
    ws.on('error', (err) => fail(new ClientError('CLIENT_ERR_CONNECT', `${u.origin}${u.pathname}: ${err.message}`)));
    ws.on('unexpected-response', (_req, res) => fail(new ClientError(`CLIENT_ERR_HTTP_${res.statusCode}`, `${u.origin}${u.pathname}: server answered HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim())));
    ws.on('close', (code, reason) => {
      const last = errors[errors.length - 1];
      fail(new ClientError(`CLIENT_ERR_CLOSED_${code}`, last ?? `closed before the handshake (${describeClose(code, reason.toString())})`));
    });
    ws.on('message', (data: RawData) => {
      const t = clock.now();
      const bytes = rawBytes(data);
      options.onInbound?.(bytes, t);
      let m: MoshiMessage;
      try {
        m = decodeMoshi(bytes);
      } catch (err) {
        fail(new ClientError('CLIENT_ERR_PROTOCOL', `not the Moshi protocol: ${(err as MoshiProtocolError).message}`));
        return;
      }
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
      const client = new MoshiClient(ws, lib, options, clock, t);
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
  private readonly decoder: OggOpusDecoder;
  private readonly audio: Float32Array[] = [];
  private readonly texts: MoshiText[] = [];
  private readonly metadata: unknown[] = [];
  private readonly errors: string[] = [];
  private ignored = 0;
  private framesSent = 0;
  private readonly handshakeAt: number;
  private firstAudioAt: number | null = null;
  private lastReceived: number;
  private closeInfo: { code: number; reason: string } | null = null;
  private decodeError: string | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  /** Use `connectMoshi()`. */
  constructor(ws: WebSocket, lib: Libopus, options: MoshiClientOptions, clock: Clock, handshakeAt: number) {
    this.ws = ws;
    this.o = options;
    this.clock = clock;
    this.handshakeAt = handshakeAt;
    this.lastReceived = handshakeAt;
    this.encoder = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x534c4956, vendor: 'SolaceLive client' });
    this.decoder = new OggOpusDecoder({ lib });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      resolve(this.closeInfo);
    }));
    ws.on('message', (data: RawData) => this.ingest(rawBytes(data), this.clock.now(), true));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Reply audio decoded so far, in samples. */
  get samplesReceived(): number {
    return this.audio.reduce((n, a) => n + a.length, 0);
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
      case 'audio': {
        if (this.decodeError) return;
        this.decoder.push(m.data);
        try {
          const pcm = this.decoder.read();
          if (pcm.length > 0) {
            this.firstAudioAt ??= t;
            this.audio.push(pcm.slice());
          }
        } catch (err) {
          this.decodeError = (err as Error).message;
          this.errors.push(`reply audio: ${this.decodeError}`);
        }
        return;
      }
      case 'text':
        this.texts.push({ text: m.text, at: t });
        return;
      case 'coloredText':
        this.texts.push({ text: m.text, at: t });
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

  private send(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.o.onOutbound?.(bytes, this.clock.now());
    this.ws.send(bytes);
  }

  /** Encodes PCM and sends each finished page as its own message, as opus-recorder does. */
  sendPcm(pcm: Float32Array): void {
    for (const page of this.encoder.push(pcm)) this.send(encodeMoshi({ kind: 'audio', data: page }));
  }

  /** Streams 1920-sample frames at real time (frame k at start + k·80 ms). */
  async stream(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>): Promise<void> {
    const t0 = this.clock.now();
    let k = 0;
    for await (const frame of frames) {
      if (!this.isOpen) return;
      await sleep(t0 + k * FRAME_MS - this.clock.now());
      if (!this.isOpen) return;
      if (frame.length !== FRAME_SAMPLES) throw new ClientError('CLIENT_ERR_FRAME', `a frame is ${FRAME_SAMPLES} samples, got ${frame.length}`);
      this.sendPcm(frame);
      this.framesSent++;
      k++;
    }
  }

  /**
   * Ends the stream (the last page flushes the encoder, so the server gets every sample),
   * waits for the reply to every frame sent (a server answers each 80 ms frame with 80 ms of
   * audio, all but the first `warmupFrames`), or for `quietMs` without any message, at most
   * `maxWaitMs`, then closes.
   */
  async finish(options: { quietMs?: number; maxWaitMs?: number; warmupFrames?: number } = {}): Promise<MoshiResult> {
    const { quietMs = 2000, maxWaitMs = 30_000, warmupFrames = 1 } = options;
    for (const page of this.encoder.end()) this.send(encodeMoshi({ kind: 'audio', data: page }));
    // The reply decoder holds back the encoder's pre-skip, so allow one frame less.
    const expected = Math.max(0, this.framesSent - warmupFrames - 1) * FRAME_SAMPLES;
    const deadline = this.clock.now() + maxWaitMs;
    while (this.isOpen && this.clock.now() < deadline && this.samplesReceived < expected && this.clock.now() - this.lastReceived < quietMs) await sleep(20);
    if (this.isOpen) {
      this.ws.close(1000, 'client done');
      const t = setTimeout(() => this.ws.terminate(), 2000);
      await this.closed;
      clearTimeout(t);
    }
    return this.result();
  }

  /** stream() then finish(). */
  async run(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>): Promise<MoshiResult> {
    await this.stream(frames);
    return this.finish();
  }

  result(): MoshiResult {
    const audio = new Float32Array(this.samplesReceived);
    let at = 0;
    for (const a of this.audio) {
      audio.set(a, at);
      at += a.length;
    }
    return {
      audio, text: [...this.texts], metadata: [...this.metadata], errors: [...this.errors], ignored: this.ignored, framesSent: this.framesSent,
      close: this.closeInfo ?? { code: 0, reason: 'still open' },
      firstAudioMs: this.firstAudioAt === null ? null : this.firstAudioAt - this.handshakeAt,
    };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
