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
import { loadLm } from '../../src/models/lm/weights.ts';
import { loadMimiConfig } from '../../src/models/mimi/config.ts';
import { Mimi, MimiError } from '../../src/models/mimi/index.ts';
import { loadMimiWeights } from '../../src/models/mimi/weights.ts';
import { readTensors, WeightsError, writeSafetensors, type SafetensorsDtype, type TensorToWrite } from '../../src/models/safetensors.ts';
import { checkWeightValues, MAX_WEIGHT_MAGNITUDE } from '../../src/models/weights.ts';
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

  it('checks BF16, F16 and quantized checkpoints by their own bit patterns', () => {
    const half = (dtype: SafetensorsDtype, bits: (i: number) => number) => corrupt(spec.lmWeights, `lm-${dtype}-${bits(0)}.safetensors`, (n, t) => {
      const f = t.data as Float32Array;
      // Valid half values: bf16 = upper half of the float32; f16 = 1.0 (0x3c00) everywhere.
      const data = Uint16Array.from(f, (x, i) => (n === 'text_emb.weight' && i === 2 ? bits(i) : dtype === 'BF16' ? new Uint32Array(Float32Array.of(x).buffer)[0]! >>> 16 : 0x3c00));
      return { dtype, shape: t.shape, data };
    });
    expect(() => checkWeightValues(readSafetensorsHeader(half('BF16', () => 0x3f80)))).not.toThrow(); // 1.0
    expect(errorOf(() => loadTinyLm(half('BF16', () => 0x7fc0))).message).toMatch(/text_emb\.weight \(BF16\[.*element 2 \[0,2\] is NaN/);
    expect(errorOf(() => loadTinyLm(half('BF16', () => 0xff80))).message).toMatch(/element 2 \[0,2\] is -Infinity/);
    expect(errorOf(() => loadTinyLm(half('BF16', () => 0x5f80))).message).toMatch(/element 2 \[0,2\] is 1\.844674e\+19/);
    expect(errorOf(() => loadTinyLm(half('F16', () => 0x7c00))).message).toMatch(/text_emb\.weight \(F16\[.*element 2 \[0,2\] is Infinity/);
    // Quantized: packed U32 words are not values; their bf16 scales are.
    const q = corrupt(spec.lmWeights, 'lm-q.safetensors', (n, t) => t);
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of readTensors(q)) tensors[name] = { dtype: t.dtype, shape: t.shape, data: t.data };
    const [rows, cols] = tensors['text_linear.weight']!.shape as [number, number];
    tensors['text_linear.weight'] = { dtype: 'U32', shape: [rows, cols / 8], data: new Uint32Array((rows * cols) / 8).fill(0xffffffff) };
    const scales = new Uint16Array((rows * cols) / 32).fill(0x3c00 >> 0 ? 0x3f80 : 0);
    tensors['text_linear.scales'] = { dtype: 'BF16', shape: [rows, cols / 32], data: scales };
    tensors['text_linear.biases'] = { dtype: 'BF16', shape: [rows, cols / 32], data: new Uint16Array((rows * cols) / 32) };
    writeSafetensors(join(dir, 'lm-q4-ok.safetensors'), tensors);
    expect(() => checkWeightValues(readSafetensorsHeader(join(dir, 'lm-q4-ok.safetensors')))).not.toThrow();
    scales[9] = 0xffc0;
    writeSafetensors(join(dir, 'lm-q4-nan.safetensors'), tensors);
    expect(errorOf(() => loadTinyLm(join(dir, 'lm-q4-nan.safetensors'))).message).toMatch(/tensor text_linear\.scales \(BF16\[.*element 9 .* is NaN/);
    tensors['text_linear.weight'] = { ...tensors['text_linear.weight']!, dtype: 'I32' };
    writeSafetensors(join(dir, 'lm-q4-i32.safetensors'), tensors);
    expect(errorOf(() => loadTinyLm(join(dir, 'lm-q4-i32.safetensors'))).message).toMatch(/text_linear\.weight is I32; expected U32 \(packed quantized weights\)/);
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
