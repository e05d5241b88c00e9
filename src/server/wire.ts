// The seam between the session core and a wire protocol. A protocol is an adapter: it
// turns the bytes a client sends into calls on the core (start, frames, end, errors) and
// the core's results (ready, each stepped frame, the end, errors, keep-alives) into items
// for the send queue. The SolaceLive packet protocol and the Moshi protocol are the two.
import type { StepInput, StepOutput } from '../engine/types.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { StartRequest } from './handshake.ts';
import type { ErrorCode, ErrorMessage, ReadyMessage, RecordingMessage } from './messages.ts';
import type { Framing } from './outbound.ts';
import type { OutItem } from './send-queue.ts';

export type SessionState = 'handshake' | 'opening' | 'streaming' | 'ending' | 'closing' | 'closed';

/** The wire protocols a session can speak; recorded with each session. */
export type WireProtocol = 'solacelive' | 'moshi';

export type FrameOutcome = 'queued' | 'dropped' | 'overflow' | 'not-started' | 'ended';

/** What a wire adapter may ask of its session. */
export interface SessionCore {
  readonly id: string;
  readonly state: SessionState;
  /** The session's clock (injected: tests and replay move it themselves). */
  now(): number;
  /** Starts the session (admission, engine, then `ready`). */
  open(start: StartRequest): void;
  /**
   * One 1920-sample frame. 'not-started' and 'ended' are refusals the adapter reports in its
   * own words; 'overflow' has closed the session.
   */
  frame(pcm: Float32Array, seq: number, t: number, recvMs: number): FrameOutcome;
  /** No more frames: step what is queued, then `ended`, then close (normally, or with `close` when the input broke). */
  end(close?: { readonly code: number; readonly reason: string }): void;
  /** Counts `n` inbound units against the input rate; closes the session (and returns false) above it. */
  takeInput(t: number, n: number): boolean;
  send(item: OutItem): void;
  /** A recoverable error: the client is told, the connection goes on (until too many). */
  protocolError(code: ErrorCode, message: string, closeCode?: number, where?: { offset?: number | undefined; index?: number | undefined }): void;
  /** A fatal error: the client is told, then the connection closes with `closeCode`. */
  fail(code: ErrorCode, message: string, closeCode: number): void;
  /** Records an event outside any step (e.g. an ignored message kind). */
  event(event: StepEvent): void;
}

export interface Wire {
  readonly protocol: WireProtocol;
  readonly framing: Framing;
  /** What a connection that has not started must send (for the handshake-timeout message). */
  readonly startHint: string;
  /** Facts of this connection for the session's record (null: none beyond the protocol's name). */
  info(): Readonly<Record<string, unknown>> | null;
  /** The connection is up (the Moshi protocol starts the session here; the packet protocol waits for start). */
  connected(): void;
  receive(data: Uint8Array, isBinary: boolean, t: number): void;
  ready(ready: ReadyMessage): OutItem[];
  stepped(input: StepInput, output: StepOutput): OutItem[];
  ended(steps: number, framesReceived: number): OutItem[];
  error(message: ErrorMessage): OutItem;
  keepalive(): OutItem;
  /** The recorder's news for the client, or null when the protocol cannot carry it. */
  recording(message: RecordingMessage): OutItem | null;
  /** The connection is gone: free what the adapter holds (decoders, buffers). */
  dispose(): void;
}

export type WireFactory = (core: SessionCore) => Wire;
