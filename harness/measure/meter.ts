// What a third party can measure of one Moshi connection from timing alone: the two timed
// message streams (client → server, server → client) in, the connection's figures out. The
// proxy feeds it what it forwards; a load-test client can feed it what it sends and receives.
//
// Lag method (as src/client/moshi.ts): a Moshi server answers each 80 ms client frame with
// 80 ms of audio, in order, after `warmupFrames` frames (Moshi's acoustic delay: 1). Both
// audio streams are decoded and cut into 80 ms frames counted as their sender encoded them
// (opus-tap.ts); server frame j answers client frame j + warmupFrames, and its lag is the
// arrival of the message completing server frame j minus that of the message completing
// client frame j + warmupFrames (both at the measuring point: the proxy, or the client).
import type { Libopus } from '../../src/audio/opus/index.ts';
import { decodeMoshi, type MoshiMessage } from '../../src/protocol/moshi/index.ts';
import { OpusTap, type TimedFrame } from './opus-tap.ts';
import { clientTimeoutsOf, lateFrames, stallsOf } from './gaps.ts';
import { growthOf, percentiles, type Percentiles } from './stats.ts';
import { turnTaking, type TurnFigures } from './turns.ts';
import { StreamingVad, type VadOptions, VAD_DEFAULTS } from './vad.ts';

export type Side = 'client' | 'server';
const FRAME_MS = 80;

export interface MeterOptions {
  /** Server frames that answer nothing at the start (default 1, Moshi's acoustic delay). */
  readonly warmupFrames?: number;
  /** A gap in server audio longer than this is a stall (default 500 ms). */
  readonly stallMs?: number;
  /** No server message for this long: Kyutai's web client gives up (default 10 000 ms). */
  readonly clientTimeoutMs?: number;
  /** A frame is late when its lag exceeds the session's smallest lag by more than this (default 160 ms: two frames). */
  readonly lateMs?: number;
  /**
   * Growth (lag ms per minute) is reported only when the answered frames span at least this
   * (default 20 000 ms): 10 ms of frame-to-frame jitter reads as ~±200 ms/min over 2 s (25 frames) and
   * ~±7 ms/min over 20 s (250 frames), small beside a lag a person notices growing (#229).
   */
  readonly growthMinMs?: number;
  readonly vad?: VadOptions;
  /** Each decoded 1920-sample frame of either side, as a decoder hands the audio out (for recording). */
  readonly onFrame?: (side: Side, frame: TimedFrame) => void;
}

export const METER_DEFAULTS = { warmupFrames: 1, stallMs: 500, clientTimeoutMs: 10_000, lateMs: 160, growthMinMs: 20_000 } as const;

/** Something that happened on the connection, at `atMs` since it started. */
export interface ConnectionEvent {
  readonly kind: string;
  readonly atMs: number;
  readonly side?: Side | 'proxy';
  readonly message: string;
  readonly code?: string | number;
}

export interface StreamTally {
  readonly messages: number;
  readonly bytes: number;
  /** Messages by Moshi kind name ('unknown-N', 'text-frame', 'undecodable' for the rest). */
  readonly byKind: Readonly<Record<string, number>>;
  /** 80 ms audio frames decoded. */
  readonly audioFrames: number;
  /** Why audio decoding stopped, or null. */
  readonly audioError: string | null;
}

export interface ConnectionFigures {
  readonly version: 1;
  /** Connection start → server handshake (0x00), ms. */
  readonly handshakeMs: number | null;
  /** Connection start → first whole 80 ms of server audio, ms. */
  readonly firstAudioMs: number | null;
  readonly lag: Percentiles & {
    readonly method: string;
    readonly warmupFrames: number;
    /** Least-squares growth of the lag over the session, ms per minute; null when its frames span under growthMinMs (see slopeNullReason). */
    readonly slopeMsPerMin: number | null;
    /** Why slopeMsPerMin is null (too short a span), else null. The meter always writes it; optional for files from before it. */
    readonly slopeNullReason?: string | null;
    /** [time of the reply (ms since start), lag ms] per answered frame: the line a viewer draws. */
    readonly series: readonly (readonly [number, number])[];
    /**
     * The server frame j of each series point (series[i] is frame frames[i]; it answers client
     * frame j + warmupFrames): where a viewer puts it on the session's frames. The meter always
     * writes it; optional for figures made elsewhere and files from before it (then: by order).
     */
    readonly frames?: readonly number[];
    /** Server frames with no client frame to pair (the server ran ahead of the input). */
    readonly unmatched: number;
  };
  readonly late: { readonly thresholdMs: number; readonly count: number; readonly frames: readonly number[] };
  /** Client frames after the warm-up that no server frame answered by the end. */
  readonly missing: { readonly count: number; readonly firstFrame: number | null };
  readonly stalls: { readonly thresholdMs: number; readonly count: number; readonly totalMs: number; readonly list: readonly { readonly atMs: number; readonly durationMs: number }[] };
  /** Silences of every server message long enough for Kyutai's client to give up. */
  readonly clientTimeouts: { readonly thresholdMs: number; readonly count: number; readonly list: readonly { readonly atMs: number; readonly silentMs: number }[] };
  readonly text: { readonly count: number; readonly firstMs: number | null; readonly perSecond: number | null; readonly pieces: readonly { readonly atMs: number; readonly text: string }[] };
  readonly turns: TurnFigures & { readonly method: string; readonly responseGap: Percentiles; readonly vad: Required<VadOptions> };
  readonly client: StreamTally;
  readonly server: StreamTally;
  readonly events: readonly ConnectionEvent[];
  readonly end: { readonly by: Side | 'proxy'; readonly code: number; readonly reason: string; readonly atMs: number } | null;
  readonly durationMs: number;
}

const MAX_EVENTS = 1000;
const MAX_TEXT = 10_000;

class Tally {
  messages = 0;
  bytes = 0;
  readonly byKind: Record<string, number> = {};
  count(kind: string, n: number): void {
    this.messages++;
    this.bytes += n;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
  }
}

export class MoshiMeter {
  private readonly o: Required<Omit<MeterOptions, 'vad' | 'onFrame'>> & Pick<MeterOptions, 'onFrame'>;
  private readonly vadOptions: Required<VadOptions>;
  private readonly taps: Record<Side, OpusTap>;
  private readonly tallies: Record<Side, Tally> = { client: new Tally(), server: new Tally() };
  private readonly clientFrameAt: number[] = [];
  private readonly lagSeries: [number, number][] = [];
  private readonly lagFrames: number[] = [];
  private unmatched = 0;
  private readonly serverAudioAt: number[] = [];
  private readonly serverMessageAt: number[] = [];
  private readonly texts: { atMs: number; text: string }[] = [];
  private readonly events: ConnectionEvent[] = [];
  private droppedEvents = 0;
  private handshakeAt: number | null = null;
  private firstAudioAt: number | null = null;
  private serverFrames = 0;
  private upstreamOpenAt: number | null = null;
  private readonly userVad: StreamingVad;
  private readonly modelVad: StreamingVad;
  private userClock: number | null = null;
  private playoutEnd = -Infinity;
  private ended: ConnectionFigures['end'] = null;
  private lastT = 0;

  constructor(lib: Libopus, options: MeterOptions = {}) {
    this.o = { ...METER_DEFAULTS, ...options };
    this.vadOptions = { ...VAD_DEFAULTS, ...options.vad };
    this.taps = { client: new OpusTap(lib), server: new OpusTap(lib) };
    this.userVad = new StreamingVad(this.vadOptions);
    this.modelVad = new StreamingVad(this.vadOptions);
  }

  /** The upstream connection is open (the server can be expected to talk from here), t ms since start. */
  upstreamOpen(t: number): void {
    this.upstreamOpenAt = t;
    this.lastT = Math.max(this.lastT, t);
  }

  /** One WebSocket message as forwarded, `t` ms since the connection started. */
  message(side: Side, bytes: Uint8Array, isBinary: boolean, t: number): void {
    this.lastT = Math.max(this.lastT, t);
    const tally = this.tallies[side];
    if (side === 'server') this.serverMessageAt.push(t);
    if (!isBinary) {
      tally.count('text-frame', bytes.length);
      this.event({ kind: 'not-moshi', atMs: t, side, message: 'a text WebSocket message (Moshi messages are binary)' });
      return;
    }
    let m: MoshiMessage;
    try {
      m = decodeMoshi(bytes);
    } catch (err) {
      tally.count('undecodable', bytes.length);
      this.event({ kind: 'not-moshi', atMs: t, side, message: `undecodable message: ${(err as Error).message}`, code: (err as { code?: string }).code });
      return;
    }
    tally.count(m.kind === 'unknown' ? `unknown-${m.byte}` : m.kind, bytes.length);
    switch (m.kind) {
      case 'audio':
        this.audio(side, m.data, t);
        return;
      case 'handshake':
        if (side === 'server') this.handshakeAt ??= t;
        return;
      case 'text':
      case 'coloredText':
        if (side === 'server' && this.texts.length < MAX_TEXT) this.texts.push({ atMs: t, text: m.text });
        return;
      case 'error':
        this.event({ kind: 'error-message', atMs: t, side, message: m.text });
        return;
      case 'unknown':
        this.event({ kind: 'unknown-kind', atMs: t, side, message: `message kind ${m.byte} is not one of Moshi's 0-7`, code: m.byte });
        return;
      default:
    }
  }

  /** Something the proxy saw or did (upstream refused, a side not reading, recording stopped…). */
  event(e: ConnectionEvent): void {
    if (this.events.length < MAX_EVENTS) this.events.push(e);
    else this.droppedEvents++;
  }

  /** The connection ended: who closed it, with which code. Later calls are ignored. */
  end(by: Side | 'proxy', code: number, reason: string, t: number): void {
    this.lastT = Math.max(this.lastT, t);
    this.ended ??= { by, code, reason, atMs: round(t) };
  }

  private audio(side: Side, ogg: Uint8Array, t: number): void {
    const tap = this.taps[side];
    if (side === 'server') this.serverAudioAt.push(t);
    const hadError = tap.error !== null;
    const out = tap.push(ogg, t);
    if (!hadError && tap.error !== null) this.event({ kind: 'audio-undecodable', atMs: t, side, message: `${side} audio stopped decoding: ${tap.error}` });
    for (const f of out.timing) this.timing(side, f);
    for (const f of out.pcm) this.pcm(side, f);
  }

  private timing(side: Side, f: TimedFrame): void {
    if (side === 'client') {
      this.clientFrameAt[f.index] = f.t;
      return;
    }
    this.serverFrames++;
    this.firstAudioAt ??= f.t;
    const sent = this.clientFrameAt[f.index + this.o.warmupFrames];
    if (sent === undefined) this.unmatched++;
    else {
      this.lagSeries.push([round(f.t), round(f.t - sent)]);
      this.lagFrames.push(f.index);
    }
  }

  private pcm(side: Side, f: TimedFrame): void {
    this.o.onFrame?.(side, f);
    if (side === 'client') {
      // The user's audio on its own clock: frame k was captured in the 80 ms before frame 0 arrived + 80k.
      this.userClock ??= f.t - FRAME_MS;
      this.userVad.push(f.pcm, this.userClock + f.index * FRAME_MS);
      return;
    }
    // As a client playing on arrival hears it: a frame starts when it arrived or when the previous one ended.
    const at = Math.max(f.t, this.playoutEnd);
    this.playoutEnd = at + FRAME_MS;
    this.modelVad.push(f.pcm, at);
  }

  figures(): ConnectionFigures {
    const lags = this.lagSeries.map((p) => p[1]);
    const late = lateFrames(lags, this.o.lateMs);
    const end = this.ended?.atMs ?? this.lastT;

    const answered = this.serverFrames;
    let owed = Math.max(0, this.clientFrameAt.length - this.o.warmupFrames);
    // The padded tail of a client's EOS page: SolaceLive steps it, a server stepping whole frames only does not; neither is missing audio.
    if (this.taps.client.tail !== null && answered < owed) owed--;
    const missing = Math.max(0, owed - answered);

    const stalls = stallsOf(this.serverAudioAt, end, missing, this.o.stallMs);
    const timeouts = this.upstreamOpenAt === null ? [] : clientTimeoutsOf(this.upstreamOpenAt, this.serverMessageAt, end, this.o.clientTimeoutMs);

    const first = this.texts[0]?.atMs ?? null;
    const last = this.texts[this.texts.length - 1]?.atMs ?? null;
    const span = first !== null && last !== null ? (last - first) / 1000 : 0;
    const turns = turnTaking(this.userVad.finish(), this.modelVad.finish());
    const events = this.droppedEvents > 0 ? [...this.events, { kind: 'events-dropped', atMs: round(end), side: 'proxy' as const, message: `${this.droppedEvents} more events not kept` }] : [...this.events];
    return {
      version: 1,
      handshakeMs: this.handshakeAt === null ? null : round(this.handshakeAt),
      firstAudioMs: this.firstAudioAt === null ? null : round(this.firstAudioAt),
      lag: {
        method: `server frame j answers client frame j+${this.o.warmupFrames} (order); lag = arrival of server frame j - arrival of client frame j+${this.o.warmupFrames}, both at the measuring point`,
        warmupFrames: this.o.warmupFrames,
        ...percentiles(lags),
        ...growthOf(this.lagSeries, this.o.growthMinMs),
        series: this.lagSeries,
        frames: this.lagFrames,
        unmatched: this.unmatched,
      },
      late: { thresholdMs: this.o.lateMs, count: late.length, frames: late.slice(0, 100) },
      missing: { count: missing, firstFrame: missing > 0 ? answered + this.o.warmupFrames : null },
      stalls: { thresholdMs: this.o.stallMs, count: stalls.length, totalMs: round(stalls.reduce((s, x) => s + x.durationMs, 0)), list: stalls },
      clientTimeouts: { thresholdMs: this.o.clientTimeoutMs, count: timeouts.length, list: timeouts },
      text: { count: this.texts.length, firstMs: first, perSecond: span > 0 ? round(this.texts.length / span) : null, pieces: this.texts },
      turns: {
        method: 'energy VAD (RMS per hop over thresholdDb, opened after minSpeechMs, closed after hangoverMs of quiet) on each side; user audio on its capture clock (frame k at first frame + 80k), model audio as played on arrival',
        ...turns,
        responseGap: percentiles(turns.responseGapsMs),
        vad: this.vadOptions,
      },
      client: this.tally('client'),
      server: this.tally('server'),
      events,
      end: this.ended,
      durationMs: round(end),
    };
  }

  private tally(side: Side): StreamTally {
    const t = this.tallies[side];
    return { messages: t.messages, bytes: t.bytes, byKind: { ...t.byKind }, audioFrames: this.taps[side].frameCount, audioError: this.taps[side].error };
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
