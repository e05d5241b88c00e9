// Taps for the recorder (harness/recorder, another issue) and anything else that wants to
// see a session's traffic: raw messages both ways with their capture times, each step's
// input and output, and the decisions taken outside a step (dropped partials, protocol
// errors). The server calls these and never depends on what they do; a throwing hook is
// counted on /health, not allowed to break the session.
import type { StepInput, StepOutput } from '../engine/types.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { StepSpans } from '../telemetry/spans.ts';
import type { ReadyMessage, RecordingMessage } from './messages.ts';

/** What a hook may tell the session's client (through the server, never directly). */
export interface SessionControl {
  /** The session's recording started or stopped: the client gets a 'recording' message. */
  recording(state: RecordingMessage['state'], detail?: { code?: string; message?: string; steps?: number }): void;
}

export interface SessionHooks {
  /** The handshake succeeded (`ready.record` says whether the client asked for recording). */
  onSessionOpen?(sessionId: string, ready: ReadyMessage, t: number, control: SessionControl): void;
  /** Every WebSocket message received, from the connection's first byte, before validation. */
  onInbound?(sessionId: string, bytes: Uint8Array, t: number): void;
  /** Every WebSocket message sent, as written. */
  onOutbound?(sessionId: string, bytes: Uint8Array, t: number): void;
  /** A step's input (with the events decided before it) and the engine's output. */
  onStep?(sessionId: string, input: StepInput, output: StepOutput): void;
  /** All spans of a step once its output left (engine spans plus net.recv, queue.wait, net.send). */
  onStepSpans?(sessionId: string, step: number, spans: StepSpans): void;
  /** A decision taken after its step (dropped partial) or outside any step (protocol error). */
  onEvent?(sessionId: string, step: number | null, event: StepEvent): void;
  /** The connection is gone; a recorder finishes its files here (awaited on shutdown). */
  onSessionClose?(sessionId: string, code: number, reason: string): void | Promise<void>;
  /** Extra state for GET /health under `hooks` (the recorder: what it records, what failed). */
  health?(): Record<string, unknown>;
}
