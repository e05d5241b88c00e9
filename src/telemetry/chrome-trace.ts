// A recorded session as Chrome Trace Event JSON (the "JSON Object Format" that Perfetto and
// chrome://tracing open). Pure and browser-safe: session data in, trace object out, so the
// CLI (`solacelive export-trace`) and the viewer's button produce the same file.
//
// What a session records is each step's span *durations* and the time its result came back
// (`timeMs`), plus every packet's capture time. Slices are placed from those:
//   engine   [timeMs − step.total, timeMs]: mimi.encode, lm.temporal, lm.depformer,
//            mimi.decode laid end to end from its start (the engine runs them in that order);
//   before   queue.wait ends where the engine starts, net.recv ends where queue.wait starts;
//   after    net.send starts at timeMs.
// Durations are exact; start times are reconstructions (the engine's clock is not the
// server's), so where a reconstruction would make one track's slices overlap — frames
// waiting in the queue together, IPC jitter between engine steps — the later slice goes to
// a second lane of the same stage ("queue.wait 2") instead of being moved or cut.
//
// A session measured from outside (`solacelive proxy`, a load test) has no engine and no
// spans: measuredToChromeTrace draws what it holds instead, its figures (proxy.json) on the
// packets' clock.
import { BUDGET_MS, endToEndMs, SPAN_NAMES, type SpanName, type StepSpans } from './spans.ts';

/** What the converter needs of a step (harness/format's StepRecord has it). */
export interface TraceStep {
  readonly step: number;
  readonly timeMs: number;
  readonly spans: StepSpans;
  readonly events: readonly { readonly kind: string }[];
  readonly text?: number | null;
  readonly textPiece?: string | null;
  /** The step produced output PCM (pcmHash not null): one server AUDIO_CHUNK carries it. */
  readonly hasAudio: boolean;
}

/** One packets.bin record, summarised (harness/view/packets.ts makes these). */
export interface TracePacket {
  readonly direction: 0 | 1;
  readonly timeMs: number;
  readonly size: number;
  /** Protocol packet types in the message, in order (SolaceLive packet types, or the Moshi message kind). */
  readonly types: readonly string[];
  /**
   * Step frames: client → server, the input frames the message completes (the k-th is step k);
   * server → client, the step replies with audio it carries (the j-th is the j-th step with
   * PCM). One per AUDIO_CHUNK for SolaceLive; counted from the Ogg Opus pages for Moshi.
   */
  readonly frames: number;
  /** Audio time the message carries (a jitter counter's expected gap to the previous audio message). */
  readonly audioMs: number;
}

export interface TraceInput {
  readonly name: string;
  readonly steps: readonly TraceStep[];
  readonly packets: readonly TracePacket[];
  readonly budgetMs?: number;
  /** Goes to the trace's otherData (model, seed, platform…). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A Trace Event (the fields the format defines; ts/dur in microseconds). */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'C' | 'i' | 's' | 't' | 'f' | 'M';
  readonly pid: number;
  readonly tid: number;
  /** Always set, ≥ 0: the format lets metadata omit it, but strict readers require it. */
  readonly ts: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly id?: number;
  readonly s?: 'g' | 'p' | 't';
  readonly bp?: 'e';
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ChromeTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Readonly<Record<string, unknown>>;
}

/** Stages drawn as tracks, in pipeline order (step.total gets its own "engine step" track). */
export const TRACE_STAGES = ['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send'] as const satisfies readonly SpanName[];
const ENGINE_ORDER = ['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'] as const;
export const ENGINE_STEP_TRACK = 'engine step';
export const PACKETS_IN_TRACK = 'packets client → server';
export const PACKETS_OUT_TRACK = 'packets server → client';
export const EVENTS_TRACK = 'events';
const PID = 1;
/** Packets are instants on the wire; 1 µs slices give flow arrows something to bind to. */
const PACKET_US = 1;
const us = (ms: number): number => Math.round(ms * 1000);

/** Tracks of one kind: a slice goes to the first lane whose last slice has ended. */
class Lanes {
  private readonly ends: number[] = [];
  private readonly tids: number[] = [];
  private readonly name: string;
  private readonly newTid: (name: string) => number;
  constructor(name: string, newTid: (name: string) => number) {
    this.name = name;
    this.newTid = newTid;
  }
  place(ts: number, dur: number): number {
    let i = this.ends.findIndex((end) => end <= ts);
    if (i < 0) {
      i = this.ends.length;
      this.ends.push(0);
      this.tids.push(this.newTid(i === 0 ? this.name : `${this.name} ${i + 1}`));
    }
    this.ends[i] = ts + dur;
    return this.tids[i]!;
  }
}

/** Packets as 1 µs slices on their direction's track, with the jitter counters; returns where each audio frame's message lies. */
function packetEvents(packets: readonly TracePacket[], packetsIn: Lanes, packetsOut: Lanes, events: TraceEvent[]): { inAudio: { ts: number; tid: number }[]; outAudio: { ts: number; tid: number }[] } {
  const inAudio: { ts: number; tid: number }[] = [];
  const outAudio: { ts: number; tid: number }[] = [];
  let lastIn: number | null = null, lastOut: number | null = null;
  for (const p of packets) {
    const ts = us(p.timeMs);
    const lanes = p.direction === 0 ? packetsIn : packetsOut;
    const tid = lanes.place(ts, PACKET_US);
    events.push({ name: p.types.join(' + ') || 'message', ph: 'X', cat: 'packet', pid: PID, tid, ts, dur: PACKET_US, args: { bytes: p.size, direction: p.direction === 0 ? 'client → server' : 'server → client' } });
    for (let i = 0; i < p.frames; i++) (p.direction === 0 ? inAudio : outAudio).push({ ts, tid });
    if (p.audioMs > 0) {
      // Jitter: how far the gap since the previous audio message is from the audio time this one carries.
      const prev = p.direction === 0 ? lastIn : lastOut;
      if (prev !== null) events.push({ name: p.direction === 0 ? 'jitter in (ms)' : 'jitter out (ms)', ph: 'C', pid: PID, tid: 0, ts, args: { ms: Math.abs(p.timeMs - prev - p.audioMs) } });
      if (p.direction === 0) lastIn = p.timeMs;
      else lastOut = p.timeMs;
    }
  }
  return { inAudio, outAudio };
}

/** Track registry: thread_name and sort-index metadata, tids in creation order. */
function trackMaker(meta: TraceEvent[]): (name: string) => number {
  let nextTid = 1;
  return (name: string): number => {
    const tid = nextTid++;
    meta.push({ name: 'thread_name', ph: 'M', pid: PID, tid, ts: 0, args: { name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, ts: 0, args: { sort_index: tid } });
    return tid;
  };
}

export function sessionToChromeTrace(input: TraceInput): ChromeTrace {
  const budget = input.budgetMs ?? BUDGET_MS;
  const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, ts: 0, args: { name: `SolaceLive session ${input.name}` } }];
  const events: TraceEvent[] = [];
  const newTid = trackMaker(meta);
  // Create the tracks in display order up front, so lane 2 of a stage sorts after all first lanes.
  const packetsIn = new Lanes(PACKETS_IN_TRACK, newTid);
  packetsIn.place(-Infinity, 0);
  const stage = new Map<SpanName, Lanes>();
  for (const s of TRACE_STAGES) {
    if (s === 'mimi.encode') {
      const engine = new Lanes(ENGINE_STEP_TRACK, newTid);
      engine.place(-Infinity, 0);
      stage.set('step.total', engine);
    }
    const l = new Lanes(s, newTid);
    l.place(-Infinity, 0);
    stage.set(s, l);
  }
  const packetsOut = new Lanes(PACKETS_OUT_TRACK, newTid);
  packetsOut.place(-Infinity, 0);
  const eventsTid = newTid(EVENTS_TRACK);

  // Packets as 1 µs slices, and the frame/audio ordinals that tie them to steps: client
  // audio frame k is step k (src/server/cadence.ts); the server's j-th audio reply carries
  // the j-th step that produced PCM (audio is never dropped, design.md). The row parser
  // (harness/view/packets.ts) counts the frames of each message for its protocol.
  const { inAudio, outAudio } = packetEvents(input.packets, packetsIn, packetsOut, events);

  // Queue depth: client frames received and not yet taken by the engine, changing at each
  // frame arrival (+1) and each engine step start (−1).
  const depth: { ts: number; d: number }[] = inAudio.map((a) => ({ ts: a.ts, d: 1 }));
  let outOrdinal = 0;
  for (const s of input.steps) {
    const total = s.spans['step.total'];
    const endUs = us(s.timeMs);
    const engineStart = endUs - us(total ?? 0);
    // The budget counts frame in → reply out (e2e), not the engine's share alone.
    const e2e = endToEndMs(s.spans);
    const miss = e2e !== undefined && e2e > budget;
    const label = `step ${s.step}`;
    const args = { step: s.step, 'step.total ms': total ?? null, 'e2e ms': e2e ?? null, miss, text: s.text ?? null, piece: s.textPiece ?? null, events: s.events.map((e) => e.kind) };
    let encode: { ts: number; tid: number } | null = null;
    if (total !== undefined) {
      const dur = us(total);
      events.push({ name: miss ? `${label} (over budget)` : label, ph: 'X', cat: miss ? 'step,miss' : 'step', pid: PID, tid: stage.get('step.total')!.place(engineStart, dur), ts: engineStart, dur, args });
      depth.push({ ts: engineStart, d: -1 });
    }
    let t = engineStart;
    for (const name of ENGINE_ORDER) {
      const ms = s.spans[name];
      if (ms === undefined) continue;
      const dur = us(ms);
      const tid = stage.get(name)!.place(t, dur);
      events.push({ name, ph: 'X', cat: 'span', pid: PID, tid, ts: t, dur, args: { step: s.step } });
      if (encode === null) encode = { ts: t, tid };
      t += dur;
    }
    let before = engineStart;
    for (const name of ['queue.wait', 'net.recv'] as const) {
      const ms = s.spans[name];
      if (ms === undefined) continue;
      const dur = us(ms);
      before -= dur;
      events.push({ name, ph: 'X', cat: 'span', pid: PID, tid: stage.get(name)!.place(before, dur), ts: before, dur, args: { step: s.step } });
    }
    const send = s.spans['net.send'];
    if (send !== undefined) {
      const dur = us(send);
      events.push({ name: 'net.send', ph: 'X', cat: 'span', pid: PID, tid: stage.get('net.send')!.place(endUs, dur), ts: endUs, dur, args: { step: s.step } });
    }
    // At the reply's leaving (end of net.send), where the step's e2e ends.
    if (miss) events.push({ name: 'budget miss', ph: 'i', s: 't', cat: 'miss', pid: PID, tid: eventsTid, ts: endUs + us(send ?? 0), args: { step: s.step, 'e2e ms': e2e, 'step.total ms': total ?? null, 'budget ms': budget } });
    for (const e of s.events) events.push({ name: e.kind, ph: 'i', s: 't', cat: 'event', pid: PID, tid: eventsTid, ts: endUs, args: { step: s.step, ...e } });

    // Flow packet → step → send: the frame's arrival, the step's first engine stage, the reply.
    const missing = s.events.some((e) => e.kind === 'missing-frame');
    const from = missing ? undefined : inAudio[s.step];
    const to = s.hasAudio ? outAudio[outOrdinal++] : undefined;
    if (encode !== null && (from !== undefined || to !== undefined)) {
      const id = s.step + 1;
      const flow = { name: label, cat: 'flow', pid: PID, id };
      if (from !== undefined) {
        events.push({ ...flow, ph: 's', tid: from.tid, ts: from.ts });
        events.push({ ...flow, ph: to === undefined ? 'f' : 't', ...(to === undefined ? { bp: 'e' as const } : {}), tid: encode.tid, ts: encode.ts });
      } else {
        events.push({ ...flow, ph: 's', tid: encode.tid, ts: encode.ts });
      }
      if (to !== undefined) events.push({ ...flow, ph: 'f', bp: 'e', tid: to.tid, ts: to.ts });
    }
  }
  depth.sort((a, b) => a.ts - b.ts || a.d - b.d);
  let q = 0;
  for (const { ts, d } of depth) {
    q = Math.max(0, q + d);
    events.push({ name: 'queue depth (frames)', ph: 'C', pid: PID, tid: 0, ts, args: { frames: q } });
  }
  events.sort((a, b) => a.ts - b.ts);
  // Slices reconstructed backwards from a step's end can start before the session's first
  // packet (time 0); strict readers refuse negative ts, so such a trace is shifted (and says by how much).
  const shift = Math.max(0, -(events[0]?.ts ?? 0));
  return {
    traceEvents: [...meta, ...(shift ? events.map((e) => ({ ...e, ts: e.ts + shift })) : events)],
    displayTimeUnit: 'ms',
    otherData: { session: input.name, budgetMs: budget, spans: SPAN_NAMES, ...(shift ? { tsShiftUs: shift } : {}), ...input.metadata },
  };
}

/** What a measured session's trace needs of its figures (harness/measure's ConnectionFigures has it). */
export interface MeasuredTraceFigures {
  readonly lag: {
    readonly warmupFrames: number;
    /** [arrival of the reply, its lag] in ms since the connection started. */
    readonly series: readonly (readonly [number, number])[];
    /** The server frame of each series point (files before it: by order). */
    readonly frames?: readonly number[];
  };
  readonly stalls: { readonly list: readonly { readonly atMs: number; readonly durationMs: number }[] };
  /** Silences after which a client giving up at thresholdMs would have: atMs is that moment. */
  readonly clientTimeouts: { readonly thresholdMs: number; readonly list: readonly { readonly atMs: number; readonly silentMs: number }[] };
  readonly text: { readonly pieces: readonly { readonly atMs: number; readonly text: string }[] };
  readonly events: readonly { readonly kind: string; readonly atMs: number; readonly message: string; readonly side?: string; readonly code?: string | number }[];
  readonly end: { readonly by: string; readonly code: number; readonly reason: string; readonly atMs: number } | null;
}

export interface MeasuredTraceInput {
  readonly name: string;
  /** 'proxied' or 'load test'. */
  readonly kind: string;
  /** The server that answered. */
  readonly upstream: string;
  readonly packets: readonly TracePacket[];
  readonly figures: MeasuredTraceFigures;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export const LAG_TRACK = 'response lag';
export const STALLS_TRACK = 'audio stalls';
export const SILENCES_TRACK = 'client-timeout silences';
export const TEXT_TRACK = 'text';

/**
 * A session measured from outside: packets both ways; each answered frame's lag as a slice
 * from the client frame's arrival to its reply's (frames in flight together take more lanes)
 * and as a counter; stalls and client-timeout silences as slices (they last); text pieces,
 * the connection's events and its close as instants.
 */
export function measuredToChromeTrace(input: MeasuredTraceInput): ChromeTrace {
  const f = input.figures;
  const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, ts: 0, args: { name: `${input.kind} session ${input.name} (${input.upstream})` } }];
  const events: TraceEvent[] = [];
  const newTid = trackMaker(meta);
  const lanes = (name: string) => {
    const l = new Lanes(name, newTid);
    l.place(-Infinity, 0);
    return l;
  };
  const packetsIn = lanes(PACKETS_IN_TRACK);
  const lag = lanes(LAG_TRACK);
  const stalls = lanes(STALLS_TRACK);
  const silences = lanes(SILENCES_TRACK);
  const packetsOut = lanes(PACKETS_OUT_TRACK);
  const textTid = newTid(TEXT_TRACK);
  const eventsTid = newTid(EVENTS_TRACK);
  packetEvents(input.packets, packetsIn, packetsOut, events);

  f.lag.series.forEach(([atMs, lagMs], i) => {
    const server = f.lag.frames?.[i] ?? i;
    const client = server + f.lag.warmupFrames;
    const end = us(atMs);
    const ts = end - us(lagMs);
    events.push({ name: `frame ${client}`, ph: 'X', cat: 'lag', pid: PID, tid: lag.place(ts, end - ts), ts, dur: end - ts, args: { 'lag ms': lagMs, 'client frame': client, 'server frame': server } });
    events.push({ name: 'response lag (ms)', ph: 'C', pid: PID, tid: 0, ts: end, args: { ms: lagMs } });
  });
  for (const s of f.stalls.list) {
    const ts = us(s.atMs);
    const dur = us(s.durationMs);
    events.push({ name: 'stall', ph: 'X', cat: 'stall', pid: PID, tid: stalls.place(ts, dur), ts, dur, args: { 'duration ms': s.durationMs } });
  }
  for (const c of f.clientTimeouts.list) {
    // atMs is when such a client gives up, thresholdMs into the silence: the slice is the whole silence.
    const ts = Math.max(0, us(c.atMs - f.clientTimeouts.thresholdMs));
    const dur = us(c.silentMs);
    events.push({ name: 'silence (a client would give up)', ph: 'X', cat: 'timeout', pid: PID, tid: silences.place(ts, dur), ts, dur, args: { 'silent ms': c.silentMs, 'gives up at ms': c.atMs, 'threshold ms': f.clientTimeouts.thresholdMs } });
  }
  for (const p of f.text.pieces) events.push({ name: p.text, ph: 'i', s: 't', cat: 'text', pid: PID, tid: textTid, ts: us(p.atMs), args: { text: p.text } });
  for (const e of f.events) events.push({ name: e.kind, ph: 'i', s: 't', cat: 'event', pid: PID, tid: eventsTid, ts: us(e.atMs), args: { ...e } });
  if (f.end !== null) events.push({ name: 'close', ph: 'i', s: 't', cat: 'event', pid: PID, tid: eventsTid, ts: us(f.end.atMs), args: { ...f.end } });
  events.sort((a, b) => a.ts - b.ts);
  return {
    traceEvents: [...meta, ...events],
    displayTimeUnit: 'ms',
    otherData: { session: input.name, kind: input.kind, upstream: input.upstream, ...input.metadata },
  };
}
