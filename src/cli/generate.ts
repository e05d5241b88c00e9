// `solacelive generate`: the offline pipeline over a WAV file, one 80 ms frame per step:
// Mimi encode → LmGen step → Mimi decode of every frame the LM returns. Writes the
// generated audio (float32 WAV, 24 kHz) and optionally the tokens of every step.
import { writeFileSync } from 'node:fs';
import { readWavSync, toMono24k, writeWavSync } from '../audio/index.ts';
import { explainWeightsMismatch, resolveConfigArg, resolveModel } from '../engine/models.ts';
import { loadLmConfig } from '../models/lm/config.ts';
import { LmGen, releaseNativeMemory } from '../models/lm/generate.ts';
import { checkSamplingParams, DEFAULT_AUDIO_SAMPLING, DEFAULT_TEXT_SAMPLING, GREEDY, type SamplingParams } from '../models/lm/sampling.ts';
import { TextDetokenizer } from '../models/lm/tokenizer.ts';
import { loadLm } from '../models/lm/weights.ts';
import { loadMimiConfig, Mimi } from '../models/mimi/index.ts';
import { intOption, parseCommandArgs, requireOption, UsageError, type Command } from './args.ts';

export const TOKENS_FORMAT = 'solacelive.tokens/1';

const HELP = [
  'usage: solacelive generate (--model M | --lm-config C.json --lm-weights W.safetensors',
  '                           --mimi-config M.json --mimi-weights M.safetensors)',
  '                           --in IN.wav --out OUT.wav [--seed N | --greedy] [--tokens-out T.json]',
  '                           [--text-temp T --text-topk K --audio-temp T --audio-topk K] [--tokenizer S.model]',
  '',
  'Runs Moshi over a recording as if it were heard live: every 1920-sample frame (80 ms at',
  '24 kHz; the input is downmixed and resampled as needed, the last frame zero-padded) is',
  'encoded by Mimi, fed to the LM step, and each frame the LM returns is decoded to audio.',
  'The first step returns nothing (acoustic delay), so OUT.wav is one frame shorter.',
  '',
  '  --model M      a model as `serve --model` takes it: tiny (built-in, untrained), a folder',
  '                 holding a model.json, or a Hugging Face repo id in the local cache; gives',
  '                 all four files below (and the tokenizer, if the model has one)',
  '  --lm-config/--lm-weights      Kyutai config.json layout; moshi_mlx (float, q8, q4) or PyTorch weights',
  '  --mimi-config/--mimi-weights  Mimi config and PyTorch-layout checkpoint',
  '                 (a config may also be named: tiny, moshi_7b_202409, mimi_202407, … from configs/;',
  '                 when weights fit another known config, the error names it)',
  '  --seed N       sampling seed (default 0); the tokens depend only on seed and input',
  '  --greedy       argmax decoding (temperature 0) for text and audio',
  '  --text-temp, --text-topk, --audio-temp, --audio-topk   sampling (defaults 0.7/25, 0.8/250)',
  '  --tokens-out   write {"format":"solacelive.tokens/1","steps":[null, {"text":t,"audio":[...]}, ...]}',
  '  --tokenizer    SentencePiece model: print the generated text',
].join('\n');

function numOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number (got ${String(v)})`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    'lm-config': { type: 'string' }, 'lm-weights': { type: 'string' },
    'mimi-config': { type: 'string' }, 'mimi-weights': { type: 'string' },
    in: { type: 'string' }, out: { type: 'string' },
    seed: { type: 'string' }, greedy: { type: 'boolean' }, 'tokens-out': { type: 'string' },
    'text-temp': { type: 'string' }, 'text-topk': { type: 'string' }, 'audio-temp': { type: 'string' }, 'audio-topk': { type: 'string' },
    tokenizer: { type: 'string' }, model: { type: 'string' },
  });
  const PATHS = ['lm-config', 'lm-weights', 'mimi-config', 'mimi-weights'] as const;
  let lmConfigPath: string;
  let lmWeights: string;
  let mimiConfigPath: string;
  let mimiWeights: string;
  let tokenizer = values.tokenizer ?? null;
  if (values.model !== undefined) {
    const given = PATHS.filter((k) => values[k] !== undefined);
    if (given.length) throw new UsageError(`--model names every model file: drop --${given.join(', --')} (or drop --model)`);
    const spec = resolveModel(values.model, (m) => process.stderr.write(`${m}\n`));
    if (spec.untrained) process.stderr.write(`note: ${spec.name} is UNTRAINED (synthetic weights): its audio and text are noise\n`);
    ({ lmConfig: lmConfigPath, lmWeights, mimiConfig: mimiConfigPath, mimiWeights } = spec);
    tokenizer ??= spec.tokenizer;
  } else {
    const missing = PATHS.filter((k) => values[k] === undefined);
    if (missing.length) throw new UsageError(`--${missing.join(', --')} ${missing.length > 1 ? 'are' : 'is'} required (or --model M for all four)`);
    lmConfigPath = resolveConfigArg('lm', requireOption(values, 'lm-config'));
    lmWeights = requireOption(values, 'lm-weights');
    mimiConfigPath = resolveConfigArg('mimi', requireOption(values, 'mimi-config'));
    mimiWeights = requireOption(values, 'mimi-weights');
  }
  const inPath = requireOption(values, 'in');
  const outPath = requireOption(values, 'out');
  if (values.greedy && values.seed !== undefined) throw new UsageError('--seed and --greedy exclude each other');
  const seed = intOption(values, 'seed', 0);
  if (seed < 0) throw new UsageError('--seed must be >= 0');
  const text: SamplingParams = values.greedy ? GREEDY : { temperature: numOption(values, 'text-temp', DEFAULT_TEXT_SAMPLING.temperature), topK: intOption(values, 'text-topk', DEFAULT_TEXT_SAMPLING.topK) };
  const audio: SamplingParams = values.greedy ? GREEDY : { temperature: numOption(values, 'audio-temp', DEFAULT_AUDIO_SAMPLING.temperature), topK: intOption(values, 'audio-topk', DEFAULT_AUDIO_SAMPLING.topK) };
  // Checked before loading anything: a bad value should not cost a model load to report.
  for (const [label, p] of [['text', text], ['audio', audio]] as const) {
    try {
      checkSamplingParams(label, p);
    } catch (err) {
      throw new UsageError(`--${label}-temp/--${label}-topk: ${(err as Error).message.replace(/^sampling: /, '')}`);
    }
  }

  const input = readWavSync(inPath);
  const mono = toMono24k(input.channels, input.sampleRate);
  const lmCfg = loadLmConfig(lmConfigPath);
  let loaded;
  try {
    loaded = loadLm(lmCfg, lmWeights);
  } catch (err) {
    throw explainWeightsMismatch(err, 'lm', lmWeights, lmConfigPath, '--lm-config');
  }
  const { lm, layout, quant } = loaded;
  const mimi = new Mimi(loadMimiConfig(mimiConfigPath));
  try {
    mimi.loadWeights(mimiWeights);
  } catch (err) {
    throw explainWeightsMismatch(err, 'mimi', mimiWeights, mimiConfigPath, '--mimi-config');
  }
  if (mimi.numCodebooks < lmCfg.nQ - lmCfg.depQ || mimi.numCodebooks !== lmCfg.depQ) {
    throw new UsageError(`Mimi runs ${mimi.numCodebooks} codebooks but the LM reads ${lmCfg.nQ - lmCfg.depQ} user codebooks and generates ${lmCfg.depQ}`);
  }
  const detok = tokenizer ? TextDetokenizer.fromFile(tokenizer) : null;
  const gen = new LmGen(lm, { seed, text, audio });
  const F = mimi.frameSize;
  const frames = Math.ceil(mono.samples.length / F);
  process.stderr.write(`input ${inPath}: ${(mono.samples.length / mono.sampleRate).toFixed(2)} s, ${mono.summary}; ${frames} frames\n`);
  process.stderr.write(`LM ${layout}${quant ? ` q${quant.bits} (group ${quant.groupSize})` : ' float32'}; ${values.greedy ? 'greedy' : `seed ${seed}, text ${text.temperature}/${text.topK}, audio ${audio.temperature}/${audio.topK}`}\n`);

  const out = new Float32Array(Math.max(0, frames - gen.cfg.delays.reduce((a, b) => Math.max(a, b), 0)) * F);
  let written = 0;
  const steps: ({ text: number; audio: number[] } | null)[] = [];
  const frame = new Float32Array(F);
  const t0 = performance.now();
  let textOut = '';
  for (let t = 0; t < frames; t++) {
    frame.fill(0);
    frame.set(mono.samples.subarray(t * F, Math.min((t + 1) * F, mono.samples.length)));
    const codes = mimi.encodeStep(frame);
    const res = gen.step(codes);
    if (res) {
      const pcm = mimi.decodeStep(res.audio);
      out.set(pcm, written);
      written += pcm.length;
      steps.push({ text: res.text, audio: Array.from(res.audio) });
      if (detok) {
        const piece = detok.display(res.text);
        textOut += piece;
        process.stdout.write(piece);
      }
    } else {
      steps.push(null);
    }
    await releaseNativeMemory();
  }
  if (detok && textOut) process.stdout.write('\n');
  const ms = performance.now() - t0;
  writeWavSync(outPath, out.subarray(0, written), mono.sampleRate, { format: 'float32' });
  if (values['tokens-out']) writeFileSync(values['tokens-out'], `${JSON.stringify({ format: TOKENS_FORMAT, steps })}\n`);
  process.stderr.write(`wrote ${outPath}: ${(written / mono.sampleRate).toFixed(2)} s; ${frames} steps in ${(ms / 1000).toFixed(1)} s (${(ms / Math.max(1, frames)).toFixed(1)} ms/step, real time needs 80)\n`);
  return 0;
}

export const command: Command = {
  summary: 'run Mimi + Moshi LM over a WAV file (offline pipeline) and write the reply audio',
  help: HELP,
  run,
};
