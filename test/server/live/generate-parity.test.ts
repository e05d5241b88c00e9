// The live server and the offline `solacelive generate` command give the same tokens and
// the same samples for the same frames and seed: what a user hears live is what the
// offline pipeline makes of the recording.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { splitFrames } from '../../../src/audio/frames.ts';
import { toMono24k } from '../../../src/audio/resample.ts';
import { connect } from '../../../src/client/connect.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { ensurePreset, TINY } from '../../../src/engine/models.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'fixtures/audio/counting.wav');
const SEED = 4321;
const STEPS = 25;

let engine: EngineHost;
let server: SolaceServer;
let url = '';
beforeAll(async () => {
  engine = new EngineHost({ spec: ensurePreset(TINY), blas: { threads: 1, coreType: null } });
  await engine.start();
  server = createServer({ port: 0 }, engine);
  url = (await server.start()).url;
});
afterAll(async () => {
  await server?.stop();
  await engine?.close();
});

describe('live session vs solacelive generate', () => {
  it('gives the same text tokens and bit-identical audio for the same frames and seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'solacelive-parity-'));
    const wav = readWavSync(FIXTURE);
    const frames = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples).frames.slice(0, STEPS);
    const input = join(dir, 'in.wav');
    const { writeWavSync } = await import('../../../src/audio/wav-file.ts');
    writeWavSync(input, Float32Array.from(frames.flatMap((f) => Array.from(f))), 24000);

    const spec = ensurePreset(TINY);
    const gen = spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'bin/solacelive.mjs'), 'generate',
      '--lm-config', spec.lmConfig, '--lm-weights', spec.lmWeights, '--mimi-config', spec.mimiConfig, '--mimi-weights', spec.mimiWeights,
      '--in', input, '--out', join(dir, 'offline.wav'), '--seed', String(SEED), '--tokens-out', join(dir, 'tokens.json')],
    // The engine pins one BLAS thread; so must the offline run for bit-identical floats.
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    expect(gen.status, gen.stderr).toBe(0);
    const offline = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as { steps: ({ text: number; audio: number[] } | null)[] };
    expect(offline.steps).toHaveLength(STEPS);

    const client = await connect(url, { seed: SEED, sampling: 'default', pace: 'fast' });
    const live = await client.run(frames);
    expect(live.ok).toBe(true);

    // Text: every step's token, as the live partials carry them.
    const liveTokens = new Map(live.partials.map((p) => [p.step, p.token]));
    offline.steps.forEach((s, k) => {
      if (s === null) expect(liveTokens.has(k)).toBe(false);
      else expect(liveTokens.get(k), `step ${k}`).toBe(s.text);
    });
    // Audio: generate's output drops the warm-up step; the live output has silence there.
    const off = readWavSync(join(dir, 'offline.wav')).channels[0]!;
    expect(off.length).toBe((STEPS - 1) * 1920);
    expect(live.audio.subarray(1920, STEPS * 1920)).toEqual(off);
  });
});
