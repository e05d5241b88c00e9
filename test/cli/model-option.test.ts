// `codec` and `generate` take a model as `serve --model` does (tiny, a model folder), and
// weights run against the wrong config give a short error that names the config they do
// fit and the flag to pass, instead of kilobytes of key names (real CLI, real files).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWavSync } from '../../src/audio/index.ts';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { CliProcesses } from '../cli-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'model-option-'));
const cli = new CliProcesses();
let spec: ModelSpec;
let wav: string;
beforeAll(() => {
  spec = ensurePreset(TINY);
  wav = join(dir, 'in.wav');
  writeWavSync(wav, [Float32Array.from({ length: 6000 }, (_, i) => 0.2 * Math.sin(i / 7))], 24000, { format: 'pcm16' });
});
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('--model for codec and generate', () => {
  it('codec roundtrip --model tiny and codec encode --model <folder> run the tiny Mimi, saying it is untrained', async () => {
    const [a, b] = await Promise.all([
      cli.run(['codec', 'roundtrip', '--model', 'tiny', '--in', wav, '--out', join(dir, 'rt.wav')], 60_000),
      cli.run(['codec', 'encode', '--model', dirname(spec.mimiWeights), '--in', wav, '--out', join(dir, 'c.json')], 60_000),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/UNTRAINED/);
    expect(a.stderr).toMatch(/wrote .*rt\.wav: 6000 samples/);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/4 frames × 8 codebooks/);
  });

  it('generate --model tiny needs no path flags; mixing --model with them is a usage error', async () => {
    const [g, mixed, none] = await Promise.all([
      cli.run(['generate', '--model', 'tiny', '--in', wav, '--out', join(dir, 'g.wav'), '--greedy'], 90_000),
      cli.run(['generate', '--model', 'tiny', '--lm-weights', spec.lmWeights, '--in', wav, '--out', join(dir, 'g2.wav')], 30_000),
      cli.run(['generate', '--in', wav, '--out', join(dir, 'g3.wav')], 30_000),
    ]);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).toMatch(/UNTRAINED[^]*LM moshi_mlx float32; greedy[^]*wrote .*g\.wav/);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--model names every model file: drop --lm-weights/);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--lm-config, --lm-weights, --mimi-config, --mimi-weights are required \(or --model M for all four\)/);
  });
});

describe('weights that fit another config', () => {
  it('codec with tiny weights and the default (real-size) config: a short error naming the config they fit', async () => {
    const r = await cli.run(['codec', 'roundtrip', '--weights', spec.mimiWeights, '--in', wav, '--out', join(dir, 'x.wav')], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[WEIGHTS_ERR_KEYS\] .*missing \(\d+\): [^;]*…; mis-shaped \(\d+\)/);
    expect(r.stderr).toMatch(/do not fit the config \S*mimi_202407\.json but look like config tiny \(\S*mimi_tiny\.json\): pass --config tiny/);
    expect(r.stderr.length).toBeLessThan(1200);
    // And the suggestion works as printed.
    const ok = await cli.run(['codec', 'roundtrip', '--weights', spec.mimiWeights, '--config', 'tiny', '--in', wav, '--out', join(dir, 'y.wav')], 60_000);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('generate with tiny LM weights and the 7B config names --lm-config tiny', async () => {
    const r = await cli.run(['generate', '--lm-config', 'moshi_7b_202409', '--lm-weights', spec.lmWeights, '--mimi-config', spec.mimiConfig,
      '--mimi-weights', spec.mimiWeights, '--in', wav, '--out', join(dir, 'z.wav')], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[WEIGHTS_ERR_KEYS\] .*look like config tiny \(\S*tiny\.json\): pass --lm-config tiny/);
    expect(r.stderr.length).toBeLessThan(1200);
  });
});

describe('bad model folders and sampling options (siblings)', () => {
  it('a model.json that is not an object is a coded error, not a raw TypeError; bad sampling is a usage error before any load', async () => {
    const bad = join(dir, 'bad-model');
    mkdirSync(bad);
    writeFileSync(join(bad, 'model.json'), 'null\n');
    const [m, topk, temp] = await Promise.all([
      cli.run(['codec', 'encode', '--model', bad, '--in', wav, '--out', join(dir, 'n.json')], 30_000),
      cli.run(['generate', '--model', 'tiny', '--in', wav, '--out', join(dir, 'n.wav'), '--text-topk=-3'], 30_000),
      cli.run(['generate', '--model', 'tiny', '--in', wav, '--out', join(dir, 'n.wav'), '--audio-temp', '1e9'], 30_000),
    ]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/\[ENGINE_ERR_LOAD\] .*model\.json: must be a JSON object/);
    expect(topk.code).toBe(2);
    expect(topk.stderr).toMatch(/--text-temp\/--text-topk: text top-k must be a non-negative integer \(got -3\)/);
    expect(temp.code).toBe(2);
    expect(temp.stderr).toMatch(/audio temperature must be a number in 0\.\.100/);
  });
});

