// One row of the sessions list, as the view server sends it (browser-safe type: the viewer
// reads it; harness/view/sessions.ts fills it in).
export interface SessionListEntry {
  readonly name: string;
  readonly createdAt: string | null;
  readonly status: string | null;
  readonly model: string | null;
  /** Audio time of the recorded steps. */
  readonly durationMs: number;
  readonly steps: number;
  readonly budgetMisses: number;
  /** p99 of step.total in ms (null without steps). */
  readonly p99StepMs: number | null;
  /** The newest saved replay verdict, if any. */
  readonly replay: { readonly verdict: string; readonly at: string; readonly ok: boolean } | null;
  readonly recoveries: number;
  /** Why the folder does not read as a session (it is listed anyway). */
  readonly error: { readonly code: string; readonly message: string } | null;
}
