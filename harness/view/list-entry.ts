// One row of the sessions list, as the view server sends it (browser-safe type: the viewer
// reads it; harness/view/sessions.ts fills it in).
import type { ResultSummary } from './results.ts';

export interface SessionListEntry {
  readonly name: string;
  /** Other names in the folder that are symlinks to this same session (listed once, under `name`). */
  readonly aliases: readonly string[];
  readonly createdAt: string | null;
  readonly status: string | null;
  readonly model: string | null;
  /** Audio time of the recorded steps. */
  readonly durationMs: number;
  readonly steps: number;
  readonly budgetMisses: number;
  /** p99 of step.total in ms (null without steps). */
  readonly p99StepMs: number | null;
  /** The newest saved replay of this session (offline or paced), if any: whether it reproduces. */
  readonly replay: ResultSummary | null;
  /** The newest saved `sessions diff` of this session against another, if any (not a replay verdict). */
  readonly diff: ResultSummary | null;
  readonly recoveries: number;
  /**
   * Set for a session measured from outside the server (proxied or load test): no engine step
   * records, so steps, budgetMisses and p99StepMs say nothing of it; its own figures come from
   * proxy.json (null where that file is missing or unreadable: `figuresError` says why).
   */
  readonly measured: {
    readonly kind: 'proxied' | 'load test';
    readonly upstream: string;
    readonly lagP99Ms: number | null;
    readonly slopeMsPerMin: number | null;
    readonly stalls: number | null;
    readonly figuresError: string | null;
  } | null;
  /** Why the folder does not read as a session (it is listed anyway). Never quotes file content. */
  readonly error: { readonly code: string; readonly message: string } | null;
}
