// The replay result as stored in SESSION/replays/*.json (browser-safe type: the viewer
// reads it). `comparison` is harness/compare.ts's Comparison, the same data the CLI prints.
import type { Comparison } from '../compare.ts';

export interface ReplayResult {
  /**
   * 'replay' (offline, through the engine), 'paced' (over a WebSocket to a fresh server) or
   * 'diff' (against another recording, harness/diff.ts).
   */
  readonly kind: 'replay' | 'paced' | 'diff';
  /** ISO-8601 UTC time of the replay. */
  readonly at: string;
  /** As printed: "bit-exact", "token-exact", "diverged at step N" (+ forced note). */
  readonly verdict: string;
  readonly expected: 'bit-exact' | 'token-exact';
  readonly ok: boolean;
  readonly fingerprintDiffs: readonly string[];
  readonly comparison: Comparison;
  /** Left and right sides of `comparison` rows. */
  readonly labels: readonly [string, string];
  readonly stepsReplayed: number;
  /**
   * Diff only: what differs in how the two sessions were recorded (seed, sampling, model,
   * weights, version; harness/diff.ts). Non-empty means a divergence is expected. Absent in
   * results saved before it was written.
   */
  readonly setupDiffs?: readonly string[];
}
