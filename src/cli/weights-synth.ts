// `solacelive weights synth`: seeded synthetic weights in the real checkpoint layouts.
import { resolve } from 'node:path';
import { TINY } from '../engine/models.ts';
import { writeSynthModel } from '../models/synth/model.ts';
import { intOption, parseCommandArgs, requireOption, UsageError } from './args.ts';

export const SYNTH_HELP = [
  'usage: solacelive weights synth --out DIR [--config tiny | --lm-config LM.json --mimi-config MIMI.json] [--seed N] [--name NAME]',
  '',
  'Writes a model folder with seeded random weights in the real checkpoint layouts (the LM',
  'as moshi_mlx model.safetensors, Mimi as the PyTorch tokenizer checkpoint), both configs',
  'and a model.json, loadable with `--model DIR`. The same seed and configs give the same',
  'bytes on any machine. The weights are UNTRAINED: the model runs the real architecture',
  'but its audio and text are noise — for timing, protocol and replay work, not speech.',
  '',
  `  --config tiny      the built-in tiny preset (configs/tiny.json + configs/mimi_tiny.json, seed ${TINY.seed})`,
  '  --lm-config F      LM config in Kyutai config.json layout',
  '  --mimi-config F    Mimi config in upstream get_mimi layout',
  '  --seed N           random seed, 0..4294967295 (default: the preset\'s, else 0)',
  '  --name NAME        model name recorded in model.json',
  '  --out DIR          where to write (created)',
].join('\n');

export async function runSynth(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    'lm-config': { type: 'string' },
    'mimi-config': { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
  }, true);
  const out = resolve(requireOption(values, 'out'));
  let lmConfig: string;
  let mimiConfig: string;
  let seed: number;
  let name: string;
  if (values.config !== undefined) {
    if (values.config !== 'tiny') throw new UsageError(`--config: unknown preset '${values.config}' (known: tiny)`);
    if (values['lm-config'] || values['mimi-config']) throw new UsageError('--config tiny and --lm-config/--mimi-config are exclusive');
    ({ lmConfig, mimiConfig } = TINY);
    seed = intOption(values, 'seed', TINY.seed);
    name = values.name ?? TINY.name;
  } else {
    lmConfig = requireOption(values, 'lm-config');
    mimiConfig = requireOption(values, 'mimi-config');
    seed = intOption(values, 'seed', 0);
    name = values.name ?? 'synthetic';
  }
  if (seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be in 0..${0xffffffff} (got ${seed})`);
  const t0 = performance.now();
  const { bytes } = writeSynthModel({ name, lmConfig, mimiConfig, seed, outDir: out });
  console.log(`wrote ${name} (seed ${seed}, UNTRAINED synthetic weights, ${(bytes / 1e6).toFixed(1)} MB) to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}
