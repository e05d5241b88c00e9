// How ThreadedSessionWriter (the server's thread) and its writer thread talk, and how a
// SessionError crosses between them (structured clone keeps an Error's message, not its fields).
//
// Records go through a ring of shared memory (ThreadData.ring), in append order: a RECORD_HEADER
// bytes header (kind, writer id, a number, the payload's length, two more fields), the payload,
// padded to 8 bytes. The server's thread publishes how far it has written (`published`, bytes
// since the start, monotonic) once per turn and wakes the thread with Atomics.notify when the
// turn had a step (packets alone wait for the thread's PACKET_WAIT_MS timeout): no message,
// nothing allocated per step. The thread copies records out and says how far (`consumed`). A record
// never wraps: a WRAP header, or fewer than RECORD_HEADER bytes left, sends the reader to 0.
// What cannot go through the ring (open, flush, close, a record bigger than the ring allows,
// or one that finds it full) is a message, and a MESSAGE record with its sequence number holds
// its place in the order: the thread applies it there, waiting for it if it is not in yet.
import { SessionError, type SessionErrorCode } from './errors.ts';
import type { PacketDirection } from './layout.ts';
import type { ManifestCounts, ManifestInit } from './manifest.ts';
import type { StepRecord } from './steps.ts';
import { SPAN_NAMES } from '../../src/telemetry/spans.ts';

export const RECORD_HEADER = 32;
/** [kind, id, time ms, payload bytes, direction, 0]; the payload is the message. */
export const PACKET = 1;
/** [kind, id, step index, payload bytes, line bytes, 1 if an output frame follows]; payload: line, input frame, output frame. */
export const STEP = 2;
/** [kind, id, message sequence number, 0, 0, 0]. */
export const MESSAGE = 3;
export const WRAP = 4;

/** Header fields, by byte offset: u32 kind, u32 id, f64 a, u32 payload bytes, u32 b, u32 c. */
export const H_KIND = 0;
export const H_ID = 4;
export const H_A = 8;
export const H_BYTES = 16;
export const H_B = 20;
export const H_C = 24;

export const align8 = (n: number): number => (n + 7) & ~7;

/** How long a published packet may wait for the thread (a step wakes it at once): a kill -9 loses at most that much of packets alone. */
export const PACKET_WAIT_MS = 50;

export interface ThreadData {
  readonly ring: SharedArrayBuffer;
  /** BigInt64Array(2): [0] published by the server's thread, [1] consumed by the writer thread. */
  readonly counters: SharedArrayBuffer;
}

export type Control =
  | { readonly t: 'open'; readonly dir: string; readonly init: ManifestInit; readonly fsyncIntervalMs?: number; readonly maxPendingBytes?: number }
  | { readonly t: 'flush' }
  | { readonly t: 'close' }
  | { readonly t: 'stop'; readonly error: ErrorFields }
  | { readonly t: 'packet'; readonly direction: PacketDirection; readonly timeMs: number; readonly bytes: Uint8Array };

export interface ToThread {
  readonly seq: number;
  readonly id: number;
  readonly control: Control;
}

export interface ErrorFields {
  readonly code: SessionErrorCode;
  readonly message: string;
  readonly file?: string;
  readonly errno?: string;
}

export type FromThread =
  | { readonly t: 'opened'; readonly id: number }
  | { readonly t: 'open-failed'; readonly id: number; readonly error: ErrorFields }
  | { readonly t: 'failed'; readonly id: number; readonly error: ErrorFields; readonly steps: number }
  | { readonly t: 'flushed'; readonly id: number }
  | { readonly t: 'closed'; readonly id: number; readonly status: 'complete' | 'failed'; readonly error: ErrorFields | null; readonly counts: ManifestCounts; readonly dropped: number };

/** What of an error crosses threads: a SessionError's code, message, file and errno (anything else: an I/O error). */
export function errorFields(err: unknown): ErrorFields {
  if (err instanceof SessionError) return { code: err.code, message: err.message, ...(err.file === undefined ? {} : { file: err.file }), ...(err.errno === undefined ? {} : { errno: err.errno }) };
  return { code: 'SESSION_ERR_IO', message: `the session writer thread: ${err instanceof Error ? err.message : String(err)}` };
}

export function sessionErrorOf(f: ErrorFields): SessionError {
  return new SessionError(f.code, f.message, { ...(f.file === undefined ? {} : { file: f.file }), ...(f.errno === undefined ? {} : { errno: f.errno }) });
}

/**
 * [kind, id, step index, payload bytes, fields bytes, 1 if an output frame follows]; payload: the
 * step's fields (below), input frame, output frame. For a step without events: its line is
 * written by the thread, since formatting its numbers is most of a line's cost on the loop.
 */
export const STEP_FIELDS = 5;

// Fields, little-endian: f64 timeMs; f64 text (NaN: null); u32 n, n × f64 inputCodes;
// i32 n (-1: null), n × f64 audioCodes; u8 1 + 32 ASCII pcmHash, or u8 0; u32 n (0xffffffff:
// null), n bytes UTF-8 textPiece; u16 mask of SPAN_NAMES present, f64 each present one in order.
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const NULL_TEXT = 0xffffffff;

/** Bytes the fields of `r` take at most (textPiece counted at 3 bytes per UTF-16 unit). */
export function stepFieldsBound(r: StepRecord): number {
  return 8 + 8 + 4 + 8 * r.inputCodes.length + 4 + 8 * (r.audioCodes?.length ?? 0) + 1 + 32 + 4 + 3 * (r.textPiece?.length ?? 0) + 2 + 8 * SPAN_NAMES.length;
}

/** Writes the fields of a step that passed directStepOk at `at`; returns the bytes written. */
export function writeStepFields(r: StepRecord, bytes: Uint8Array, view: DataView, at: number): number {
  let p = at;
  view.setFloat64(p, r.timeMs, true);
  view.setFloat64(p + 8, r.text === null ? Number.NaN : r.text, true);
  p += 16;
  view.setUint32(p, r.inputCodes.length, true);
  p += 4;
  for (const c of r.inputCodes) {
    view.setFloat64(p, c, true);
    p += 8;
  }
  const audio = r.audioCodes;
  view.setInt32(p, audio === null ? -1 : audio.length, true);
  p += 4;
  for (const c of audio ?? []) {
    view.setFloat64(p, c, true);
    p += 8;
  }
  if (r.pcmHash === null) bytes[p++] = 0;
  else {
    bytes[p++] = 1;
    for (let i = 0; i < 32; i++) bytes[p + i] = r.pcmHash.charCodeAt(i);
    p += 32;
  }
  if (r.textPiece === null) {
    view.setUint32(p, NULL_TEXT, true);
    p += 4;
  } else {
    const { written } = utf8.encodeInto(r.textPiece, bytes.subarray(p + 4));
    view.setUint32(p, written, true);
    p += 4 + written;
  }
  const spans = r.spans as Readonly<Record<string, number | undefined>>;
  let mask = 0;
  const maskAt = p;
  p += 2;
  for (let i = 0; i < SPAN_NAMES.length; i++) {
    const ms = spans[SPAN_NAMES[i]!];
    if (ms === undefined) continue;
    mask |= 1 << i;
    view.setFloat64(p, ms, true);
    p += 8;
  }
  view.setUint16(maskAt, mask, true);
  return p - at;
}

/** The step written by writeStepFields (events: none). */
export function readStepFields(step: number, bytes: Uint8Array, view: DataView, at: number): StepRecord {
  let p = at;
  const timeMs = view.getFloat64(p, true);
  const t = view.getFloat64(p + 8, true);
  p += 16;
  const inputCodes: number[] = new Array<number>(view.getUint32(p, true));
  p += 4;
  for (let i = 0; i < inputCodes.length; i++, p += 8) inputCodes[i] = view.getFloat64(p, true);
  const na = view.getInt32(p, true);
  p += 4;
  let audioCodes: number[] | null = null;
  if (na >= 0) {
    audioCodes = new Array<number>(na);
    for (let i = 0; i < na; i++, p += 8) audioCodes[i] = view.getFloat64(p, true);
  }
  let pcmHash: string | null = null;
  if (bytes[p++] === 1) {
    pcmHash = String.fromCharCode(...bytes.subarray(p, p + 32));
    p += 32;
  }
  const nt = view.getUint32(p, true);
  p += 4;
  let textPiece: string | null = null;
  if (nt !== NULL_TEXT) {
    textPiece = fromUtf8.decode(bytes.subarray(p, p + nt));
    p += nt;
  }
  const mask = view.getUint16(p, true);
  p += 2;
  const spans: Record<string, number> = {};
  for (let i = 0; i < SPAN_NAMES.length; i++) {
    if (!(mask & (1 << i))) continue;
    spans[SPAN_NAMES[i]!] = view.getFloat64(p, true);
    p += 8;
  }
  return { step, timeMs, inputCodes, text: Number.isNaN(t) ? null : t, textPiece, audioCodes, pcmHash, events: [], spans: spans as StepRecord['spans'] };
}
