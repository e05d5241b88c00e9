// One record per step (design.md, "One record per thing"): the session core emits a
// FinishedStep once, complete, when the step's reply has left; the recorder, telemetry,
// replayer and viewer all read it. A steps.jsonl line (StepRecord) is the same record
// without its PCM and with its time made relative to the session. Plain data: it crosses
// processes and is imported as a type by browser code.
import type { StepEvent, StepEventKind } from '../telemetry/events.ts';
import { withEndToEnd, type StepSpans } from '../telemetry/spans.ts';
import type { StepInput, StepOutput } from './types.ts';

/** A step as stored (one steps.jsonl line) and compared: everything but the PCM. */
export interface StepRecord {
  /** Step index: 0-based position of the input frame in the session. Strictly increasing. */
  readonly step: number;
  /** When the engine's result came back, ms since the session started (packets.bin's clock). */
  readonly timeMs: number;
  /** Mimi codes of the input frame (n_q). */
  readonly inputCodes: readonly number[];
  /** Text token, or null (generator warm-up). */
  readonly text: number | null;
  /** Detokenized piece of `text`, or null (no tokenizer, or no token). */
  readonly textPiece: string | null;
  /** The dep_q audio codes decoded this step, or null (warm-up). */
  readonly audioCodes: readonly number[] | null;
  /** pcmHash() of the output frame, or null when no PCM was produced (warm-up, skipped decode). */
  readonly pcmHash: string | null;
  /** Everything in the step that is not a pure function of its inputs (design.md). */
  readonly events: readonly StepEvent[];
  /** Span durations in ms, by the span names of src/telemetry/spans.ts. */
  readonly spans: StepSpans;
}

/** A step once its reply has left: the record, its PCM both ways, and its clock times. */
export interface FinishedStep extends Omit<StepRecord, 'timeMs'> {
  readonly session: string;
  /** The 1920 samples the engine ran (the client's frame, or the replacement an event says). */
  readonly inputPcm: Float32Array;
  /** The 1920 output samples, or null (warm-up or skipped decode). */
  readonly pcm: Float32Array | null;
  /** Clock time the engine's result came back: steps.jsonl's timeMs, and where net.send starts. */
  readonly doneAt: number;
  /** Clock time the step's last outbound item was written or dropped (doneAt when it had none). */
  readonly finishedAt: number;
  /** Clock time its input frame arrived (net.recv's start); null for a frame the server made up (end-of-input padding). */
  readonly arrivedAt?: number | null;
}

/**
 * The record as the engine leaves it: input events, then the engine's; engine spans plus
 * the server's (net.recv, queue.wait). The only place a StepOutput is mapped into a record.
 */
export function stepDraft(input: StepInput, out: StepOutput, serverSpans: StepSpans, doneAt: number, arrivedAt: number | null = null): FinishedStep {
  return {
    session: input.session,
    step: input.step,
    inputCodes: out.inputCodes,
    text: out.text,
    textPiece: out.textPiece,
    audioCodes: out.audio,
    pcmHash: out.pcmHash,
    events: [...input.events, ...out.events],
    spans: { ...out.spans, ...serverSpans },
    inputPcm: input.pcm,
    pcm: out.pcm,
    doneAt,
    finishedAt: doneAt,
    arrivedAt,
  };
}

/**
 * The step's spans with `e2e`, what the budget counts: measured from its frame's arrival to
 * its last reply item leaving (so the engine's IPC round trip is in it), or derived from the
 * parts when the frame has no arrival time. Stats, telemetry and the recorder all use this.
 */
export function finishedSpans(f: FinishedStep): StepSpans {
  if (f.arrivedAt == null) return withEndToEnd(f.spans);
  return { ...f.spans, e2e: Math.max(0, f.finishedAt - f.arrivedAt) };
}

/** The steps.jsonl line of a finished step; `t0` is the session's time origin on the same clock. */
export function stepRecordOf(f: FinishedStep, t0: number): StepRecord {
  // Field by field, not a rest copy minus the clock fields: the recorder maps one per step on the
  // server's loop, and a generic copy costs several times a literal there.
  return { step: f.step, inputCodes: f.inputCodes, text: f.text, textPiece: f.textPiece, audioCodes: f.audioCodes, pcmHash: f.pcmHash, events: f.events, spans: finishedSpans(f), timeMs: Math.max(0, f.doneAt - t0) };
}

/** Event kinds decided before a step runs (by the cadence, the send queue or a restart): replay feeds exactly these back. */
const PRE_STEP: ReadonlySet<StepEventKind> = new Set(['late-frame', 'missing-frame', 'dropped-frame', 'skipped-decode', 'reset', 'engine-restart']);

/** The events of a recorded step that were its input (not decisions taken after it, nor events outside any step). */
export function preStepEvents(events: readonly StepEvent[]): StepEvent[] {
  return events.filter((e) => PRE_STEP.has(e.kind));
}
