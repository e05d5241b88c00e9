// `solacelive generate` end to end (spawned, as a user runs it) on the reference models:
// greedy output audio equals upstream's pipeline_pcm_out (1e-5 × peak) and the tokens
// equal step_out_tokens, for both LM checkpoint layouts; seeded runs repeat.
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWavSync } from '../../../src/audio/index.ts';
import { floats, goldens, ints, LM_CONFIG, LM_MLX, LM_PT, REF, relErr, TOL } from './helpers.ts';

const bin = fileURLToPath(new URL('../../../bin/solacelive.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'solacelive-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const g = goldens(['pipeline_pcm_out', 'step_out_tokens', 'step_out_returned']);

function generate(lmWeights: string, name: string, extra: string[]) {
  const out = join(dir, `${name}.wav`);
  const tokens = join(dir, `${name}.json`);
  const r = spawnSync(process.execPath, [bin, 'generate', '--lm-config', LM_CONFIG, '--lm-weights', lmWeights,
    '--mimi-config', `${REF}mimi_config.json`, '--mimi-weights', `${REF}mimi.safetensors`,
    '--in', `${REF}input.wav`, '--out', out, '--tokens-out', tokens, ...extra], { encoding: 'utf8' });
  return { ...r, out, tokens };
}

function generateAsync(lmWeights: string, name: string, extra: string[]): Promise<{ status: number | null; stderr: string; out: string; tokens: string }> {
  const out = join(dir, `${name}.wav`);
  const tokens = join(dir, `${name}.json`);
  const p = spawn(process.execPath, [bin, 'generate', '--lm-config', LM_CONFIG, '--lm-weights', lmWeights,
    '--mimi-config', `${REF}mimi_config.json`, '--mimi-weights', `${REF}mimi.safetensors`,
    '--in', `${REF}input.wav`, '--out', out, '--tokens-out', tokens, ...extra]);
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stderr, out, tokens })));
}

type Steps = ({ text: number; audio: number[] } | null)[];

describe('solacelive generate', () => {
  it.each([
    ['moshi_mlx', LM_MLX],
    ['pytorch', LM_PT],
  ])('greedy, %s LM weights: PCM and tokens equal upstream LMGen + Mimi', (layout, weights) => {
    const r = generate(weights, `greedy-${layout}`, ['--greedy']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`LM ${layout} float32; greedy`);
    const wav = readWavSync(r.out);
    expect(wav.sampleRate).toBe(24000);
    expect(wav.format).toBe('float32');
    const e = relErr(wav.channels[0]!, floats(g.get('pipeline_pcm_out')!));
    expect(e.rel, `pipeline_pcm_out max |Δ| ${e.maxAbs} at peak ${e.peak}`).toBeLessThanOrEqual(TOL);
    const tokens = JSON.parse(readFileSync(r.tokens, 'utf8')) as { format: string; steps: Steps };
    expect(tokens.format).toBe('solacelive.tokens/1');
    const want = ints(g.get('step_out_tokens')!);
    const returned = ints(g.get('step_out_returned')!);
    expect(tokens.steps).toEqual(returned.map((ok, t) => (ok ? { text: want[9 * t]!, audio: want.slice(9 * t + 1, 9 * t + 9) } : null)));
  });

  it('seeded sampling gives the same tokens on every run, and another seed other tokens', async () => {
    const [a, b, c] = await Promise.all([generateAsync(LM_MLX, 'seed7a', ['--seed', '7']), generateAsync(LM_MLX, 'seed7b', ['--seed', '7']), generateAsync(LM_MLX, 'seed8', ['--seed', '8'])]);
    for (const r of [a, b, c]) expect(r.status, r.stderr).toBe(0);
    const steps = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { steps: Steps }).steps;
    expect(steps(b.tokens)).toEqual(steps(a.tokens));
    expect(steps(c.tokens)).not.toEqual(steps(a.tokens));
    expect(readFileSync(b.out).equals(readFileSync(a.out))).toBe(true);
  });

  it('refuses --seed with --greedy and names a missing option', () => {
    const r = spawnSync(process.execPath, [bin, 'generate', '--greedy', '--seed', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--lm-config, .* are required \(or --model M for all four\)|exclude each other/);
  });
});
