// The step pipeline, inside the engine worker: Mimi encode → LmGen step (temporal, then
// depformer) → Mimi decode, one 80 ms frame per call, timed per stage. Weights are loaded
// once and shared; each session owns its streaming state (Mimi caches, LM caches, token
// ring, sampler seed), so sessions never see each other.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadLmConfig, loadLm, LmGen, releaseNativeMemory, TextDetokenizer, type Lm, type LmConfig } from '../models/lm/index.ts';
import { loadMimiConfig, Mimi, type MimiConfig } from '../models/mimi/index.ts';
import { platformFingerprint } from '../models/platform.ts';
import { realClock, type Clock } from '../telemetry/clock.ts';
import { SpanTimer } from '../telemetry/spans.ts';
import type { StepEvent } from '../telemetry/events.ts';
import { EngineError } from './errors.ts';
import type { ModelSpec } from './model-spec.ts';
import { pcmHash } from './pcm-hash.ts';
import { resetsState, skipsDecode, type StageInput, type StageOutput } from './stages.ts';
import type { EngineInfo, SessionOptions, StepInput, StepOutput } from './types.ts';

interface SessionState {
  /** The Mimi state encode uses, and the one decode uses: the same one unless opened split (stages.ts). */
  readonly mimi: Mimi;
  readonly dec: Mimi;
  readonly gen: LmGen;
  nextStep: number;
  /** Next step each stage expects (stage requests only). */
  readonly nextStage: { encode: number; lm: number; decode: number };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * MLX frees native buffers only when V8 collects their JS wrappers, and V8 cannot see the
 * native bytes behind them. A minor GC every step frees the step's temporaries; wrappers
 * that lived long enough to be promoted (KV cache slices, streaming state) wait for a major
 * GC, which V8 alone would rarely run: measured here, minor-only collection let the worker
 * grow ~130 KB per step (+270 MB over 2,000 steps). A major GC every MAJOR_GC_EVERY steps
 * (a few ms on this small heap) keeps it flat.
 */
const MAJOR_GC_EVERY = Number(process.env.SOLACELIVE_MAJOR_GC_EVERY ?? 50);

export class Pipeline {
  readonly info: EngineInfo;
  private readonly mimi: Mimi;
  private readonly lm: Lm;
  private readonly lmConfig: LmConfig;
  private readonly detok: TextDetokenizer | null;
  private readonly sessions = new Map<string, SessionState>();
  private readonly clock: Clock;
  private steps = 0;

  private constructor(info: EngineInfo, mimi: Mimi, lm: Lm, lmConfig: LmConfig, detok: TextDetokenizer | null, clock: Clock) {
    this.info = info;
    this.mimi = mimi;
    this.lm = lm;
    this.lmConfig = lmConfig;
    this.detok = detok;
    this.clock = clock;
  }

  static async load(spec: ModelSpec, clock: Clock = realClock): Promise<Pipeline> {
    let mimiConfig: MimiConfig;
    let lmConfig: LmConfig;
    try {
      mimiConfig = loadMimiConfig(spec.mimiConfig);
      lmConfig = loadLmConfig(spec.lmConfig);
    } catch (err) {
      throw new EngineError('ENGINE_ERR_LOAD', (err as Error).message);
    }
    if (mimiConfig.numCodebooks < lmConfig.nQ - lmConfig.depQ) {
      throw new EngineError('ENGINE_ERR_LOAD', `Mimi emits ${mimiConfig.numCodebooks} codebooks but the LM reads ${lmConfig.nQ - lmConfig.depQ} user codebooks`);
    }
    let mimi: Mimi;
    let lm: Lm;
    try {
      mimi = new Mimi(mimiConfig);
      mimi.loadWeights(spec.mimiWeights);
      lm = loadLm(lmConfig, spec.lmWeights).lm;
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new EngineError('ENGINE_ERR_LOAD', `${e.code ? `[${e.code}] ` : ''}${e.message}`);
    }
    const detok = spec.tokenizer ? TextDetokenizer.fromFile(spec.tokenizer) : null;
    const files = [spec.lmWeights, spec.mimiWeights, ...(spec.tokenizer ? [spec.tokenizer] : [])];
    const weightsSha256: Record<string, string> = {};
    for (const f of files) weightsSha256[basename(f)] = await sha256File(f);
    const info: EngineInfo = {
      model: spec.name,
      config: { lm: JSON.parse(readFileSync(spec.lmConfig, 'utf8')), mimi: JSON.parse(readFileSync(spec.mimiConfig, 'utf8')) },
      weightsSha256,
      fingerprint: platformFingerprint(),
      sampleRate: mimiConfig.sampleRate,
      frameSamples: mimiConfig.frameSize,
      untrained: spec.untrained,
    };
    return new Pipeline(info, mimi, lm, lmConfig, detok, clock);
  }

  /** Lets the binding free the last step's native memory (see MAJOR_GC_EVERY). */
  async releaseMemory(): Promise<void> {
    const gc = (globalThis as { gc?: (o?: { type: string }) => void }).gc;
    if (gc && MAJOR_GC_EVERY > 0 && this.steps > 0 && this.steps % MAJOR_GC_EVERY === 0) gc({ type: 'major' });
    await releaseNativeMemory();
  }

  /** Bytes of LM weights one step reads, by stage (the bench's memory-bandwidth floors). */
  lmWeightBytesByStage(): { temporal: number; depformer: number } {
    return this.lm.weightBytesByStage();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  open(session: string, options: SessionOptions, split = false): void {
    if (this.sessions.has(session)) throw new EngineError('ENGINE_ERR_SESSION', `session ${session} is already open`);
    const s = options.sampling;
    const gen = new LmGen(this.lm, {
      seed: options.seed,
      ...(options.audioSeed === undefined ? {} : { audioSeed: options.audioSeed }),
      text: { temperature: s.textTemperature, topK: s.textTopK },
      audio: { temperature: s.audioTemperature, topK: s.audioTopK },
    });
    const mimi = this.mimi.session();
    this.sessions.set(session, { mimi, dec: split ? this.mimi.session() : mimi, gen, nextStep: 0, nextStage: { encode: 0, lm: 0, decode: 0 } });
  }

  close(session: string): void {
    this.sessions.delete(session);
  }

  /**
   * One step. With `deferRelease`, the caller runs `releaseMemory()` itself once the output
   * is on its way (the engine worker replies first, so the collection overlaps the IPC
   * round trip instead of delaying every reply).
   */
  async step(input: StepInput, opts: { deferRelease?: boolean } = {}): Promise<StepOutput> {
    const s = this.sessions.get(input.session);
    if (!s) throw new EngineError('ENGINE_ERR_SESSION', `no open session ${input.session}`);
    if (input.step !== s.nextStep) throw new EngineError('ENGINE_ERR_INPUT', `session ${input.session}: step ${input.step} out of order (expected ${s.nextStep})`);
    if (input.pcm.length !== this.info.frameSamples) throw new EngineError('ENGINE_ERR_INPUT', `step ${input.step}: ${input.pcm.length} samples, expected ${this.info.frameSamples}`);
    if (resetsState(input.events)) {
      s.mimi.reset();
      s.dec.reset();
      s.gen.reset();
    }
    const skipDecode = skipsDecode(input.events);
    const events: StepEvent[] = [];
    const timer = new SpanTimer(this.clock);
    let inputCodes: Int32Array;
    let frame: ReturnType<LmGen['step']>;
    let pcm: Float32Array | null = null;
    try {
      inputCodes = timer.time('mimi.encode', () => s.mimi.encodeStep(input.pcm));
      frame = s.gen.step(inputCodes);
      timer.record('lm.temporal', s.gen.lastTimings.temporalMs);
      timer.record('lm.depformer', s.gen.lastTimings.depformerMs);
      if (frame && !skipDecode) {
        const codes = frame.audio;
        pcm = timer.time('mimi.decode', () => s.dec.decodeStep(codes));
      }
    } catch (err) {
      throw stepError(err, input.step);
    }
    const spans = timer.finish();
    s.nextStep++;
    this.steps++;
    if (!opts.deferRelease) await this.releaseMemory();
    const text = frame ? frame.text : null;
    return {
      session: input.session,
      step: input.step,
      inputCodes: Array.from(inputCodes),
      text,
      textPiece: text !== null && this.detok ? this.detok.display(text) : null,
      audio: frame ? Array.from(frame.audio) : null,
      pcm,
      pcmHash: pcm ? pcmHash(pcm) : null,
      spans,
      events,
    };
  }

  /**
   * One stage of a step (stages.ts): the same model calls as step() makes, on the session's
   * state, each stage's steps strictly in order. The caller runs the three per step.
   */
  stage(input: StageInput): StageOutput {
    const s = this.sessions.get(input.session);
    if (!s) throw new EngineError('ENGINE_ERR_SESSION', `no open session ${input.session}`);
    const expected = s.nextStage[input.stage];
    if (input.step !== expected) throw new EngineError('ENGINE_ERR_INPUT', `session ${input.session}: ${input.stage} of step ${input.step} out of order (expected ${expected})`);
    const reset = resetsState(input.events);
    let out: StageOutput;
    try {
      const t0 = this.clock.now();
      switch (input.stage) {
        case 'encode': {
          if (input.pcm.length !== this.info.frameSamples) throw new EngineError('ENGINE_ERR_INPUT', `step ${input.step}: ${input.pcm.length} samples, expected ${this.info.frameSamples}`);
          if (reset) s.mimi.reset();
          out = { stage: 'encode', inputCodes: Array.from(s.mimi.encodeStep(input.pcm)), ms: this.clock.now() - t0 };
          break;
        }
        case 'lm': {
          if (reset) s.gen.reset();
          const frame = s.gen.step(Int32Array.from(input.inputCodes));
          const text = frame ? frame.text : null;
          out = {
            stage: 'lm', text, textPiece: text !== null && this.detok ? this.detok.display(text) : null, audio: frame ? Array.from(frame.audio) : null,
            temporalMs: s.gen.lastTimings.temporalMs, depformerMs: s.gen.lastTimings.depformerMs,
          };
          break;
        }
        case 'decode': {
          if (reset) s.dec.reset();
          const pcm = input.audio && !skipsDecode(input.events) ? s.dec.decodeStep(input.audio) : null;
          out = { stage: 'decode', pcm, pcmHash: pcm ? pcmHash(pcm) : null, ms: this.clock.now() - t0 };
          break;
        }
      }
    } catch (err) {
      throw err instanceof EngineError ? err : stepError(err, input.step);
    }
    s.nextStage[input.stage]++;
    this.steps++;
    return out;
  }
}

/** A model error inside a step, as the engine reports it: bad input or a failed step. */
function stepError(err: unknown, step: number): EngineError {
  const e = err as Error & { code?: string };
  return new EngineError(e.code === 'MIMI_ERR_NON_FINITE' || e.code === 'MIMI_ERR_FRAME_LENGTH' ? 'ENGINE_ERR_INPUT' : 'ENGINE_ERR_STEP', `step ${step}: ${e.message}`);
}
