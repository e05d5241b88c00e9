// How ThreadedSessionWriter (the server's thread) and its writer thread talk, and how a
// SessionError crosses between them (structured clone keeps an Error's message, not its fields).
//
// Records go through a ring of shared memory (ThreadData.ring), in append order: a RECORD_HEADER
// bytes header (kind, writer id, a number, the payload's length, two more fields), the payload,
// padded to 8 bytes. The server's thread publishes how far it has written (`published`, bytes
// since the start, monotonic) and wakes the thread with Atomics.notify: no message, nothing
// allocated per step. The thread copies records out and says how far (`consumed`). A record
// never wraps: a WRAP header, or fewer than RECORD_HEADER bytes left, sends the reader to 0.
// What cannot go through the ring (open, flush, close, a record bigger than the ring allows,
// or one that finds it full) is a message, and a MESSAGE record with its sequence number holds
// its place in the order: the thread applies it there, waiting for it if it is not in yet.
import { SessionError, type SessionErrorCode } from './errors.ts';
import type { PacketDirection } from './layout.ts';
import type { ManifestCounts, ManifestInit } from './manifest.ts';

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
