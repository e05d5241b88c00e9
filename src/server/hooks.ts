// Taps for the recorder (harness/recorder, another issue) and anything else that wants to
// see a session's traffic: raw messages both ways with their capture times, one finished
// record per step (input, output, every event and span, once its reply has left), and the
// events outside any step (protocol errors, ignored messages). The server calls these and never depends on what they do; a throwing hook is
// counted on /health, not allowed to break the session.
import type { FinishedStep } from '../engine/step-record.ts';
import type { StepEvent } from '../telemetry/events.ts';
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
  /**
   * A step, once, complete: after every outbound item of its reply was written or dropped
   * (at once when it had none, or when the connection is gone). Steps come in order.
   */
  onStepFinished?(sessionId: string, record: FinishedStep): void;
  /** An event outside any step (protocol error, ignored message). */
  onEvent?(sessionId: string, event: StepEvent): void;
  /** The connection is gone; a recorder finishes its files here (awaited on shutdown). */
  onSessionClose?(sessionId: string, code: number, reason: string): void | Promise<void>;
  /** Extra state for GET /health under `hooks` (the recorder: what it records, what failed). */
  health?(): Record<string, unknown>;
}
