// The Mimi frame grid: 24 kHz mono, 80 ms = 1920 samples per step. Splitting pads the last
// frame with zeros and says how much, so a caller can trim the reply back to the input length.

import { AudioError } from './errors.ts';

export const SAMPLE_RATE = 24000;
export const FRAME_SAMPLES = 1920;
export const FRAME_MS = 80;

export interface FrameSplit {
  /** Independent copies, each FRAME_SAMPLES long; mutating one never touches the signal. */
  readonly frames: Float32Array[];
  /** Zeros appended to the last frame (0 when the signal is a whole number of frames). */
  readonly paddedSamples: number;
  /** Length of the original signal, for joinFrames to trim back to. */
  readonly totalSamples: number;
}

/** Number of frames a signal of `samples` samples occupies (the last one possibly padded). */
export function frameCount(samples: number): number {
  return Math.ceil(samples / FRAME_SAMPLES);
}

export function splitFrames(signal: Float32Array): FrameSplit {
  if (!(signal instanceof Float32Array)) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', 'splitFrames needs a Float32Array');
  const count = frameCount(signal.length);
  const frames: Float32Array[] = [];
  for (let f = 0; f < count; f++) {
    const frame = new Float32Array(FRAME_SAMPLES); // zero-filled, which pads the last one
    frame.set(signal.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
    frames.push(frame);
  }
  return { frames, paddedSamples: count * FRAME_SAMPLES - signal.length, totalSamples: signal.length };
}

/**
 * Concatenates frames (each validated) into one signal, trimmed to `totalSamples` when given
 * (pass FrameSplit.totalSamples to undo the padding of splitFrames).
 */
export function joinFrames(frames: readonly Float32Array[], totalSamples?: number): Float32Array {
  frames.forEach((f, i) => validateFrame(f, `frame ${i}`));
  const full = frames.length * FRAME_SAMPLES;
  const length = totalSamples ?? full;
  // Only the last frame may be trimmed: anything else means the count belongs to another signal.
  const lowest = frames.length === 0 ? 0 : full - FRAME_SAMPLES + 1;
  if (!Number.isInteger(length) || length < lowest || length > full) {
    throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `totalSamples ${totalSamples} does not fit ${frames.length} frame(s) (expected ${lowest}..${full})`);
  }
  const out = new Float32Array(length);
  frames.forEach((f, i) => out.set(f.subarray(0, Math.min(FRAME_SAMPLES, length - i * FRAME_SAMPLES)), i * FRAME_SAMPLES));
  return out;
}

/** Throws AudioError unless `frame` is a Float32Array of exactly 1920 finite samples. */
export function validateFrame(frame: unknown, label = 'frame'): asserts frame is Float32Array {
  if (!(frame instanceof Float32Array)) {
    const got = frame === null ? 'null' : Array.isArray(frame) ? 'an Array' : typeof frame === 'object' ? (frame.constructor?.name ?? 'an object') : typeof frame;
    throw new AudioError('AUDIO_ERR_BAD_FRAME', `${label} must be a Float32Array, got ${got}`);
  }
  if (frame.length !== FRAME_SAMPLES) {
    throw new AudioError('AUDIO_ERR_BAD_FRAME', `${label} has ${frame.length} samples; a frame is ${FRAME_SAMPLES} (80 ms at 24 kHz)`);
  }
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const x = frame[i]!;
    // x - x is 0 for finite x and NaN for NaN/±Inf: one comparison catches both.
    if (x - x !== 0) throw new AudioError('AUDIO_ERR_NON_FINITE', `${label} sample ${i} is ${x}`, { index: i });
  }
}
