// The input WAV of the commands that stream one (client, record, demo): read, brought to
// 24 kHz mono, cut into 80 ms frames, and described the same way by each, resampling and
// downmixing included, so no command converts a user's audio without saying so.
import { FRAME_MS, splitFrames } from '../audio/frames.ts';
import { toMono24k } from '../audio/resample.ts';
import { readWav } from '../audio/wav-file.ts';

export interface InputAudio {
  readonly frames: Float32Array[];
  /** Samples of the (cut) input at 24 kHz: a reply trimmed to it lines up with the input. */
  readonly totalSamples: number;
  /** `PATH: N frames of 80 ms (S s), resampled 22050 → 24000 Hz` (or `already 24000 Hz mono`). */
  readonly description: string;
}

/** Reads `path`; with `seconds`, only its first S seconds (whole frames). */
export async function readInputAudio(path: string, seconds = Infinity): Promise<InputAudio> {
  const wav = await readWav(path);
  const mono = toMono24k(wav.channels, wav.sampleRate);
  const split = splitFrames(mono.samples);
  const frames = split.frames.slice(0, Math.ceil((seconds * 1000) / FRAME_MS));
  const totalSamples = Math.min(split.totalSamples, frames.length * (split.frames[0]?.length ?? 0));
  const description = `${path}: ${frames.length} frames of ${FRAME_MS} ms (${((frames.length * FRAME_MS) / 1000).toFixed(2)} s), ${mono.summary}`;
  return { frames, totalSamples, description };
}
