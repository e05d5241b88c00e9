// The messages between the proxy's forwarding loop and its measuring worker (measure-worker.ts).
// One channel for everything of a connection, so the worker sees messages and events in the
// order the forwarding loop saw them.
import type { ManifestInit } from '../format/node.ts';
import type { ConnectionEvent, ConnectionFigures, MeterOptions, Side } from '../measure/index.ts';

export interface WorkerSetup {
  /** TEST-ONLY: CPU burnt per message before measuring it (a slow worker on purpose). */
  readonly testBurnMs: number;
  /** TEST-ONLY: the worker throws after measuring this many messages (0: never). */
  readonly testCrashAt: number;
  /** TEST-ONLY: the worker blocks for good after measuring this many messages (0: never): alive, doing nothing. */
  readonly testHangAt: number;
  /** TEST-ONLY: the worker blocks for good before it says it is ready. */
  readonly testHangAtStart: boolean;
}

export interface RecordPlan {
  readonly dir: string;
  readonly init: ManifestInit;
  readonly warmupFrames: number;
  readonly maxPendingBytes?: number;
}

/** The recording's end as a ConnectionReport gives it. */
export type RecordingEnd = { readonly status: 'complete' | 'failed'; readonly error: { readonly code: string; readonly message: string } | null } | null;

/**
 * progress: Int32Array over a SharedArrayBuffer, [messages measured, bytes measured (mod 2^32),
 * stop flag]: the forwarding loop reads how far behind the worker is without a message back,
 * and raises the flag to make the worker skip what it still holds of the connection.
 */
/** open.t0: the connection's start as performance.timeOrigin + performance.now() (times are ms since it). */
export type ToWorker =
  | { readonly k: 'open'; readonly id: string; readonly t0: number; readonly meter: Omit<MeterOptions, 'onFrame'>; readonly record: RecordPlan | null; readonly progress: Int32Array }
  | { readonly k: 'msg'; readonly id: string; readonly side: Side; readonly bytes: Uint8Array; readonly isBinary: boolean; readonly t: number }
  | { readonly k: 'upstream-open'; readonly id: string; readonly t: number }
  | { readonly k: 'event'; readonly id: string; readonly e: ConnectionEvent }
  | { readonly k: 'end'; readonly id: string; readonly by: Side | 'proxy'; readonly code: number; readonly reason: string; readonly t: number }
  | { readonly k: 'finish'; readonly id: string; readonly upstream: string };

export type FromWorker =
  | { readonly k: 'ready' }
  | { readonly k: 'opened'; readonly id: string; readonly path: string | null }
  | { readonly k: 'log'; readonly id: string; readonly line: string }
  | { readonly k: 'finished'; readonly id: string; readonly figures: ConnectionFigures; readonly recording: RecordingEnd };

export const PROGRESS_MESSAGES = 0;
export const PROGRESS_BYTES = 1;
export const PROGRESS_STOP = 2;
