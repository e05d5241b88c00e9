// The session protocol carried inside packets: METADATA JSON messages and the JSON text of
// TEXT_PARTIAL / TEXT_FINAL. Shared by the server and the client (type-only for the client
// apart from the constants), and browser-safe: no Node APIs here.
import type { SamplingParams } from '../engine/types.ts';
import type { StepEvent } from '../telemetry/events.ts';

export const SESSION_PROTOCOL = 1;

/** How the client sends frames: at 80 ms pace (server fills missing ones), or as fast as accepted. */
export type Pace = 'realtime' | 'fast';

// ---- client → server (METADATA) ----

export interface StartMessage {
  readonly type: 'start';
  readonly protocol?: number;
  /** u32; absent: the server picks one and reports it, so the session can be replayed. */
  readonly seed?: number;
  /** 'greedy', 'default', or fields overriding the defaults. */
  readonly sampling?: 'greedy' | 'default' | Partial<SamplingParams>;
  /** Ask for the session to be recorded (passed to the recorder hook). */
  readonly record?: boolean;
  readonly pace?: Pace;
}

/** No more frames: the server steps what it holds, sends TEXT_FINAL and 'ended', then closes. */
export interface EndMessage { readonly type: 'end'; }

export type ClientMessage = StartMessage | EndMessage;

// ---- server → client (METADATA) ----

export interface SessionLimits {
  readonly maxMessageBytes: number;
  readonly maxInputRate: number;
  readonly inputBurst: number;
  readonly maxQueuedFrames: number;
  readonly deadPeerMs: number;
}

export interface ReadyMessage {
  readonly type: 'ready';
  readonly protocol: number;
  readonly session: string;
  readonly model: string;
  /** Synthetic weights: the output says nothing about speech. */
  readonly untrained: boolean;
  /** sha256 over the weight files' sha256s (see weightsFingerprint). */
  readonly weights: string;
  readonly weightsSha256: Readonly<Record<string, string>>;
  /** Platform fingerprint of the engine process (results are bit-exact only between equal ones). */
  readonly fingerprint: unknown;
  readonly seed: number;
  /** The audio streams' own seed, when the session has one (Moshi `audio_seed`). */
  readonly audioSeed?: number;
  readonly sampling: SamplingParams;
  readonly record: boolean;
  readonly pace: Pace;
  readonly sampleRate: number;
  readonly frameSamples: number;
  readonly heartbeatMs: number;
  readonly limits: SessionLimits;
  /** The wire protocol of the session, as hooks (the recorder) see it; not sent on the packet wire (absent means 'solacelive'). */
  readonly wire?: 'solacelive' | 'moshi';
  /** What the wire adapter adds for the record (Moshi: the query as sent, the Opus build that decodes the input). */
  readonly wireInfo?: Readonly<Record<string, unknown>>;
}

export type ErrorCode =
  | 'BAD_HANDSHAKE' | 'NOT_STARTED' | 'ALREADY_STARTED' | 'UNEXPECTED_PACKET' | 'UNKNOWN_MESSAGE' | 'NOT_BINARY'
  | 'SEQ_OUT_OF_ORDER' | 'TOO_MANY_ERRORS' | 'RATE_LIMITED' | 'INPUT_OVERFLOW' | 'SLOW_CONSUMER' | 'DEAD_PEER'
  | 'HANDSHAKE_TIMEOUT' | 'TOO_MANY_PENDING' | 'SERVER_FULL' | 'SERVER_BUSY' | 'FALLING_BEHIND' | 'ENGINE_UNAVAILABLE' | 'ENGINE_RESTARTED' | 'ENGINE_ERROR' | 'SERVER_SHUTDOWN'
  | 'INTERNAL' | 'UNEXPECTED_MESSAGE' | 'INPUT_ENDED'
  // Decoding errors keep their own codes: packets (PKT_ERR_*), Moshi messages (MOSHI_ERR_*), Ogg and Opus input.
  | `PKT_ERR_${string}` | `MOSHI_ERR_${string}` | `OGG_ERR_${string}` | `OPUS_ERR_${string}`;

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  /** True when the server closes the connection after this message. */
  readonly fatal: boolean;
  /** For packet errors: where in the message the bad packet started. */
  readonly offset?: number;
  readonly index?: number;
  /** When the refusal is for lack of capacity (close 1013): a reasonable wait before reconnecting. */
  readonly retryAfterMs?: number;
}

/** A step that produced no audio (warm-up or a skipped decode): keeps the client's step count. */
export interface GapMessage {
  readonly type: 'gap';
  readonly step: number;
  readonly reason: 'warm-up' | 'skipped-decode' | 'no-audio';
}

/** Events of a step the client may want to show (late or missing frames, drops). */
export interface EventsMessage {
  readonly type: 'events';
  readonly step: number;
  readonly events: readonly StepEvent[];
}

export interface EndedMessage {
  readonly type: 'ended';
  readonly session: string;
  readonly steps: number;
  readonly framesReceived: number;
}

/**
 * Whether this session is being recorded: 'recording' once its files are open, 'stopped'
 * when recording failed (disk full, folder unwritable). The session goes on either way;
 * what was written before a stop is kept.
 */
export interface RecordingMessage {
  readonly type: 'recording';
  readonly session: string;
  readonly state: 'recording' | 'stopped';
  /** Why it stopped (e.g. SESSION_ERR_DISK_FULL) and the message, when state is 'stopped'. */
  readonly code?: string;
  readonly message?: string;
  /** Steps written before the stop. */
  readonly steps?: number;
}

export type ServerMessage = ReadyMessage | ErrorMessage | GapMessage | EventsMessage | EndedMessage | RecordingMessage;

// ---- text packets (UTF-8 JSON) ----

/** TEXT_PARTIAL: one generated text token. `piece` is null when no detokenizer is loaded. */
export interface TextPartial {
  readonly step: number;
  readonly token: number;
  readonly piece: string | null;
}

/** TEXT_FINAL: the text of the session (concatenated pieces), at its end. */
export interface TextFinal {
  readonly text: string;
  readonly tokens: number;
  readonly steps: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a server METADATA payload; null when it is not one of ours (ignored by clients). */
export function asServerMessage(data: unknown): ServerMessage | null {
  if (!isRecord(data) || typeof data.type !== 'string') return null;
  switch (data.type) {
    case 'ready': case 'error': case 'gap': case 'events': case 'ended': case 'recording':
      return data as unknown as ServerMessage;
    default:
      return null;
  }
}

export function parseTextPartial(text: string): TextPartial | null {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && Number.isInteger(v.step) && Number.isInteger(v.token) && (v.piece === null || typeof v.piece === 'string')) {
      return v as unknown as TextPartial;
    }
  } catch { /* not ours */ }
  return null;
}

export function parseTextFinal(text: string): TextFinal | null {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && typeof v.text === 'string') return v as unknown as TextFinal;
  } catch { /* not ours */ }
  return null;
}
