// Everything in a step that is not a pure function of (weights, config, seed, input
// frames) is an event (design.md, determinism). Events are recorded with the step they
// belong to and re-applied on replay, so the replayed step sequence is the same.

export type StepEvent =
  /** The input frame for this step arrived after its slot; `lateMs` past the deadline. */
  | { readonly kind: 'late-frame'; readonly seq: number; readonly lateMs: number }
  /** No input frame for this step: `replacement` stood in for it. */
  | { readonly kind: 'missing-frame'; readonly replacement: 'silence' }
  /** A frame that arrived after its step had already run with a replacement; dropped. */
  | { readonly kind: 'dropped-frame'; readonly seq: number }
  /** Mimi decode not run for this step (backpressure); no audio sent. */
  | { readonly kind: 'skipped-decode'; readonly reason: string }
  /** A TEXT_PARTIAL not sent (backpressure). */
  | { readonly kind: 'dropped-partial'; readonly token: number }
  /** Model state reset (client request or recovery). */
  | { readonly kind: 'reset'; readonly reason: string }
  /** The engine process died and was restarted; model state was lost. */
  | { readonly kind: 'engine-restart'; readonly reason: string }
  /** A client message the protocol says to ignore (an unknown kind, or one with no effect here); `byte` is its kind. */
  | { readonly kind: 'ignored-message'; readonly byte: number; readonly reason: string }
  /** A client packet was rejected (protocol error). */
  | { readonly kind: 'protocol-error'; readonly code: string; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export type StepEventKind = StepEvent['kind'];

/** Events that change what the engine computes; replay must re-apply exactly these. */
export function affectsComputation(e: StepEvent): boolean {
  return e.kind === 'missing-frame' || e.kind === 'skipped-decode' || e.kind === 'reset' || e.kind === 'engine-restart';
}
