// The contract between the server (and replayer) and the engine that runs the models in
// a child process. Everything here crosses the process boundary, so it is plain data.
import type { StepEvent } from '../telemetry/events.ts';
import type { StepSpans } from '../telemetry/spans.ts';

export interface SamplingParams {
  /** 0 = greedy (argmax). PyTorch server defaults: text 0.7 / top-k 25, audio 0.8 / top-k 250. */
  readonly textTemperature: number;
  readonly textTopK: number;
  readonly audioTemperature: number;
  readonly audioTopK: number;
}

export const DEFAULT_SAMPLING: SamplingParams = { textTemperature: 0.7, textTopK: 25, audioTemperature: 0.8, audioTopK: 250 };
export const GREEDY: SamplingParams = { textTemperature: 0, textTopK: 1, audioTemperature: 0, audioTopK: 1 };

export interface SessionOptions {
  /** Seeds the per-step random keys: step k's keys depend only on (seed, k, stream). */
  readonly seed: number;
  /** The audio streams' keys come from this seed when set (Moshi `audio_seed`); absent: `seed`. */
  readonly audioSeed?: number;
  readonly sampling: SamplingParams;
}

export interface StepInput {
  readonly session: string;
  /** 0-based step index within the session. */
  readonly step: number;
  /** 1920 samples at 24 kHz: the client's frame, or the replacement an event says. */
  readonly pcm: Float32Array;
  /** Decided by the server before the step (missing frame, skipped decode, reset…). */
  readonly events: readonly StepEvent[];
}

export interface StepOutput {
  readonly session: string;
  readonly step: number;
  /** Mimi codes of the input frame (n_q). */
  readonly inputCodes: readonly number[];
  /** Text token of this step, or null while the generator warms up (first step). */
  readonly text: number | null;
  /** Detokenized piece for `text`, when a tokenizer is loaded. */
  readonly textPiece: string | null;
  /** The dep_q audio codes decoded this step, or null (warm-up). */
  readonly audio: readonly number[] | null;
  /** 1920 output samples, or null (warm-up or skipped decode). */
  readonly pcm: Float32Array | null;
  /** Hash of the output PCM bytes (see harness/format), or null when pcm is null. */
  readonly pcmHash: string | null;
  readonly spans: StepSpans;
  /** Events the engine itself added (e.g. a decode it skipped). */
  readonly events: readonly StepEvent[];
}

export type EngineState = 'starting' | 'ok' | 'degraded' | 'restarting' | 'stopped';

export interface EngineInfo {
  readonly model: string;
  /** Model configs as loaded (JSON). */
  readonly config: unknown;
  /** sha256 of every weight file, by file name. */
  readonly weightsSha256: Readonly<Record<string, string>>;
  /** Platform fingerprint of the engine process (src/models/platform.ts). */
  readonly fingerprint: unknown;
  readonly sampleRate: number;
  readonly frameSamples: number;
  readonly untrained: boolean;
}
