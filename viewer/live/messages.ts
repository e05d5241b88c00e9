// The session messages the live page exchanges with `solacelive serve`, as they travel in
// METADATA and TEXT_* packets. The server's definitions (src/server/messages.ts) are out of
// reach for browser code (the lint zone keeps src/server out of viewer/), so the page keeps
// the wire shapes it reads here; test/e2e/live-contract.ts checks at compile time that the
// server's types still fit these.

export const SESSION_PROTOCOL = 1;

export interface SamplingParams {
  readonly textTemperature: number;
  readonly textTopK: number;
  readonly audioTemperature: number;
  readonly audioTopK: number;
}

export interface StartMessage {
  readonly type: 'start';
  readonly protocol: number;
  readonly seed?: number;
  readonly sampling?: 'greedy' | 'default';
  readonly record: boolean;
  /** The page streams a microphone: always at its own 80 ms pace. */
  readonly pace: 'realtime';
}

export interface EndMessage { readonly type: 'end'; }

export interface ReadyMessage {
  readonly type: 'ready';
  readonly protocol: number;
  readonly session: string;
  readonly model: string;
  readonly untrained: boolean;
  readonly weights: string;
  readonly seed: number;
  readonly sampling: SamplingParams;
  readonly record: boolean;
  readonly sampleRate: number;
  readonly frameSamples: number;
  readonly heartbeatMs: number;
  readonly limits: { readonly deadPeerMs: number };
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
  readonly fatal: boolean;
}

export interface GapMessage {
  readonly type: 'gap';
  readonly step: number;
  readonly reason: string;
}

export interface EventsMessage {
  readonly type: 'events';
  readonly step: number;
  readonly events: readonly { readonly kind: string }[];
}

export interface EndedMessage {
  readonly type: 'ended';
  readonly session: string;
  readonly steps: number;
  readonly framesReceived: number;
}

export interface RecordingMessage {
  readonly type: 'recording';
  readonly session: string;
  readonly state: 'recording' | 'stopped';
  readonly code?: string;
  readonly message?: string;
}

export type ServerMessage = ReadyMessage | ErrorMessage | GapMessage | EventsMessage | EndedMessage | RecordingMessage;

export interface TextPartial {
  readonly step: number;
  readonly token: number;
  /** null when the server has no detokenizer for this model (the tiny one). */
  readonly piece: string | null;
}

export interface TextFinal {
  readonly text: string;
  readonly tokens: number;
  readonly steps: number;
}

/**
 * Error codes that mean the server cannot run a model now (no weights, engine down or
 * restarting): the page shows them as the server being degraded, not as its own failure.
 */
export const DEGRADED_CODES: ReadonlySet<string> = new Set(['ENGINE_UNAVAILABLE', 'ENGINE_RESTARTED']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SERVER_TYPES = new Set(['ready', 'error', 'gap', 'events', 'ended', 'recording']);

/** A METADATA payload from the server, or null when it is none of ours (ignored). */
export function asServerMessage(data: unknown): ServerMessage | null {
  return isRecord(data) && typeof data.type === 'string' && SERVER_TYPES.has(data.type) ? (data as unknown as ServerMessage) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function parseTextPartial(text: string): TextPartial | null {
  const v = parseJson(text);
  return isRecord(v) && Number.isInteger(v.step) && Number.isInteger(v.token) && (v.piece === null || typeof v.piece === 'string') ? (v as unknown as TextPartial) : null;
}

export function parseTextFinal(text: string): TextFinal | null {
  const v = parseJson(text);
  return isRecord(v) && typeof v.text === 'string' ? (v as unknown as TextFinal) : null;
}
