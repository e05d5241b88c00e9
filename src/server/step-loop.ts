// The protocol-independent heart of a session: frames in, one engine step per frame, in
// order and one at a time. It owns the input queue, the 80 ms cadence (late frames, missing
// frames replaced by silence, frames dropped because their slot already ran) and the timer
// that fills overdue slots. A wire protocol turns bytes into frames for it and turns its
// stepped results into bytes; clock and timers are injected so tests and replay can drive it.
// The offline replayer drives it too, through push(): recorded frames with their recorded
// events, no cadence and no timer.
import { FRAME_MS, FRAME_SAMPLES } from '../audio/frames.ts';
import { stepDraft, type FinishedStep } from '../engine/step-record.ts';
import type { StepInput, StepOutput } from '../engine/types.ts';
import type { Clock } from '../telemetry/clock.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { StepSpans } from '../telemetry/spans.ts';
import { Cadence } from './cadence.ts';
import type { EnginePort } from './engine-port.ts';
import type { Pace } from './messages.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface StepLoopOptions {
  readonly pace: Pace;
  readonly lateToleranceMs: number;
  readonly missingFrameMs: number;
  readonly maxQueuedFrames: number;
  readonly clock: Clock;
  readonly timers?: Timers;
}

export interface StepLoopHandlers {
  /** Asked just before a step runs: an event to add (e.g. the send queue wants this decode skipped). */
  beforeStep(): StepEvent | null;
  /**
   * The engine answered: the protocol writes the reply. `record` is the step so far (input
   * and engine events, engine spans plus net.recv and queue.wait, doneAt); the session
   * completes it once the reply has left.
   */
  stepped(input: StepInput, output: StepOutput, record: FinishedStep): void;
  /** The engine failed a step; the loop stops. */
  failed(err: Error): void;
  /** More frames wait than maxQueuedFrames: frames come faster than steps run. */
  overflow(message: string): void;
  /** After end(): every queued frame has been stepped. */
  drained(): void;
}

interface QueuedFrame {
  readonly pcm: Float32Array;
  /** null: a pushed frame (replay), which came over no wire and waited in no queue of ours. */
  readonly acceptedAt: number | null;
  readonly recvMs: number;
  readonly events: readonly StepEvent[];
}

export type FrameResult = 'queued' | 'dropped' | 'overflow';

export class StepLoop {
  private readonly cadence: Cadence;
  private readonly timers: Timers;
  private input: QueuedFrame[] = [];
  private pendingEvents: StepEvent[] = [];
  private stepIndex = 0;
  private inFlight = false;
  private missingTimer: unknown = null;
  private state: 'running' | 'ending' | 'stopped' = 'running';
  private readonly session: string;
  private readonly engine: Pick<EnginePort, 'step'>;
  private readonly o: StepLoopOptions;
  private readonly on: StepLoopHandlers;

  constructor(session: string, engine: Pick<EnginePort, 'step'>, o: StepLoopOptions, on: StepLoopHandlers) {
    this.session = session;
    this.engine = engine;
    this.o = o;
    this.on = on;
    this.cadence = new Cadence({ pace: o.pace, lateToleranceMs: o.lateToleranceMs, missingFrameMs: o.missingFrameMs });
    this.timers = o.timers ?? realTimers;
  }

  /** Steps started so far (the next step's index). */
  get steps(): number {
    return this.stepIndex;
  }
  get queued(): number {
    return this.input.length;
  }
  get framesReceived(): number {
    return this.cadence.framesReceived;
  }

  /** A client frame (1920 samples) that arrived at `t` after `recvMs` of receive work. */
  frame(pcm: Float32Array, seq: number, t: number, recvMs: number): FrameResult {
    if (this.state !== 'running') return 'dropped';
    const arrival = this.cadence.arrive(t);
    if (arrival.kind === 'dropped') {
      this.pendingEvents.push({ kind: 'dropped-frame', seq });
      return 'dropped';
    }
    if (this.input.length >= this.o.maxQueuedFrames) {
      this.on.overflow(`${this.input.length} frames wait for the engine (limit ${this.o.maxQueuedFrames}): frames come faster than steps run`);
      return 'overflow';
    }
    const events: StepEvent[] = arrival.lateMs === null ? [] : [{ kind: 'late-frame', seq, lateMs: Math.round(arrival.lateMs * 1000) / 1000 }];
    this.input.push({ pcm, acceptedAt: this.o.clock.now(), recvMs, events });
    this.armMissingTimer();
    this.pump();
    return 'queued';
  }

  /**
   * A frame whose events the caller decided (offline replay: the recorded pre-step events),
   * stepped in turn like any other but outside the cadence: no lateness, no missing-frame
   * timer, no skipped decode asked of `beforeStep` beyond what the events say.
   */
  push(pcm: Float32Array, events: readonly StepEvent[]): FrameResult {
    if (this.state !== 'running') return 'dropped';
    if (this.input.length >= this.o.maxQueuedFrames) {
      this.on.overflow(`${this.input.length} frames wait for the engine (limit ${this.o.maxQueuedFrames}): frames come faster than steps run`);
      return 'overflow';
    }
    this.input.push({ pcm, acceptedAt: null, recvMs: 0, events });
    this.pump();
    return 'queued';
  }

  /** The client sent its last frame: step what is queued, then `drained`. */
  end(): void {
    if (this.state !== 'running') return;
    this.state = 'ending';
    this.cadence.end();
    this.clearMissingTimer();
    this.pump();
  }

  /** No more steps (the session is closing); a step in flight still reports `stepped`. */
  stop(): void {
    this.state = 'stopped';
    this.input = [];
    this.clearMissingTimer();
  }

  /** Wakes at the next slot's deadline to fill it with silence if its frame has not come. */
  private armMissingTimer(minDelayMs = 0): void {
    this.clearMissingTimer();
    const at = this.cadence.nextDeadline();
    if (at === null || this.state !== 'running') return;
    this.missingTimer = this.timers.setTimeout(() => {
      this.missingTimer = null;
      if (this.state !== 'running') return;
      const now = this.o.clock.now();
      const slots = this.cadence.overdue(now, this.o.maxQueuedFrames - this.input.length);
      for (let i = 0; i < slots.length; i++) {
        this.input.push({ pcm: new Float32Array(FRAME_SAMPLES), acceptedAt: now, recvMs: 0, events: [{ kind: 'missing-frame', replacement: 'silence' }] });
      }
      // No room (the engine is behind): look again a frame later rather than spin.
      this.armMissingTimer(slots.length === 0 ? FRAME_MS : 0);
      this.pump();
    }, Math.max(minDelayMs, at - this.o.clock.now()));
  }

  private clearMissingTimer(): void {
    if (this.missingTimer !== null) this.timers.clearTimeout(this.missingTimer);
    this.missingTimer = null;
  }

  /** Runs the next queued frame if no step is in flight. */
  private pump(): void {
    if (this.inFlight || this.state === 'stopped') return;
    const frame = this.input.shift();
    if (!frame) {
      if (this.state === 'ending') {
        this.state = 'stopped';
        this.on.drained();
      }
      return;
    }
    const step = this.stepIndex++;
    const events = [...this.pendingEvents, ...frame.events];
    this.pendingEvents = [];
    const skip = frame.acceptedAt === null ? null : this.on.beforeStep();
    if (skip) events.push(skip);
    const started = this.o.clock.now();
    const spans: StepSpans = frame.acceptedAt === null ? {} : { 'net.recv': frame.recvMs, 'queue.wait': started - frame.acceptedAt };
    const input: StepInput = { session: this.session, step, pcm: frame.pcm, events };
    this.inFlight = true;
    this.engine.step(input).then(
      (out) => {
        this.inFlight = false;
        this.on.stepped(input, out, stepDraft(input, out, spans, this.o.clock.now(), frame.acceptedAt === null ? null : frame.acceptedAt - frame.recvMs));
        this.pump();
      },
      (err: unknown) => {
        this.inFlight = false;
        this.stop();
        this.on.failed(err as Error);
      },
    );
  }
}
