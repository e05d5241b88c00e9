// A fresh session recorded on the Moshi protocol for the viewer and trace tests: the Node
// Moshi client streams the first frames of the hello fixture to /api/chat of a real loopback
// server on the tiny engine (a real child process), with the recorder on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitFrames } from '../../src/audio/frames.ts';
import { toMono24k } from '../../src/audio/resample.ts';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { recordFrames } from '../../harness/record.ts';
import { startEngine } from '../server/live/engine.ts';

export interface MoshiSession {
  readonly path: string;
  readonly frames: number;
  readonly dispose: () => Promise<void>;
}

export async function recordMoshiSession(frames: number, seed = 11): Promise<MoshiSession> {
  const dir = mkdtempSync(join(tmpdir(), 'solacelive-moshi-view-'));
  const engine = await startEngine();
  const dispose = async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const wav = readWavSync(new URL('../../fixtures/audio/hello.wav', import.meta.url).pathname);
    const input = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples).frames.slice(0, frames);
    const rec = await recordFrames(input, { out: join(dir, 'moshi.session'), engine, seed, protocol: 'moshi' });
    return { path: rec.path, frames, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
