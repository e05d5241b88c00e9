// What the load-test clients say: a WAV (any rate, any channel count: downmixed and
// resampled to 24 kHz mono, and the conversion is reported), the client side (input.wav) of
// recorded sessions, or by default the speech the fixture session was recorded from.
// Each input is cut into 80 ms frames and repeated to fill the run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FRAME_MS, splitFrames } from '../../src/audio/frames.ts';
import { toMono24k } from '../../src/audio/resample.ts';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { LoadtestError } from './errors.ts';

export const DEFAULT_INPUT = new URL('../../fixtures/audio/hello.wav', import.meta.url).pathname;

export interface ClientInput {
  readonly name: string;
  /** 1920-sample frames of the source, once (a client loops over them). */
  readonly frames: readonly Float32Array[];
  /** How the source was converted ("already 24000 Hz mono", "resampled 16000 → 24000 Hz"…). */
  readonly conversion: string;
}

/** A WAV as 80 ms frames; a file that is not a usable WAV is LOADTEST_ERR_WAV naming why. */
export function wavInput(path: string, name = basename(path)): ClientInput {
  let wav;
  try {
    wav = readWavSync(path);
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new LoadtestError('LOADTEST_ERR_WAV', `--in ${path}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
  }
  if (wav.channels.length === 0 || wav.channels[0]!.length === 0) throw new LoadtestError('LOADTEST_ERR_WAV', `--in ${path}: no audio samples`);
  let mono;
  try {
    mono = toMono24k(wav.channels, wav.sampleRate);
  } catch (err) {
    throw new LoadtestError('LOADTEST_ERR_WAV', `--in ${path}: cannot convert ${wav.sampleRate} Hz × ${wav.channels.length} channels to 24 kHz mono: ${(err as Error).message}`);
  }
  const { frames } = splitFrames(mono.samples);
  if (frames.length === 0) throw new LoadtestError('LOADTEST_ERR_WAV', `--in ${path}: shorter than one ${FRAME_MS} ms frame`);
  return { name, frames, conversion: mono.summary };
}

/** The client side of every session folder in DIR (or DIR itself when it is one): their input.wav. */
export function sessionInputs(dir: string): ClientInput[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LoadtestError('LOADTEST_ERR_SESSIONS', `--sessions ${dir}: not a folder`);
  const own = join(dir, 'input.wav');
  const folders = existsSync(own) ? [dir] : readdirSync(dir).sort().map((n) => join(dir, n)).filter((p) => existsSync(join(p, 'input.wav')));
  if (folders.length === 0) throw new LoadtestError('LOADTEST_ERR_SESSIONS', `--sessions ${dir}: no session folder with an input.wav in it (record some with \`solacelive proxy --record\` or \`solacelive serve --record\`)`);
  return folders.map((f) => {
    try {
      return wavInput(join(f, 'input.wav'), basename(f));
    } catch (err) {
      throw new LoadtestError('LOADTEST_ERR_SESSIONS', `--sessions: session ${f}: ${(err as Error).message}`);
    }
  });
}

/** Frame k of a client's stream: the input looped. */
export function frameAt(input: ClientInput, k: number): Float32Array {
  return input.frames[k % input.frames.length]!;
}
