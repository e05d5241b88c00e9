// One connection, one session, whatever the wire protocol: handshake → opening → streaming
// → ending → closing → closed.
//   handshake  nothing started yet (holds no session slot); the wire adapter waits for the
//              client's start (packet protocol) or starts at once (Moshi protocol)
//   opening    admitted; waiting for the engine to open the model state
//   streaming  each frame is one step, run in order by the step loop; replies go through the send queue
//   ending     no more frames: the queued ones are stepped, then the adapter's end, then close
//   closing    a close frame is due once the send queue drains (or after closeTimeoutMs)
// Bytes in and items out belong to the adapter (src/server/wire.ts); limits, liveness, the
// engine, telemetry and hooks belong here, so both protocols get them alike. Nothing here
// affects another session. Each step leaves as one FinishedStep (onStepFinished), in step
// order, once every item of its reply has been written or dropped.
import type { FinishedStep } from '../engine/step-record.ts';
import type { StepInput, StepOutput } from '../engine/types.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { StepSpans } from '../telemetry/spans.ts';
import { CLOSE, closeReason } from './close-codes.ts';
import type { EnginePort } from './engine-port.ts';
import { readyMessage, sessionOptions, type StartRequest } from './handshake.ts';
import type { SessionHooks } from './hooks.ts';
import type { Refusal } from './admission.ts';
import type { ErrorCode, RecordingMessage, SessionLimits } from './messages.ts';
import type { ResolvedServerOptions } from './options.ts';
import { Outbox, type ItemFate } from './outbox.ts';
import { TokenBucket } from './rate-limit.ts';
import type { OutItem } from './send-queue.ts';
import type { ServerStats } from './stats.ts';
import { StepLoop } from './step-loop.ts';
import type { FrameOutcome, SessionCore, SessionState, Wire, WireFactory } from './wire.ts';

export type { SessionState } from './wire.ts';

/** The part of a ws WebSocket a session uses. */
export interface SessionSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array, cb: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

export interface SessionDeps {
  readonly id: string;
  readonly socket: SessionSocket;
  readonly options: ResolvedServerOptions;
  readonly engine: EnginePort | null;
  readonly hooks: SessionHooks;
  readonly stats: ServerStats;
  /** The peer's address, for per-address limits on connections that have not started. */
  readonly remote: string;
  /** Asked when the session starts: null admits it, a refusal says why not (full, busy). */
  readonly admit: (s: Session) => Refusal | null;
  /** The wire protocol's adapter. */
  readonly wire: WireFactory;
  /** Called once, after the socket closed and the close hook settled. */
  readonly onClosed: (s: Session) => void;
}

/** A stepped frame whose reply has not all left yet. */
interface PendingStep {
  readonly draft: FinishedStep;
  /** Items of its reply not yet written, dropped or lost. */
  outstanding: number;
  /** Decisions taken after the step (dropped partials). */
  readonly events: StepEvent[];
  /** net.send, once its audio is written. */
  readonly spans: StepSpans;
  finishedAt: number;
}

export class Session implements SessionCore {
  readonly id: string;
  /** Clock time the connection was accepted. */
  readonly acceptedAt: number;
  readonly wire: Wire;
  private readonly d: SessionDeps;
  private readonly o: ResolvedServerOptions;
  private readonly out: Outbox;
  private readonly bucket: TokenBucket;
  private _state: SessionState = 'handshake';
  private loop: StepLoop | null = null;
  private start: StartRequest | null = null;
  /** What the recorder last said of this session (null: not recorded, or no recorder). */
  private recording: RecordingMessage['state'] | null = null;
  private engineOpen = false;
  /** When this session's steps started to wait maxLagMs or more for the engine (null: not behind). */
  private behindSince: number | null = null;
  private protocolErrors = 0;
  private lastInbound: number;
  /** Stepped frames in step order, each emitted when it and every one before it has finished. */
  private readonly unfinished: PendingStep[] = [];
  /** The step each queued reply item belongs to. */
  private readonly owner = new Map<OutItem, PendingStep>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private closeSent = false;
  private closeCode: number = CLOSE.NORMAL;
  private closeText = '';
  /** How to close once the queued frames are stepped (null: normally). */
  private endClose: { readonly code: number; readonly reason: string } | null = null;
  private closedResolve!: () => void;
  /** Resolves once the socket closed and the close hook finished. */
  readonly closed: Promise<void>;

  constructor(deps: SessionDeps) {
    this.d = deps;
    this.id = deps.id;
    this.o = deps.options;
    this.wire = deps.wire(this);
    this.out = new Outbox(deps.socket, this.o, {
      sent: (bytes, t) => {
        this.d.stats.count('bytes_out', bytes.byteLength);
        this.hook('onOutbound', this.id, bytes, t);
      },
      settled: (item, fate, t) => this.settled(item, fate, t),
      slowConsumer: (reason) => this.fail('SLOW_CONSUMER', reason, CLOSE.POLICY),
      idle: () => {
        if (this._state === 'closing') this.sendClose();
      },
    }, this.wire.framing);
    const now = this.now();
    this.acceptedAt = now;
    this.bucket = new TokenBucket(this.o.maxInputRate, this.o.inputBurst, now);
    this.lastInbound = now;
    this.closed = new Promise((r) => (this.closedResolve = r));
    this.heartbeat = setInterval(() => {
      if (this._state !== 'closing') this.send(this.wire.keepalive());
    }, this.o.heartbeatMs);
    this.after(this.o.handshakeTimeoutMs, () => {
      if (this._state === 'handshake') this.fail('HANDSHAKE_TIMEOUT', `no ${this.wire.startHint} within ${this.o.handshakeTimeoutMs} ms`, CLOSE.POLICY);
    });
    this.watchDeadPeer();
    this.wire.connected();
  }

  get state(): SessionState {
    return this._state;
  }
  get steps(): number {
    return this.loop?.steps ?? 0;
  }
  get remote(): string {
    return this.d.remote;
  }
  /** True once the session started and was admitted: only then does the connection hold a session slot. */
  get started(): boolean {
    return this.start !== null && this._state !== 'closed';
  }
  /** Connected, but not started. */
  get pending(): boolean {
    return this._state === 'handshake';
  }
  /** Closes a connection that has not started, to make room for others (pending limits). */
  evictPending(reason: string): void {
    if (this._state === 'handshake') this.fail('TOO_MANY_PENDING', reason, CLOSE.TRY_AGAIN_LATER);
  }
  get record(): boolean {
    return this.start?.record ?? false;
  }
  /** For /health. */
  summary() {
    return {
      id: this.id, protocol: this.wire.protocol, state: this._state, steps: this.steps, pace: this.start?.pace ?? null,
      inputQueue: this.loop?.queued ?? 0, sendQueueBytes: this.out.bytes, framesReceived: this.loop?.framesReceived ?? 0,
      recording: this.recording,
    };
  }

  // ---------------------------------------------------------------- inbound

  onMessage(data: Uint8Array, isBinary: boolean): void {
    const t = this.now();
    this.lastInbound = t;
    this.d.stats.count('bytes_in', data.byteLength);
    this.hook('onInbound', this.id, data, t);
    if (this._state === 'closing' || this._state === 'closed') return;
    this.wire.receive(data, isBinary, t);
  }

  takeInput(t: number, n: number): boolean {
    if (this.bucket.take(t, n)) return true;
    this.fail('RATE_LIMITED', `input rate above ${this.o.maxInputRate} ${this.wire.protocol === 'solacelive' ? 'packets' : 'messages'}/s (burst ${this.o.inputBurst})`, CLOSE.POLICY);
    return false;
  }

  frame(pcm: Float32Array, seq: number, t: number, recvMs: number): FrameOutcome {
    if (this._state === 'ending') return 'ended';
    if (this._state !== 'streaming') return 'not-started';
    this.d.stats.count('frames_received');
    return this.loop!.frame(pcm, seq, t, recvMs);
  }

  end(close?: { readonly code: number; readonly reason: string }): void {
    if (this._state !== 'streaming') {
      // Nothing was stepped yet: there is nothing to finish first.
      if (close) this.fail('INPUT_ENDED', close.reason, close.code);
      return;
    }
    this._state = 'ending';
    this.endClose = close ?? null;
    this.loop!.end();
  }

  event(event: StepEvent): void {
    this.d.stats.event(event);
    this.hook('onEvent', this.id, event);
  }

  // ---------------------------------------------------------------- opening

  open(start: StartRequest): void {
    if (this._state !== 'handshake') return;
    void this.openAsync(start);
  }

  private async openAsync(start: StartRequest): Promise<void> {
    const refusal = this.d.admit(this);
    if (refusal !== null) {
      this.d.stats.count('sessions_rejected');
      this.fail(refusal.code, refusal.message, CLOSE.TRY_AGAIN_LATER, refusal.retryAfterMs);
      return;
    }
    this._state = 'opening';
    this.start = start;
    const engine = this.d.engine;
    if (!engine) {
      this.fail('ENGINE_UNAVAILABLE', `no model can run: ${this.o.noEngineReason}`, CLOSE.TRY_AGAIN_LATER);
      return;
    }
    await this.waitForEngine(engine);
    if (this._state !== 'opening') return;
    if (engine.state !== 'ok' || !engine.info) {
      this.fail('ENGINE_UNAVAILABLE', `engine ${engine.state}${engine.reason ? `: ${engine.reason}` : ''}`, CLOSE.TRY_AGAIN_LATER);
      return;
    }
    const opts = sessionOptions(start);
    try {
      await engine.openSession(this.id, opts);
    } catch (err) {
      if (this._state === 'opening') this.fail('ENGINE_UNAVAILABLE', `engine could not open the session: ${(err as Error).message}`, CLOSE.TRY_AGAIN_LATER);
      return;
    }
    this.engineOpen = true;
    if (this._state !== 'opening') {
      // Closed while the engine opened it: give its model state back.
      void this.closeEngineSession();
      return;
    }
    const limits: SessionLimits = {
      maxMessageBytes: this.o.maxMessageBytes, maxInputRate: this.o.maxInputRate, inputBurst: this.o.inputBurst,
      maxQueuedFrames: this.o.maxQueuedFrames, deadPeerMs: this.o.deadPeerMs,
    };
    const ready = readyMessage(this.id, engine.info, opts, start, this.o.heartbeatMs, limits);
    this.loop = new StepLoop(this.id, engine, { ...this.o, pace: start.pace }, {
      beforeStep: () => this.out.skipDecode(),
      stepped: (input, out, draft) => this.onStepDone(input, out, draft),
      failed: (err) => this.onStepFailed(err),
      overflow: (message) => this.fail('INPUT_OVERFLOW', message, CLOSE.POLICY),
      drained: () => this.finishEnd(),
    });
    this._state = 'streaming';
    this.d.stats.count('sessions_opened');
    for (const item of this.wire.ready(ready)) this.send(item);
    const wireInfo = this.wire.info();
    this.hook('onSessionOpen', this.id, { ...ready, wire: this.wire.protocol, ...(wireInfo ? { wireInfo } : {}) }, this.now(), {
      recording: (state, detail = {}) => {
        this.recording = state;
        if (state === 'stopped') this.d.stats.count('recordings_stopped');
        const item = this.wire.recording({ type: 'recording', session: this.id, state, ...detail });
        if (item) this.send(item);
      },
    });
  }

  /** While the engine starts or restarts, wait (bounded) for it rather than refuse at once. */
  private waitForEngine(engine: EnginePort): Promise<void> {
    if (engine.state !== 'starting' && engine.state !== 'restarting') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        engine.off('state', onState);
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve();
      };
      const onState = (s: string) => {
        if (s !== 'starting' && s !== 'restarting') done();
      };
      const timer = this.after(this.o.engineWaitMs, done);
      engine.on('state', onState);
    });
  }

  // ---------------------------------------------------------------- steps

  private onStepDone(input: StepInput, out: StepOutput, draft: FinishedStep): void {
    const behind = this.lagBound(draft);
    const p: PendingStep = { draft, outstanding: 0, events: [], spans: {}, finishedAt: draft.doneAt };
    // Recorded with the step it ended on, as the other decisions taken after a step.
    if (behind) p.events.push({ kind: 'error', message: `FALLING_BEHIND: ${behind}` });
    this.unfinished.push(p);
    // A session that is closing sends no reply: the step finishes at once.
    if (this._state === 'streaming' || this._state === 'ending') {
      const items = this.wire.stepped(input, out);
      p.outstanding = items.length;
      for (const item of items) this.owner.set(item, p);
      for (const item of items) this.send(item);
    }
    // After this step's reply is queued, so the client gets it before the error and the close.
    if (behind) this.fail('FALLING_BEHIND', behind, CLOSE.TRY_AGAIN_LATER);
    this.emitFinished();
  }

  /**
   * A real-time session whose frames have waited maxLagMs or more for their steps, step after
   * step for maxLagMs of time, is that far behind its client and not catching up (frames keep
   * coming every 80 ms): it is told and closed (after this step's reply) rather than keep a
   * worker's time from the others. A single slow step (another session opening, GC) that the
   * session recovers from within the bound does not count.
   */
  private lagBound(draft: FinishedStep): string | null {
    const wait = draft.spans['queue.wait'];
    if (this._state !== 'streaming' || this.start?.pace !== 'realtime' || wait === undefined) return null;
    if (wait < this.o.maxLagMs) {
      this.behindSince = null;
      return null;
    }
    this.behindSince ??= draft.doneAt;
    const behindFor = draft.doneAt - this.behindSince;
    if (behindFor < this.o.maxLagMs) return null;
    return `falling behind: step ${draft.step}'s frame waited ${Math.round(wait)} ms for the engine, and every frame for ${Math.round(behindFor)} ms waited over ${this.o.maxLagMs} ms (limit); the server is overloaded, reconnect later`;
  }

  /** An outbound item's fate: a reply item counts down its step (net.send at its audio's write). */
  private settled(item: OutItem, fate: ItemFate, t: number): void {
    if (fate.kind === 'written' && item.role === 'audio' && item.step !== null) this.d.stats.count('audio_frames_sent');
    const p = this.owner.get(item);
    if (!p) {
      if (fate.kind === 'dropped') this.event(fate.decision.event);
      return;
    }
    this.owner.delete(item);
    if (fate.kind === 'dropped') p.events.push(fate.decision.event);
    if (fate.kind === 'written' && item.role === 'audio') p.spans['net.send'] = t - p.draft.doneAt;
    p.finishedAt = Math.max(p.finishedAt, t);
    if (--p.outstanding === 0) this.emitFinished();
  }

  /** Emits the finished steps at the head of the pending list, in step order. */
  private emitFinished(): void {
    while (this.unfinished.length > 0 && this.unfinished[0]!.outstanding <= 0) {
      const p = this.unfinished.shift()!;
      const d = p.draft;
      const record: FinishedStep = { ...d, events: [...d.events, ...p.events], spans: { ...d.spans, ...p.spans }, finishedAt: p.finishedAt };
      this.d.stats.stepFinished(record);
      this.hook('onStepFinished', this.id, record);
    }
  }

  private onStepFailed(err: Error): void {
    const engine = this.d.engine!;
    // With a pool the engine stays 'ok' while this session's own worker died: the error says so
    // (its step may fail before the pool reports the session lost).
    const code = (err as { code?: unknown }).code;
    if (engine.state !== 'ok') this.engineLost(`${engine.state}${engine.reason ? `: ${engine.reason}` : ''} (${err.message})`);
    else if (code === 'ENGINE_ERR_CRASHED' || code === 'ENGINE_ERR_NOT_READY') this.engineLost(err.message);
    else this.fail('ENGINE_ERROR', `step ${this.steps - 1} failed: ${err.message}`, CLOSE.INTERNAL);
  }

  private finishEnd(): void {
    for (const item of this.wire.ended(this.steps, this.loop!.framesReceived)) this.send(item);
    this.closeAfterFlush(this.endClose?.code ?? CLOSE.NORMAL, this.endClose?.reason ?? 'session ended');
  }

  // ---------------------------------------------------------------- outbound

  send(item: OutItem): void {
    if (this._state !== 'closed') this.out.enqueue(item);
  }

  // ---------------------------------------------------------------- errors and closing

  protocolError(code: ErrorCode, message: string, closeCode: number = CLOSE.PROTOCOL_ERROR, where: { offset?: number | undefined; index?: number | undefined } = {}): void {
    this.d.stats.count('protocol_errors');
    this.event({ kind: 'protocol-error', code, message });
    if (++this.protocolErrors > this.o.maxProtocolErrors) {
      this.fail('TOO_MANY_ERRORS', `${this.protocolErrors} protocol errors (limit ${this.o.maxProtocolErrors}); last: ${code}: ${message}`, closeCode);
      return;
    }
    const extra = where.offset === undefined ? {} : { offset: where.offset, index: where.index ?? 0 };
    this.send(this.wire.error({ type: 'error', code, message, fatal: false, ...extra }));
  }

  fail(code: ErrorCode, message: string, closeCode: number, retryAfterMs?: number): void {
    if (this._state === 'closing' || this._state === 'closed') return;
    this.send(this.wire.error({ type: 'error', code, message, fatal: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }));
    this.closeAfterFlush(closeCode, message);
  }

  /** The engine process died with this session's model state. */
  engineLost(reason: string): void {
    this.engineOpen = false;
    this.fail('ENGINE_RESTARTED', `the engine stopped and the model state of this session is lost (${reason}); reconnect to start a new session`, CLOSE.TRY_AGAIN_LATER);
  }

  /** Server shutdown: tell the client, close, and resolve once closed. */
  shutdown(): Promise<void> {
    this.fail('SERVER_SHUTDOWN', 'the server is shutting down', CLOSE.GOING_AWAY);
    return this.closed;
  }

  /** Drops the connection now (shutdown grace over); the close event cleans up. */
  terminate(): void {
    this.d.socket.terminate();
  }

  private closeAfterFlush(code: number, reason: string): void {
    this._state = 'closing';
    this.closeCode = code;
    this.closeText = closeReason(reason);
    this.loop?.stop();
    // A peer that does not read never lets the queue drain: close anyway after the timeout.
    this.after(this.o.closeTimeoutMs, () => this.sendClose());
    this.out.scheduleFlush();
  }

  private sendClose(): void {
    if (this.closeSent || this._state === 'closed') return;
    this.closeSent = true;
    this.d.socket.close(this.closeCode, this.closeText);
    // ws waits 30 s for the peer's close frame; a dead or non-reading peer gets less.
    this.after(this.o.closeTimeoutMs, () => this.d.socket.terminate());
  }

  /** The socket is closed (by either side, or terminated). */
  onSocketClose(code: number, reason: string): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.out.stop();
    this.loop?.stop();
    // Writes still in the socket will not be confirmed: what each step has is all it gets.
    const now = this.now();
    for (const p of this.unfinished) {
      p.outstanding = 0;
      p.finishedAt = Math.max(p.finishedAt, now);
    }
    this.owner.clear();
    this.emitFinished();
    this.wire.dispose();
    const settle = async () => {
      await this.closeEngineSession();
      try {
        await this.d.hooks.onSessionClose?.(this.id, code, reason);
      } catch {
        this.d.stats.count('hook_errors');
      }
    };
    void settle().finally(() => {
      this.closedResolve();
      this.d.onClosed(this);
    });
  }

  private async closeEngineSession(): Promise<void> {
    if (!this.engineOpen || !this.d.engine) return;
    this.engineOpen = false;
    await this.d.engine.closeSession(this.id).catch(() => undefined);
  }

  // ---------------------------------------------------------------- helpers

  private watchDeadPeer(): void {
    const due = this.lastInbound + this.o.deadPeerMs - this.now();
    this.after(Math.max(0, due), () => {
      if (this._state === 'closing' || this._state === 'closed') return;
      if (this.now() - this.lastInbound >= this.o.deadPeerMs) {
        this.fail('DEAD_PEER', `nothing received for ${this.o.deadPeerMs} ms`, CLOSE.POLICY);
        // A dead peer reads nothing: write what we have and close without waiting for a drain.
        this.out.flush();
        this.sendClose();
      } else {
        this.watchDeadPeer();
      }
    });
  }

  private after(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  now(): number {
    return this.o.clock.now();
  }

  private hook<K extends keyof SessionHooks>(name: K, ...args: Parameters<NonNullable<SessionHooks[K]>>): void {
    const fn = this.d.hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!fn) return;
    try {
      fn.apply(this.d.hooks, args);
    } catch {
      this.d.stats.count('hook_errors');
    }
  }
}
