// The messages between ThreadedSessionWriter (the server's thread) and its writer thread, and
// how a SessionError crosses between them (structured clone keeps an Error's message, not its
// fields).
//
// One Batch per event-loop turn of the server's thread: the turn's records, copied into the
// shared ring (ThreadData) or, without room there, into `extra`, described by `index`,
// RECORD_FIELDS numbers per record, in append order; open, flush and close ride in the same
// order as records of kind CONTROL pointing into `controls`. A record's bytes are at ring
// offset `ref` when ref >= 0, else they are extra[-1 - ref].
import { SessionError, type SessionErrorCode } from './errors.ts';
import type { ManifestCounts, ManifestInit } from './manifest.ts';

export const PACKET = 1; // [PACKET, writer id, direction, time ms, ref, length]
export const STEP = 2; // [STEP, writer id, step index, ref, line length, 1 if an output frame follows the input frame]
export const CONTROL = 3; // [CONTROL, writer id, index into controls, 0, 0, 0]
export const RECORD_FIELDS = 6;

export type Control =
  | { readonly t: 'open'; readonly dir: string; readonly init: ManifestInit; readonly fsyncIntervalMs?: number; readonly maxPendingBytes?: number }
  | { readonly t: 'flush' }
  | { readonly t: 'close' };

/** What the thread starts with: the ring, and where it says how far it has copied out (monotonic bytes). */
export interface ThreadData {
  readonly ring: SharedArrayBuffer;
  readonly consumed: SharedArrayBuffer;
}

export interface Batch {
  readonly index: readonly number[];
  readonly controls: readonly Control[];
  readonly extra: readonly Uint8Array[];
  /** Ring bytes handed out up to this batch (monotonic): free once the thread has copied it. */
  readonly end: number;
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
