// The proxy's figures (harness/measure ConnectionFigures) for a SolaceLive packet
// connection, so both protocols are judged alike. The packet protocol numbers its steps,
// so no order guess is needed: the audio of step s answers client frame s, and its lag is
// its arrival minus the send of frame s (both on the client's clock, as the Moshi meter
// times the message that completed each frame). Stalls, the client-timeout silence and
// the turn-taking figures are derived as the Moshi meter derives them.
import { FRAME_MS } from '../../src/audio/frames.ts';
import type { GapMessage, ServerMessage } from '../../src/server/messages.ts';
import { clientTimeoutsOf, growthOf, lateFrames, METER_DEFAULTS, stallsOf, percentiles, StreamingVad, turnTaking, VAD_DEFAULTS, type ConnectionEvent, type ConnectionFigures, type MeterOptions, type Side, type StreamTally, type VadOptions } from '../measure/index.ts';

const round = (x: number): number => Math.round(x * 100) / 100;

export class PacketMeter {
  private readonly o: Required<Omit<MeterOptions, 'vad' | 'onFrame'>>;
  private readonly vadOptions: Required<VadOptions>;
  private readonly sentAt: number[] = [];
  private readonly lagSeries: [number, number][] = [];
  private readonly lagSteps: number[] = [];
  private readonly serverAudioAt: number[] = [];
  private readonly serverMessageAt: number[] = [];
  private readonly texts: { atMs: number; text: string }[] = [];
  private readonly events: ConnectionEvent[] = [];
  private readonly bytes = { client: { messages: 0, bytes: 0 }, server: { messages: 0, bytes: 0 } };
  private readonly gaps: GapMessage[] = [];
  private readonly userVad: StreamingVad;
  private readonly modelVad: StreamingVad;
  private playoutEnd = -Infinity;
  private audioFrames = 0;
  private handshakeAt: number | null = null;
  private firstAudioAt: number | null = null;
  private ended: ConnectionFigures['end'] = null;
  private lastT = 0;

  constructor(options: Omit<MeterOptions, 'onFrame'> = {}) {
    this.o = { ...METER_DEFAULTS, ...options };
    this.vadOptions = { ...VAD_DEFAULTS, ...options.vad };
    this.userVad = new StreamingVad(this.vadOptions);
    this.modelVad = new StreamingVad(this.vadOptions);
  }

  message(side: Side, bytes: Uint8Array, t: number): void {
    this.lastT = Math.max(this.lastT, t);
    this.bytes[side].messages++;
    this.bytes[side].bytes += bytes.length;
    if (side === 'server') this.serverMessageAt.push(t);
  }

  /** The server's ready: the packet protocol's handshake. */
  handshake(t: number): void {
    this.handshakeAt ??= t;
  }

  /** Client frame k left at t (the whole frame is in one packet). */
  clientFrame(k: number, t: number, pcm: Float32Array): void {
    this.sentAt[k] = t;
    this.userVad.push(pcm, (this.sentAt[0] ?? t) - FRAME_MS + k * FRAME_MS);
  }

  /** The audio of `step` arrived at t. */
  audio(step: number, t: number, pcm: Float32Array): void {
    this.audioFrames++;
    this.serverAudioAt.push(t);
    this.firstAudioAt ??= t;
    const sent = this.sentAt[step];
    if (sent !== undefined) {
      this.lagSeries.push([round(t), round(t - sent)]);
      this.lagSteps.push(step);
    }
    const at = Math.max(t, this.playoutEnd);
    this.playoutEnd = at + FRAME_MS;
    this.modelVad.push(pcm, at);
  }

  text(piece: string, t: number): void {
    this.texts.push({ atMs: round(t), text: piece });
  }

  /** Server metadata: gaps (warm-up, lost audio) and errors. */
  server(m: ServerMessage, t: number): void {
    if (m.type === 'gap') {
      this.gaps.push(m);
      if (m.reason !== 'warm-up') this.event({ kind: `gap-${m.reason}`, atMs: round(t), side: 'server', message: `step ${m.step} answered without audio (${m.reason})` });
    } else if (m.type === 'error') this.event({ kind: 'error-message', atMs: round(t), side: 'server', message: `${m.code}: ${m.message}`, code: m.code });
  }

  event(e: ConnectionEvent): void {
    if (this.events.length < 1000) this.events.push(e);
  }

  end(by: Side, code: number, reason: string, t: number): void {
    this.lastT = Math.max(this.lastT, t);
    this.ended ??= { by, code, reason, atMs: round(t) };
  }

  figures(): ConnectionFigures {
    const lags = this.lagSeries.map((p) => p[1]);
    const late = lateFrames(lags, this.o.lateMs);
    const end = this.ended?.atMs ?? this.lastT;
    const warmup = this.gaps.filter((g) => g.reason === 'warm-up').length;
    const missing = Math.max(0, this.sentAt.length - warmup - this.audioFrames);
    const stalls = stallsOf(this.serverAudioAt, end, missing, this.o.stallMs);
    const timeouts = clientTimeoutsOf(0, this.serverMessageAt, end, this.o.clientTimeoutMs);
    const first = this.texts[0]?.atMs ?? null;
    const last = this.texts[this.texts.length - 1]?.atMs ?? null;
    const span = first !== null && last !== null ? (last - first) / 1000 : 0;
    const turns = turnTaking(this.userVad.finish(), this.modelVad.finish());
    const tally = (side: Side, frames: number): StreamTally => ({ messages: this.bytes[side].messages, bytes: this.bytes[side].bytes, byKind: {}, audioFrames: frames, audioError: null });
    return {
      version: 1,
      handshakeMs: this.handshakeAt === null ? null : round(this.handshakeAt),
      firstAudioMs: this.firstAudioAt === null ? null : round(this.firstAudioAt),
      lag: {
        method: 'SolaceLive packets: the audio of step s answers client frame s; lag = its arrival - the send of frame s, on the client',
        warmupFrames: warmup,
        ...percentiles(lags),
        // As the Moshi meter: over a short session jitter reads as growth.
        ...growthOf(this.lagSeries, this.o.growthMinMs),
        series: this.lagSeries,
        // The viewer puts point i on client frame frames[i] + warmupFrames: here, its step.
        frames: this.lagSteps.map((s) => Math.max(0, s - warmup)),
        unmatched: this.audioFrames - this.lagSeries.length,
      },
      late: { thresholdMs: this.o.lateMs, count: late.length, frames: late.slice(0, 100) },
      missing: { count: missing, firstFrame: missing > 0 ? this.audioFrames + warmup : null },
      stalls: { thresholdMs: this.o.stallMs, count: stalls.length, totalMs: round(stalls.reduce((s, x) => s + x.durationMs, 0)), list: stalls },
      clientTimeouts: { thresholdMs: this.o.clientTimeoutMs, count: timeouts.length, list: timeouts },
      text: { count: this.texts.length, firstMs: first, perSecond: span > 0 ? round(this.texts.length / span) : null, pieces: this.texts },
      turns: {
        method: 'energy VAD on each side (harness/measure/vad.ts); user audio on its send clock, model audio as played on arrival',
        ...turns,
        responseGap: percentiles(turns.responseGapsMs),
        vad: this.vadOptions,
      },
      client: tally('client', this.sentAt.length),
      server: tally('server', this.audioFrames),
      events: [...this.events],
      end: this.ended,
      durationMs: round(end),
    };
  }
}
