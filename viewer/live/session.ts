// One live session, start to end, as state the page renders: opens the audio graph (the
// click on Start is the user gesture the microphone and the AudioContext need), then the
// connection; streams every captured frame; plays what comes back; collects text, latency,
// playback health, recording state and errors. A store for useSyncExternalStore: the state
// object is replaced on every change, never mutated.
import { openAudio, type LiveAudio } from './audio.ts';
import { FRAME_SAMPLES } from '../../src/audio/browser.ts';
import type { CapturedFrame } from './capture.worklet.ts';
import type { LiveConfig } from './config.ts';
import { LiveError, ServerRefusal } from './errors.ts';
import { StepLatency, type LatencySummary } from './latency.ts';
import type { Link, ProtocolName, SessionInfo, TextItem } from './link.ts';
import { DEGRADED_CODES, type ServerMessage } from './messages.ts';
import type { PlaybackReport } from './playback.worklet.ts';
import type { PlayoutStats } from './playout.ts';
import { CAPTURE_CHUNK, OPEN_LINK } from './protocols.ts';
import { recordingFrom, recordingNote, type RecordingState } from './recording.ts';

export type Phase = 'idle' | 'connecting' | 'live' | 'ending' | 'ended' | 'failed';

export interface Problem {
  readonly title: string;
  readonly detail: string;
}

export interface LogLine {
  readonly t: number;
  readonly text: string;
}

export interface LiveState {
  readonly phase: Phase;
  readonly error: Problem | null;
  /** The server said it cannot run a model (no weights, engine down or restarting). */
  readonly degraded: Problem | null;
  /** The protocol of the current (or last) session. */
  readonly protocol: ProtocolName | null;
  readonly session: SessionInfo | null;
  /** requested: asked, not (yet) confirmed; recording/stopped: what the server said (also unasked, under serve --record). */
  readonly recording: RecordingState | null;
  readonly audio: { readonly sampleRate: number; readonly resampling: boolean; readonly device: string } | null;
  readonly framesSent: number;
  readonly audioFrames: number;
  readonly gaps: number;
  /** Late or missing input frames the server reported. */
  readonly inputEvents: number;
  readonly partials: readonly TextItem[];
  readonly partialCount: number;
  readonly finalText: string | null;
  readonly latency: LatencySummary;
  readonly playback: (PlayoutStats & { readonly sampleRate: number }) | null;
  readonly closed: { readonly code: number; readonly reason: string } | null;
  /** Steps the server ran, from its 'ended' message (frames sent − dropped + filled); null where the protocol does not say (Moshi). */
  readonly steps: number | null;
  readonly log: readonly LogLine[];
}

const KEEP_PARTIALS = 400;
const INPUT_EVENTS = new Set(['late-frame', 'missing-frame', 'dropped-frame']);
/** Renders at most this often: audio and frames change the state 25 times a second each. */
const PUBLISH_MS = 100;
const KEEP_LOG = 50;

const initial: LiveState = {
  phase: 'idle', error: null, degraded: null, protocol: null, session: null, recording: null, audio: null, framesSent: 0, audioFrames: 0, gaps: 0,
  inputEvents: 0, partials: [], partialCount: 0, finalText: null,
  latency: { last: null, p50: null, p95: null, max: null, count: 0, overBudget: 0 }, playback: null, closed: null, steps: null, log: [],
};

function problem(err: unknown): Problem {
  if (err instanceof LiveError) return { title: err.title, detail: err.message };
  return { title: 'Unexpected error', detail: (err as Error)?.message ?? String(err) };
}

export class LiveSession {
  private state: LiveState = initial;
  /** What the page renders: `state` as of the last publish. */
  private published: LiveState = initial;
  private publishTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private audio: LiveAudio | null = null;
  private conn: Link | null = null;
  private latency = new StepLatency();
  private ended = false;
  private samplesSent = 0;
  /** The server's last error: why it closed, if it then closes. */
  private lastServerError: Problem | null = null;
  private confirmTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether this session's start asked to be recorded (a 'recording' message may come unasked, under serve --record). */
  private recordAsked = false;
  /** Bumped by a Stop while connecting: a start that finds it changed gives up. */
  private attempt = 0;

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  readonly getSnapshot = (): LiveState => this.published;

  get busy(): boolean {
    return this.state.phase === 'connecting' || this.state.phase === 'live' || this.state.phase === 'ending';
  }

  async start(config: LiveConfig, serverUrl: string, record: boolean, protocol: ProtocolName): Promise<void> {
    if (this.busy) return;
    const attempt = ++this.attempt;
    await this.release();
    this.latency = new StepLatency();
    this.ended = false;
    this.samplesSent = 0;
    this.lastServerError = null;
    this.recordAsked = record;
    this.set({ ...initial, phase: 'connecting', protocol });
    this.note(`connecting to ${serverUrl} (${protocol} protocol)`);
    try {
      const audio = await openAudio(config.rate, config.echoCancellation, CAPTURE_CHUNK[protocol], { onFrame: (f) => this.onFrame(f), onPlayback: (r) => this.onPlayback(r) });
      // Stopped while the microphone opened: this attempt is over.
      if (attempt !== this.attempt) return audio.close();
      this.audio = audio;
      this.set({ audio: { sampleRate: this.audio.sampleRate, resampling: this.audio.sampleRate !== 24000, device: this.audio.device } });
      const conn = await OPEN_LINK[protocol](serverUrl, { seed: config.seed, sampling: config.sampling, record }, {
        onAudio: (samples, t, steps) => this.onAudio(samples, t, steps),
        onText: (p) => this.set({ partials: [...this.state.partials, p].slice(-KEEP_PARTIALS), partialCount: this.state.partialCount + 1 }),
        onFinal: (f) => this.set({ finalText: f.text }),
        onMessage: (m) => this.onMessage(m),
        onEnded: (steps, note) => {
          this.ended = true;
          this.set({ steps });
          this.note(note);
        },
        onBadPacket: (msg) => this.note(`bad packet from the server: ${msg}`),
        onClose: (code, reason) => this.onClose(code, reason),
      });
      if (attempt !== this.attempt) return conn.close();
      this.conn = conn;
    } catch (err) {
      if (attempt !== this.attempt) return;
      const degraded = err instanceof ServerRefusal && DEGRADED_CODES.has(err.code);
      const p = problem(err);
      this.note(`${p.title}: ${p.detail}`);
      this.set({ phase: 'failed', ...(degraded ? { degraded: p } : { error: p }) });
      await this.release();
      return;
    }
    const r = this.conn.info;
    for (let step = 0; step < this.conn.warmupSteps; step++) this.latency.gap(step);
    this.set({ phase: 'live', session: r, recording: r.record ? { state: 'requested', detail: null, requested: true } : null });
    this.note(`session ${r.id ?? '(no id given)'} ready: model ${r.model}, seed ${r.seed ?? '(not given)'}${r.record ? ', recording requested' : ''}`);
    if (r.record) {
      // A server without a recorder (no --record-requested) ignores the request silently.
      this.confirmTimer = setTimeout(() => {
        if (this.state.recording?.state === 'requested') {
          this.set({ recording: { state: 'requested', detail: 'the server has not confirmed; it records only when started with --record-requested DIR (or --record DIR)', requested: true } });
        }
      }, 3000);
    }
  }

  /**
   * Stop talking: the server steps what it holds, sends the final text and closes. While
   * still connecting (a server waits up to 30 s for an engine that is loading): give up.
   */
  stop(): void {
    if (this.state.phase === 'connecting') {
      this.attempt++;
      this.set({ phase: 'idle' });
      this.note('cancelled before the session started');
      void this.release();
      return;
    }
    if (this.state.phase !== 'live' || !this.conn) return;
    this.audio?.stopCapture();
    this.conn.end();
    this.set({ phase: 'ending' });
    this.note('stopped the microphone; waiting for the server to finish');
  }

  /** A captured chunk (a frame, or a page's worth on Moshi): sent at once; a frame counts once its last sample is out. */
  private onFrame(f: CapturedFrame): void {
    const c = this.conn;
    if (this.state.phase !== 'live' || !c || !c.isOpen) return;
    c.sendChunk(f.samples);
    this.samplesSent += f.samples.length;
    const frames = Math.floor(this.samplesSent / FRAME_SAMPLES);
    if (frames === this.state.framesSent) return;
    // Frame k sent is step k on the server (it counts frames, filling missing ones).
    for (let k = this.state.framesSent; k < frames; k++) this.latency.sent(k, performance.now());
    this.set({ framesSent: frames });
  }

  /** `steps`: reply steps this audio completes (a Moshi message may complete none, or two). */
  private onAudio(samples: Float32Array, t: number, steps: number): void {
    for (let i = 0; i < steps; i++) this.latency.audio(t);
    if (samples.length > 0) this.audio?.play(samples);
    this.set({ audioFrames: this.state.audioFrames + steps, latency: this.latency.summary() });
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'gap':
        this.latency.gap(m.step);
        this.set({ gaps: this.state.gaps + 1 });
        break;
      case 'events': {
        // Late, missing and dropped input frames are counted (a slow machine has many);
        // anything else the server reports is logged.
        const input = m.events.filter((e) => INPUT_EVENTS.has(e.kind));
        const other = m.events.filter((e) => !INPUT_EVENTS.has(e.kind));
        if (input.length > 0) this.set({ inputEvents: this.state.inputEvents + input.length });
        if (other.length > 0) this.note(`step ${m.step}: ${other.map((e) => e.kind).join(', ')}`);
        break;
      }
      case 'recording': {
        const requested = this.recordAsked;
        this.set({ recording: recordingFrom(m, requested) });
        this.note(recordingNote(m, requested));
        break;
      }
      case 'error':
        if (DEGRADED_CODES.has(m.code)) this.set({ degraded: { title: `its engine stopped (${m.code})`, detail: m.message } });
        else if (m.fatal) this.set({ error: { title: `Server closed the session (${m.code})`, detail: m.message } });
        this.lastServerError = { title: `Server closed the session (${m.code})`, detail: m.message };
        this.note(`server error ${m.code}: ${m.message}`);
        break;
      case 'ended':
      case 'ready':
        break;
    }
  }

  private onClose(code: number, reason: string): void {
    this.audio?.stopCapture();
    this.audio?.finishPlayback();
    const clean = code === 1000 && this.ended;
    const phase: Phase = clean ? 'ended' : 'failed';
    const error = clean || this.state.error || this.state.degraded
      ? this.state.error
      : this.lastServerError
        ? { title: this.lastServerError.title, detail: `${this.lastServerError.detail} (then it closed the connection: ${code}${reason ? ` ${reason}` : ''})` }
        : { title: 'Connection lost', detail: `The server closed the connection (${code}${reason ? `: ${reason}` : ''}).` };
    this.set({ phase, error, closed: { code, reason } });
    this.note(`connection closed: ${code}${reason ? ` ${reason}` : ''}`);
    this.conn = null;
  }

  private onPlayback(r: PlaybackReport): void {
    const playback = { ...r.stats, sampleRate: r.sampleRate };
    if (r.type === 'underrun') {
      this.note(`playback underrun at ${r.atSeconds.toFixed(2)} s: buffer grows to ${Math.round(r.newTargetMs)} ms (missed so far ${Math.round((r.stats.missedSamples / r.sampleRate) * 1000)} ms)`);
    }
    this.set({ playback });
  }

  private note(text: string): void {
    this.set({ log: [...this.state.log, { t: performance.now(), text }].slice(-KEEP_LOG) });
  }

  private set(patch: Partial<LiveState>): void {
    const phaseChanged = patch.phase !== undefined && patch.phase !== this.state.phase;
    this.state = { ...this.state, ...patch };
    // Phase changes and problems show at once; counters at most every PUBLISH_MS.
    if (phaseChanged || patch.error || patch.degraded) this.publish();
    else this.publishTimer ??= setTimeout(() => this.publish(), PUBLISH_MS);
  }

  private publish(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    if (this.published === this.state) return;
    this.published = this.state;
    for (const fn of this.listeners) fn();
  }

  /** Frees the previous session's audio graph and socket. */
  private async release(): Promise<void> {
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
    this.conn?.close();
    this.conn = null;
    const a = this.audio;
    this.audio = null;
    await a?.close();
  }
}
