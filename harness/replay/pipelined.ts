// The pipelined offline replay of one session: offline there is no real-time clock to wait
// for, so the step's three stages run on two engine workers at once. The Mimi worker encodes
// ahead of the LM and decodes behind it; the LM worker steps the LM. Each stage is the live
// path's own model call on the same state in the same order (src/engine/stages.ts), and the
// step's record is built as the step loop builds it (stepDraft), so the verdict is the one
// the one-worker replay gives. Requests are sent ahead (a window of steps in flight), so the
// IPC round trips hide behind the other worker's compute.
import { EngineHost, type BlasPinning } from '../../src/engine/host.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { stepDraft, type FinishedStep } from '../../src/engine/step-record.ts';
import type { SessionOptions, StepOutput } from '../../src/engine/types.ts';
import type { EnginePort } from '../../src/server/engine-port.ts';
import type { StepEvent } from '../../src/telemetry/events.ts';

/** Steps in flight at once: the encoder runs up to this far ahead (2.5 s of audio), enough to ride out a scheduler stall on a loaded machine (measured: 4 in flight hid less than 25), few enough to bound memory and keep progress current. */
export const PIPELINE_WINDOW = 32;

export interface OfflineStepper {
  /** Steps that may be in flight at once (calls to step() before the oldest resolves). */
  readonly window: number;
  step(pcm: Float32Array, events: readonly StepEvent[], atMs: number): Promise<FinishedStep>;
  stop(): void;
}

/** The two workers a pipelined replay runs on, pinned alike. */
export class PipelineEngines {
  readonly mimi: EngineHost;
  readonly lm: EngineHost;
  constructor(spec: ModelSpec, blas: BlasPinning) {
    this.mimi = new EngineHost({ spec, blas });
    this.lm = new EngineHost({ spec, blas });
  }

  /** Starts both; throws naming the worker that did not come up. */
  async start(): Promise<void> {
    const [a, b] = await Promise.allSettled([this.mimi.start(), this.lm.start()]);
    for (const [name, r, h] of [['Mimi', a, this.mimi], ['LM', b, this.lm]] as const) {
      if (r.status === 'rejected') throw new Error(`${name} worker: ${(r.reason as Error).message}`);
      if (!r.value) throw new Error(`${name} worker: ${h.reason ?? h.state}`);
    }
  }

  close(): Promise<void> {
    return Promise.all([this.mimi.close(), this.lm.close()]).then(() => undefined);
  }
}

/**
 * One worker, steps sent ahead: step k+1 goes out before step k's reply is back, so the
 * worker never waits on the round trip or on this process being scheduled. The worker runs
 * requests strictly in order, so it computes exactly what one-at-a-time stepping computes;
 * the record is the step loop's (stepDraft of a pushed frame). The session is open already.
 */
export function windowedStepper(engine: EnginePort, session: string, window = PIPELINE_WINDOW): OfflineStepper {
  let k = 0;
  let stopped = false;
  let doneAt = 0;
  return {
    window,
    async step(pcm, events, atMs) {
      if (stopped) throw new Error('the stepper has stopped');
      const input = { session, step: k++, pcm, events };
      const at = (doneAt = Math.max(doneAt, atMs));
      return stepDraft(input, await engine.step(input), {}, at, null);
    },
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Opens `session` on both workers (split encoder/decoder state on the Mimi worker) and returns
 * a stepper whose steps may overlap: step k's encode is sent at once, its LM step when its
 * codes come back, its decode when its LM step comes back. Results resolve in step order.
 */
export async function pipelinedStepper(e: PipelineEngines, session: string, options: SessionOptions, window = PIPELINE_WINDOW): Promise<OfflineStepper & { close(): Promise<void> }> {
  await Promise.all([e.mimi.openSession(session, options, true), e.lm.openSession(session, options)]);
  let k = 0;
  let stopped = false;
  let doneAt = 0;
  return {
    window,
    async step(pcm, events, atMs) {
      if (stopped) throw new Error('the pipelined stepper has stopped');
      const step = k++;
      // The record's time is the recorded one, as on the one-worker replay's virtual clock.
      const at = (doneAt = Math.max(doneAt, atMs));
      const enc = await e.mimi.stage({ stage: 'encode', session, step, pcm, events });
      if (enc.stage !== 'encode') throw new Error('unexpected stage reply');
      const lm = await e.lm.stage({ stage: 'lm', session, step, inputCodes: enc.inputCodes, events });
      if (lm.stage !== 'lm') throw new Error('unexpected stage reply');
      const dec = await e.mimi.stage({ stage: 'decode', session, step, audio: lm.audio, events });
      if (dec.stage !== 'decode') throw new Error('unexpected stage reply');
      const spans = { 'mimi.encode': enc.ms, 'lm.temporal': lm.temporalMs, 'lm.depformer': lm.depformerMs, ...(dec.pcm ? { 'mimi.decode': dec.ms } : {}) };
      const out: StepOutput = {
        session, step, inputCodes: enc.inputCodes, text: lm.text, textPiece: lm.textPiece, audio: lm.audio, pcm: dec.pcm, pcmHash: dec.pcmHash,
        spans: { ...spans, 'step.total': enc.ms + lm.temporalMs + lm.depformerMs + (dec.pcm ? dec.ms : 0) }, events: [],
      };
      return stepDraft({ session, step, pcm, events }, out, {}, at, null);
    },
    stop: () => {
      stopped = true;
    },
    close: async () => {
      await Promise.all([e.mimi.closeSession(session), e.lm.closeSession(session)]).catch(() => undefined);
    },
  };
}
