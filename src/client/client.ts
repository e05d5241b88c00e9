// The Node client: opens a session (METADATA handshake), streams 80 ms frames at real-time
// pace or as fast as the server accepts them, and collects what comes back — audio (played
// out through a small jitter buffer at real-time pace, and kept step-aligned for a file),
// text, gaps, events, errors — with end-to-end latency per frame. Used by `solacelive
// client`, the tests, and the recorder.
import WebSocket, { type RawData } from 'ws';
import { CodedError } from '../errors.ts';
import { FRAME_MS, FRAME_SAMPLES } from '../audio/frames.ts';
import type { JitterOptions, JitterStats, JitterTick } from '../audio/jitter.ts';
import { decodeMessageSafe, encodePacket, seqNext, type Packet } from '../protocol/index.ts';
import {
  asServerMessage, parseTextFinal, parseTextPartial, type EndedMessage, type ErrorMessage, type EventsMessage, type GapMessage, type RecordingMessage,
  type Pace, type ReadyMessage, type ServerMessage, type StartMessage, type TextFinal, type TextPartial,
} from '../server/messages.ts';
import { realClock, type Clock } from '../telemetry/clock.ts';
import { LatencyTracker, type LatencyReport } from './latency.ts';
import { Playout } from './playout.ts';

export interface ClientOptions {
  readonly seed?: number;
  readonly sampling?: StartMessage['sampling'];
  readonly record?: boolean;
  readonly pace?: Pace;
  /** Sent as `Authorization: Bearer T` (servers off loopback require one). */
  readonly token?: string;
  readonly clock?: Clock;
  /** Playout buffer at real-time pace (default: capacity 8, prebuffer 2 frames). */
  readonly jitter?: JitterOptions;
  /** Fast pace: frames sent but not yet answered (audio or gap), at most (default 4). */
  readonly window?: number;
  /** Until 'ready' (default 45 s: the server waits up to 30 s for an engine that is still loading). */
  readonly connectTimeoutMs?: number;
  /** Keep every audio frame for `result().audio` (default true). */
  readonly collectAudio?: boolean;
  readonly onText?: (p: TextPartial) => void;
  /** Audio as it arrives, with its (best-guess, see latency.ts) step. */
  readonly onAudio?: (frame: Float32Array, step: number) => void;
  /** Real-time pace: one call per 80 ms playout tick. */
  readonly onPlay?: (tick: JitterTick) => void;
  readonly onMessage?: (m: ServerMessage) => void;
  /** Raw taps (recorder): every message each way with the client clock. */
  readonly onInbound?: (bytes: Uint8Array, t: number) => void;
  readonly onOutbound?: (bytes: Uint8Array, t: number) => void;
}

export interface SessionResult {
  readonly session: string;
  /** Close frame received (1000 after a normal end). */
  readonly close: { readonly code: number; readonly reason: string };
  /** True when the server answered every frame and ended the session normally. */
  readonly ok: boolean;
  readonly ended: EndedMessage | null;
  readonly framesSent: number;
  readonly audioFrames: number;
  /** Output, one 1920-sample slot per step (silence where a step had no audio). */
  readonly audio: Float32Array;
  readonly text: string;
  readonly final: TextFinal | null;
  readonly partials: readonly TextPartial[];
  readonly gaps: readonly GapMessage[];
  readonly events: readonly EventsMessage[];
  readonly errors: readonly ErrorMessage[];
  /** What the server said of recording this session, in order (empty when not recorded). */
  readonly recording: readonly RecordingMessage[];
  readonly latency: LatencyReport;
  readonly jitter: JitterStats | null;
}

export class ClientError extends CodedError {
  /** The socket's errno (ECONNREFUSED, ENOTFOUND…) when connecting failed, so a caller can say what to do. */
  readonly errno: string | undefined;
  override readonly name = 'ClientError';
  constructor(code: string, message: string, errno?: string) {
    super(code, message);
    this.errno = errno;
  }
}

const CLOSE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal', 1001: 'going away', 1002: 'protocol error', 1006: 'connection lost', 1007: 'invalid payload',
  1008: 'policy violation', 1009: 'message too big', 1011: 'server error', 1013: 'try again later',
};

export function describeClose(code: number, reason: string): string {
  return `${code} ${CLOSE_NAMES[code] ?? ''}${reason ? `: ${reason}` : ''}`.trim();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export function rawBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

export class SolaceClient {
  readonly ready: ReadyMessage;
  private readonly ws: WebSocket;
  private readonly o: ClientOptions;
  private readonly clock: Clock;
  private outSeq = 0;
  private lastSent: number;
  private lastReceived: number;
  private framesSent = 0;
  private readonly latency = new LatencyTracker();
  private readonly audio: Float32Array[] = [];
  private readonly partials: TextPartial[] = [];
  private readonly gaps: GapMessage[] = [];
  private readonly events: EventsMessage[] = [];
  private readonly errors: ErrorMessage[];
  private readonly recording: RecordingMessage[] = [];
  private final: TextFinal | null = null;
  private ended: EndedMessage | null = null;
  private readonly playout: Playout | null;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private progress: (() => void) | null = null;
  private closeInfo: { code: number; reason: string } | null = null;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  /** Use `connect()`. */
  constructor(ws: WebSocket, ready: ReadyMessage, options: ClientOptions, early: { errors: ErrorMessage[]; lastReceived: number; outSeq: number }) {
    this.ws = ws;
    this.ready = ready;
    this.o = options;
    this.clock = options.clock ?? realClock;
    this.errors = early.errors;
    this.outSeq = early.outSeq;
    this.lastSent = this.clock.now();
    this.lastReceived = early.lastReceived;
    this.playout = ready.pace === 'realtime' ? new Playout(this.clock, options.jitter, options.onPlay) : null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.stopTimers();
        this.progress?.();
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // Heartbeat when idle, and give up on a server that has gone silent.
    this.timers.push(setInterval(() => {
      const t = this.clock.now();
      if (t - this.lastSent >= ready.heartbeatMs / 2) this.send({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 0, requiresAck: false });
      if (t - this.lastReceived > ready.limits.deadPeerMs) ws.terminate();
    }, Math.max(50, ready.heartbeatMs / 2)));
  }

  get session(): string {
    return this.ready.session;
  }
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  /** Frames sent and not yet answered by audio or a gap. */
  get outstanding(): number {
    return this.framesSent - this.latency.audioCount - this.latency.gapCount;
  }

  /** Sends one packet now (sequence and timestamp filled in). */
  send(p: Packet): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const t = this.clock.now();
    const bytes = encodePacket({ ...p, sequence: this.outSeq, timestamp: t });
    this.outSeq = seqNext(this.outSeq);
    this.lastSent = t;
    this.o.onOutbound?.(bytes, t);
    this.ws.send(bytes);
  }

  /** Sends one frame now; returns its index (= its step). */
  sendFrame(pcm: Float32Array): number {
    if (pcm.length !== FRAME_SAMPLES) throw new ClientError('CLIENT_ERR_FRAME', `a frame is ${FRAME_SAMPLES} samples, got ${pcm.length}`);
    const index = this.framesSent++;
    this.latency.sent(index, this.clock.now());
    this.send({ type: 'AUDIO_CHUNK', priority: 0, sequence: 0, timestamp: 0, requiresAck: false, samples: pcm });
    return index;
  }

  /**
   * Sends frames at the session's pace: real time (frame k at start + k·80 ms, catching up
   * after a stall), or fast (a window of unanswered frames, under the server's input rate).
   */
  async stream(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, signal?: AbortSignal): Promise<void> {
    const t0 = this.clock.now();
    const minGap = 1000 / (0.8 * this.ready.limits.maxInputRate);
    const window = Math.max(1, Math.min(this.o.window ?? 4, this.ready.limits.maxQueuedFrames));
    let k = 0;
    let last = -Infinity;
    for await (const frame of frames) {
      // Aborted (the user's Ctrl-C): the input ends here, as if the file had.
      if (!this.isOpen || signal?.aborted) return;
      if (this.ready.pace === 'realtime') {
        await sleep(t0 + k * FRAME_MS - this.clock.now());
      } else {
        while (this.outstanding >= window && this.isOpen) await new Promise<void>((r) => (this.progress = r));
        await sleep(last + minGap - this.clock.now());
      }
      if (!this.isOpen || signal?.aborted) return;
      last = this.clock.now();
      this.sendFrame(frame);
      k++;
    }
  }

  /** Says 'end' and waits for the server to answer the remaining frames and close. */
  async end(): Promise<SessionResult> {
    this.send({ type: 'METADATA', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, data: { type: 'end' } });
    await this.closed;
    return this.result();
  }

  /** stream() then end(); an abort ends the input early and the session normally. */
  async run(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, signal?: AbortSignal): Promise<SessionResult> {
    await this.stream(frames, signal);
    return this.end();
  }

  /** Closes without waiting for outstanding frames. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000, 'client closed');
    const t = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(t);
  }

  result(): SessionResult {
    const steps = this.latency.assignments();
    const slots = Math.max(this.ended?.steps ?? 0, this.framesSent, steps.length ? steps[steps.length - 1]! + 1 : 0);
    const out = new Float32Array(slots * FRAME_SAMPLES);
    if (this.o.collectAudio !== false) steps.forEach((s, i) => out.set(this.audio[i]!, s * FRAME_SAMPLES));
    const close = this.closeInfo ?? { code: 0, reason: 'still open' };
    return {
      session: this.ready.session,
      close,
      ok: close.code === 1000 && this.ended !== null && this.outstanding === 0,
      ended: this.ended,
      framesSent: this.framesSent,
      audioFrames: this.latency.audioCount,
      audio: out,
      text: this.final?.text ?? this.partials.map((p) => p.piece ?? '').join(''),
      final: this.final,
      partials: this.partials,
      gaps: this.gaps,
      events: this.events,
      errors: this.errors,
      recording: this.recording,
      latency: this.latency.report(),
      jitter: this.playout?.stats() ?? null,
    };
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const t = this.clock.now();
    this.lastReceived = t;
    const bytes = rawBytes(data);
    this.o.onInbound?.(bytes, t);
    if (!isBinary) return;
    const { packets, error } = decodeMessageSafe(bytes);
    this.ingest(packets, t);
    // A server that sends bad packets is a bug worth seeing, not a reason to stop.
    if (error) this.errors.push({ type: 'error', code: `CLIENT_${error.code}` as ErrorMessage['code'], message: `from server: ${error.message}`, fatal: false });
  }

  /** Handles decoded packets received at `t` (used by connect() for those that came with ready). */
  ingest(packets: readonly Packet[], t: number): void {
    for (const p of packets) this.onPacket(p, t);
  }

  private onPacket(p: Packet, t: number): void {
    if (p.requiresAck) this.send({ type: 'ACK', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, ackSequence: p.sequence });
    switch (p.type) {
      case 'AUDIO_CHUNK': {
        const audioIndex = this.latency.audioCount;
        const step = this.latency.audio(t);
        if (this.o.collectAudio !== false) this.audio.push(p.samples);
        this.o.onAudio?.(p.samples, step);
        this.playout?.push(audioIndex, p.samples, t);
        this.progress?.();
        break;
      }
      case 'TEXT_PARTIAL': {
        const tp = parseTextPartial(p.text);
        if (tp) {
          this.partials.push(tp);
          this.o.onText?.(tp);
        }
        break;
      }
      case 'TEXT_FINAL':
        this.final = parseTextFinal(p.text);
        break;
      case 'METADATA': {
        const m = asServerMessage(p.data);
        if (!m) break;
        if (m.type === 'gap') {
          this.gaps.push(m);
          this.latency.gap(m.step);
          this.progress?.();
        } else if (m.type === 'events') {
          this.events.push(m);
          if (m.events.some((e) => e.kind === 'missing-frame')) this.latency.replacement(m.step);
        }
        else if (m.type === 'error') this.errors.push(m);
        else if (m.type === 'recording') this.recording.push(m);
        else if (m.type === 'ended') this.ended = m;
        this.o.onMessage?.(m);
        break;
      }
      default:
        break;
    }
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.playout?.stop();
  }
}
