// The three stages of a step (Mimi encode → LM step → Mimi decode) as separate requests, for
// the offline replay's pipeline (harness/replay/pipelined.ts): one worker runs Mimi encode
// ahead of the LM and decode behind it while another steps the LM. Each stage calls the same
// model code on the same per-session state, in the same order per stream, as Pipeline.step,
// so its numerics are the live path's. A session opened with `split` keeps its encoder and
// decoder in two Mimi states, because the encoder runs ahead: a reset at step k must reach
// the encoder at encode k and the decoder at decode k, not both at once.
import type { StepEvent } from '../telemetry/events.ts';

export type StageInput =
  | { readonly stage: 'encode'; readonly session: string; readonly step: number; readonly pcm: Float32Array; readonly events: readonly StepEvent[] }
  | { readonly stage: 'lm'; readonly session: string; readonly step: number; readonly inputCodes: readonly number[]; readonly events: readonly StepEvent[] }
  /** Every step is sent to decode (a reset must reach the decoder); audio null, or a skipped-decode event, decodes nothing. */
  | { readonly stage: 'decode'; readonly session: string; readonly step: number; readonly audio: readonly number[] | null; readonly events: readonly StepEvent[] };

export type StageOutput =
  | { readonly stage: 'encode'; readonly inputCodes: readonly number[]; readonly ms: number }
  | { readonly stage: 'lm'; readonly text: number | null; readonly textPiece: string | null; readonly audio: readonly number[] | null; readonly temporalMs: number; readonly depformerMs: number }
  | { readonly stage: 'decode'; readonly pcm: Float32Array | null; readonly pcmHash: string | null; readonly ms: number };

/** Events that restart the session's streaming state before the step (as Pipeline.step reads them). */
export function resetsState(events: readonly StepEvent[]): boolean {
  return events.some((e) => e.kind === 'reset' || e.kind === 'engine-restart');
}

export function skipsDecode(events: readonly StepEvent[]): boolean {
  return events.some((e) => e.kind === 'skipped-decode');
}
