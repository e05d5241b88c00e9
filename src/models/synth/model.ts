// Writes a complete synthetic model folder: both configs, both weight files (real key
// layouts) and a model.json that says the weights are untrained.
import { copyFileSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadLmConfig } from '../lm/index.ts';
import { loadMimiConfig } from '../mimi/index.ts';
import { writeSafetensors } from '../safetensors.ts';
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

/** Weight files go in under temporary names first, so a crash never leaves a half file under the real name. */
export function writeSynthModel(o: SynthOptions): { dir: string; bytes: number } {
  const lmCfg = loadLmConfig(o.lmConfig);
  const mimiCfg = loadMimiConfig(o.mimiConfig);
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
