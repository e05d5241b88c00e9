// Writes a complete synthetic model folder: both configs, both weight files (real key
// layouts) and a model.json that says the weights are untrained.
import { copyFileSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { loadLmConfig } from '../lm/index.ts';
import { loadMimiConfig } from '../mimi/index.ts';
import { expectedShapes } from '../lm/weights.ts';
import { expectedCheckpointKeys } from '../mimi/weights.ts';
import { WeightsError, writeSafetensors } from '../safetensors.ts';
import { synthLmTensors, synthMimiTensors } from './weights.ts';

export interface SynthOptions {
  readonly name: string;
  readonly lmConfig: string;
  readonly mimiConfig: string;
  readonly seed: number;
  readonly outDir: string;
}

export const LM_WEIGHTS_FILE = 'model.safetensors';
export const MIMI_WEIGHTS_FILE = 'mimi.safetensors';

/**
 * Synthesis builds each file in memory (float32), so a config whose weights exceed half
 * the machine's memory is refused up front: moshi_7b_202409 (~30 GB) otherwise ran until
 * the process was killed. Seeds are 32-bit (the PRNG's state): -1 and 2^32 would silently
 * give the bytes of 4294967295 and 0.
 */
export function checkSynthRequest(lmCfg: ReturnType<typeof loadLmConfig>, mimiCfg: ReturnType<typeof loadMimiConfig>, seed: number, memory = totalmem()): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`synth: seed must be an integer in 0..${0xffffffff} (got ${seed})`);
  let elements = 0;
  for (const s of expectedShapes(lmCfg).values()) elements += s.reduce((a, b) => a * b, 1);
  for (const e of expectedCheckpointKeys(mimiCfg).values()) elements += e.shape.reduce((a, b) => a * b, 1);
  const bytes = 4 * elements;
  if (bytes > memory / 2) {
    throw new WeightsError('WEIGHTS_ERR_SIZE', `synthetic weights for these configs would be ${(bytes / 1e9).toFixed(1)} GB of float32, more than half this machine's ${(memory / 1e9).toFixed(1)} GB of memory; synthesize a smaller config`);
  }
  return bytes;
}

/** Weight files go in under temporary names first, so a crash never leaves a half file under the real name. */
export function writeSynthModel(o: SynthOptions): { dir: string; bytes: number } {
  const lmCfg = loadLmConfig(o.lmConfig);
  const mimiCfg = loadMimiConfig(o.mimiConfig);
  checkSynthRequest(lmCfg, mimiCfg, o.seed);
  mkdirSync(o.outDir, { recursive: true });
  const meta = { format: 'pt', naming: 'solacelive-synthetic', seed: String(o.seed), untrained: 'true' };
  const tmp = (f: string) => join(o.outDir, `.${f}.partial`);
  writeSafetensors(tmp(LM_WEIGHTS_FILE), synthLmTensors(lmCfg, o.seed), { ...meta, layout: 'moshi_mlx' });
  writeSafetensors(tmp(MIMI_WEIGHTS_FILE), synthMimiTensors(mimiCfg, o.seed), { ...meta, layout: 'pytorch-checkpoint' });
  renameSync(tmp(LM_WEIGHTS_FILE), join(o.outDir, LM_WEIGHTS_FILE));
  renameSync(tmp(MIMI_WEIGHTS_FILE), join(o.outDir, MIMI_WEIGHTS_FILE));
  const lmCfgName = `lm_${basename(o.lmConfig)}`;
  const mimiCfgName = `mimi_${basename(o.mimiConfig)}`.replace(/^mimi_mimi_/, 'mimi_');
  copyFileSync(o.lmConfig, join(o.outDir, lmCfgName));
  copyFileSync(o.mimiConfig, join(o.outDir, mimiCfgName));
  const model = {
    name: o.name,
    untrained: true,
    note: 'Seeded synthetic weights in the real checkpoint layouts: the real architecture, UNTRAINED. Its audio and text are noise, useful for timing, protocol and replay work only.',
    seed: o.seed,
    lm_config: lmCfgName,
    lm_weights: LM_WEIGHTS_FILE,
    mimi_config: mimiCfgName,
    mimi_weights: MIMI_WEIGHTS_FILE,
    tokenizer: null,
  };
  writeFileSync(join(o.outDir, 'model.json'), `${JSON.stringify(model, null, 2)}\n`);
  const bytes = [LM_WEIGHTS_FILE, MIMI_WEIGHTS_FILE].reduce((n, f) => n + statSync(join(o.outDir, f)).size, 0);
  return { dir: o.outDir, bytes };
}
