// Bad weights are refused at load, by both loaders alike, with a typed error naming the
// tensor and its first bad element: NaN/±Inf/huge values (F32, BF16, F16, quantized
// scales) and a float tensor relabelled as integers. Files are the real synthetic tiny
// weights (real key names) with one tensor corrupted; the CLI runs as a user runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWavSync } from '../../src/audio/index.ts';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { loadLmConfig } from '../../src/models/lm/config.ts';
import { LmGen, LmGenError } from '../../src/models/lm/generate.ts';
import { loadLm } from '../../src/models/lm/weights.ts';
import { loadMimiConfig } from '../../src/models/mimi/config.ts';
import { Mimi, MimiError } from '../../src/models/mimi/index.ts';
import { loadMimiWeights } from '../../src/models/mimi/weights.ts';
import { readTensors, WeightsError, writeSafetensors, type SafetensorsDtype, type TensorToWrite } from '../../src/models/safetensors.ts';
import { checkWeightValues, MAX_WEIGHT_MAGNITUDE } from '../../src/models/weight-checks.ts';
import { loadSafetensors } from '../../src/models/weights.ts';
import { readSafetensorsHeader } from '../../src/models/safetensors.ts';
import { CliProcesses } from '../cli-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'weight-values-'));
const cli = new CliProcesses();
let spec: ModelSpec;
let wav: string;
beforeAll(() => {
  spec = ensurePreset(TINY);
  wav = join(dir, 'in.wav');
  writeWavSync(wav, [Float32Array.from({ length: 24000 / 2 }, (_, i) => 0.2 * Math.sin(i / 9))], 24000, { format: 'pcm16' });
});
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

type Edit = (name: string, t: TensorToWrite) => TensorToWrite;

/** Copies a checkpoint with `edit` applied to every tensor (return t unchanged to keep it). */
function corrupt(src: string, out: string, edit: Edit): string {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of readTensors(src)) tensors[name] = edit(name, { dtype: t.dtype, shape: t.shape, data: t.data });
  writeSafetensors(join(dir, out), tensors);
  return join(dir, out);
}

function setF32(t: TensorToWrite, at: number, v: number | 'all'): TensorToWrite {
  const data = Float32Array.from(t.data as Float32Array);
  if (v === 'all') data.fill(NaN);
  else data[at] = v;
  return { ...t, data };
}

function errorOf(fn: () => unknown): WeightsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeightsError);
    return err as WeightsError;
  }
  throw new Error('expected a WeightsError');
}

const loadTinyLm = (path: string) => loadLm(loadLmConfig(spec.lmConfig), path);
const loadTinyMimi = (path: string) => loadMimiWeights(path, loadMimiConfig(spec.mimiConfig));

describe('weight values at load', () => {
  it('Mimi: a NaN in a decoder bias and in an encoder weight are refused, naming tensor and element', () => {
    const bias = corrupt(spec.mimiWeights, 'mimi-nan-bias.safetensors', (n, t) => (n === 'decoder.model.0.conv.conv.bias' ? setF32(t, 5, NaN) : t));
    const e1 = errorOf(() => loadTinyMimi(bias));
    expect(e1.code).toBe('WEIGHTS_ERR_VALUES');
    expect(e1.message).toMatch(/tensor decoder\.model\.0\.conv\.conv\.bias \(F32\[\d+\]\): element 5 \[5\] is NaN/);
    const enc = corrupt(spec.mimiWeights, 'mimi-nan-enc.safetensors', (n, t) => (n === 'encoder.model.0.conv.conv.weight' ? setF32(t, 7, NaN) : t));
    expect(errorOf(() => loadTinyMimi(enc)).message).toMatch(/encoder\.model\.0\.conv\.conv\.weight .*element 7 \[1,0,0\] is NaN/);
  });

  it('LM: NaN, Infinity and 3e38 are refused; an F32 tensor relabelled I32 is refused as the Mimi loader refuses it', () => {
    for (const [label, v] of [['nan', 'all'], ['inf', -Infinity], ['huge', 3e38]] as const) {
      const p = corrupt(spec.lmWeights, `lm-${label}.safetensors`, (n, t) => (n === 'text_linear.weight' ? setF32(t, 3, v) : t));
      const e = errorOf(() => loadTinyLm(p));
      expect(e.code).toBe('WEIGHTS_ERR_VALUES');
      expect(e.message).toMatch(new RegExp(`tensor text_linear\\.weight .*element ${v === 'all' ? 0 : 3} \\[0,${v === 'all' ? 0 : 3}\\] is ${v === 'all' ? 'NaN' : v === 3e38 ? '3e\\+38' : '-Infinity'}`));
    }
    const relabel: Edit = (n, t) => (n === 'out_norm.weight' || n === 'decoder.model.0.conv.conv.bias' ? { ...t, dtype: 'I32' } : t);
    const lm = errorOf(() => loadTinyLm(corrupt(spec.lmWeights, 'lm-i32.safetensors', relabel)));
    const mimi = errorOf(() => loadTinyMimi(corrupt(spec.mimiWeights, 'mimi-i32.safetensors', relabel)));
    expect([lm.code, mimi.code]).toEqual(['WEIGHTS_ERR_DTYPE', 'WEIGHTS_ERR_DTYPE']);
    expect(lm.message).toMatch(/tensor out_norm\.weight is I32; expected a floating-point dtype/);
    expect(mimi.message).toMatch(/tensor decoder\.model\.0\.conv\.conv\.bias is I32/);
  });

  it('the bound is |x| < 2^64: the largest float32 below it loads, 2^64 itself does not', () => {
    const below = Math.fround(MAX_WEIGHT_MAGNITUDE * (1 - 2 ** -24));
    expect(below).toBeLessThan(MAX_WEIGHT_MAGNITUDE);
    const one = (v: number) => corrupt(spec.lmWeights, `lm-bound-${v}.safetensors`, (n, t) => (n === 'out_norm.weight' ? setF32(t, 0, v) : t));
    expect(() => checkWeightValues(readSafetensorsHeader(one(-below)))).not.toThrow();
    expect(errorOf(() => checkWeightValues(readSafetensorsHeader(one(-MAX_WEIGHT_MAGNITUDE)))).code).toBe('WEIGHTS_ERR_VALUES');
  });

  it('checks BF16, F16 and quantized checkpoints by their own bit patterns (through the loader both models share)', () => {
    // Small files with real LM key names: the value check is per dtype, not per model.
    const file = (name: string, tensors: Record<string, TensorToWrite>) => {
      writeSafetensors(join(dir, name), tensors);
      return join(dir, name);
    };
    const half = (dtype: SafetensorsDtype, bad: number) => file(`${dtype}-${bad}.safetensors`, {
      'text_emb.weight': { dtype, shape: [4, 8], data: Uint16Array.from({ length: 32 }, (_, i) => (i === 10 ? bad : dtype === 'BF16' ? 0x3f80 : 0x3c00)) },
      'out_norm.weight': { dtype: 'F32', shape: [8], data: new Float32Array(8).fill(1) },
    });
    expect(() => loadSafetensors(half('BF16', 0x4000))).not.toThrow(); // 2.0
    expect(errorOf(() => loadSafetensors(half('BF16', 0x7fc0))).message).toMatch(/text_emb\.weight \(BF16\[4,8\]\): element 10 \[1,2\] is NaN/);
    expect(errorOf(() => loadSafetensors(half('BF16', 0xff80))).message).toMatch(/element 10 \[1,2\] is -Infinity/);
    expect(errorOf(() => loadSafetensors(half('BF16', 0x5f80))).message).toMatch(/element 10 \[1,2\] is 1\.844674e\+19/);
    expect(() => loadSafetensors(half('F16', 0x7bff))).not.toThrow(); // 65504, the largest f16
    expect(errorOf(() => loadSafetensors(half('F16', 0x7c00))).message).toMatch(/text_emb\.weight \(F16\[4,8\]\): element 10 \[1,2\] is Infinity/);
    expect(errorOf(() => loadSafetensors(half('F16', 0xfe00))).message).toMatch(/element 10 \[1,2\] is NaN/);
    // Quantized (q4, group 32): packed U32 words are not values (all ones is fine); the bf16 scales are.
    const quant = (scale: number, weightDtype: SafetensorsDtype = 'U32') => file(`q-${scale}-${weightDtype}.safetensors`, {
      'text_linear.weight': { dtype: weightDtype, shape: [4, 8], data: new Uint32Array(32).fill(0xffffffff) },
      'text_linear.scales': { dtype: 'BF16', shape: [4, 2], data: Uint16Array.from({ length: 8 }, (_, i) => (i === 5 ? scale : 0x3f80)) },
      'text_linear.biases': { dtype: 'BF16', shape: [4, 2], data: new Uint16Array(8) },
    });
    expect(() => loadSafetensors(quant(0x3f80))).not.toThrow();
    expect(errorOf(() => loadSafetensors(quant(0xffc0))).message).toMatch(/tensor text_linear\.scales \(BF16\[4,2\]\): element 5 \[2,1\] is NaN/);
    expect(errorOf(() => loadSafetensors(quant(0x3f80, 'I32'))).message).toMatch(/text_linear\.weight is I32; expected U32 \(packed quantized weights\)/);
    expect(errorOf(() => loadSafetensors(file('f64.safetensors', { 'out_norm.weight': { dtype: 'F64', shape: [1], data: Float64Array.of(1) } }))).code).toBe('WEIGHTS_ERR_DTYPE');
  });
});

describe('finite weights that overflow together', () => {
  it('Mimi refuses to return NaN audio from decodeStep (MIMI_ERR_NON_FINITE_OUTPUT), not a WAV of NaN', () => {
    // 1e18 passes the load bound, but two such convolutions in a row exceed float32.
    const p = corrupt(spec.mimiWeights, 'mimi-overflow.safetensors', (n, t) => (/^decoder\.model\.\d+\.(conv\.conv|convtr\.convtr)\.weight$/.test(n) ? { ...t, data: new Float32Array((t.data as Float32Array).length).fill(1e18) } : t));
    const mimi = new Mimi(loadMimiConfig(spec.mimiConfig));
    mimi.loadWeights(p);
    let err: unknown;
    try {
      for (let t = 0; t < 5; t++) mimi.decodeStep(Array.from({ length: mimi.numCodebooks }, (_, k) => (7 * t + 3 * k) % 256));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MimiError);
    expect((err as MimiError).code).toBe('MIMI_ERR_NON_FINITE_OUTPUT');
  });

  it('Mimi refuses to encode through an overflowing encoder (codes were all 0, exit 0)', async () => {
    const p = corrupt(spec.mimiWeights, 'mimi-enc-overflow.safetensors', (n, t) => (/^encoder\.model\.\d+\.conv\.conv\.weight$/.test(n) ? { ...t, data: new Float32Array((t.data as Float32Array).length).fill(1e18) } : t));
    const r = await cli.run(['codec', 'encode', '--config', spec.mimiConfig, '--weights', p, '--in', wav, '--out', join(dir, 'enc-ovf.json')], 60_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\[MIMI_ERR_NON_FINITE_OUTPUT\] encodeStep: the encoder latent is NaN\/Inf/);
  });
});

describe('finite LM weights that overflow together', () => {
  it('LmGen.step refuses NaN hidden state/logits (LM_ERR_NON_FINITE) instead of emitting constant tokens', async () => {
    const p = corrupt(spec.lmWeights, 'lm-overflow.safetensors', (n, t) => (/^transformer\.layers\.\d+\.gating\.linear_(in|out)\.weight$/.test(n) ? { ...t, data: new Float32Array((t.data as Float32Array).length).fill(1e18) } : t));
    const { lm } = loadTinyLm(p);
    const gen = new LmGen(lm, { seed: 1 });
    let err: unknown;
    try {
      for (let t = 0; t < 3; t++) gen.step(new Array(gen.userCodebooks).fill(5));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LmGenError);
    expect((err as LmGenError).code).toBe('LM_ERR_NON_FINITE');
  });
});

describe('bad weights through the CLI: a coded error and exit 1, never an abort or silent output', () => {
  it('codec encode and roundtrip with a NaN in Mimi (decoder bias, encoder weight)', async () => {
    const bias = corrupt(spec.mimiWeights, 'cli-mimi-bias.safetensors', (n, t) => (n === 'decoder.model.0.conv.conv.bias' ? setF32(t, 0, NaN) : t));
    const enc = corrupt(spec.mimiWeights, 'cli-mimi-enc.safetensors', (n, t) => (n === 'encoder.model.0.conv.conv.weight' ? setF32(t, 0, NaN) : t));
    const runs = await Promise.all([
      cli.run(['codec', 'encode', '--config', spec.mimiConfig, '--weights', bias, '--in', wav, '--out', join(dir, 'c1.json')], 60_000),
      cli.run(['codec', 'roundtrip', '--config', spec.mimiConfig, '--weights', enc, '--in', wav, '--out', join(dir, 'c2.wav')], 60_000),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/\[WEIGHTS_ERR_VALUES\] .*coder\.model\.0\.conv\.conv\.(bias|weight) .*element 0 .* is NaN/);
    }
  });

  it('generate with LM weights holding 3e38, and with a tensor relabelled I32', async () => {
    const huge = corrupt(spec.lmWeights, 'cli-lm-huge.safetensors', (n, t) => (n === 'out_norm.weight' ? setF32(t, 1, 3e38) : t));
    const i32 = corrupt(spec.lmWeights, 'cli-lm-i32.safetensors', (n, t) => (n === 'out_norm.weight' ? { ...t, dtype: 'I32' } : t));
    const gen = (w: string, out: string) => cli.run(['generate', '--lm-config', spec.lmConfig, '--lm-weights', w, '--mimi-config', spec.mimiConfig,
      '--mimi-weights', spec.mimiWeights, '--in', wav, '--out', join(dir, out), '--greedy'], 60_000);
    const [a, b] = await Promise.all([gen(huge, 'g1.wav'), gen(i32, 'g2.wav')]);
    expect(a.code, a.stderr).toBe(1);
    expect(a.stderr).toMatch(/\[WEIGHTS_ERR_VALUES\] .*out_norm\.weight .*element 1 \[1\] is 3e\+38/);
    expect(b.code, b.stderr).toBe(1);
    expect(b.stderr).toMatch(/\[WEIGHTS_ERR_DTYPE\] .*out_norm\.weight is I32/);
  });
});
