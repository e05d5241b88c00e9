// Turning a `--model` argument into a ModelSpec. No argument means `tiny`: the real
// architecture at small sizes with seeded synthetic weights, generated into the cache on
// first use (deterministic: same seed and configs → same bytes), so the whole loop runs
// with no download. It is untrained and says so wherever it is shown.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedFile, LM_CONFIG_FILE, modelFileFor, repoCacheDir, repoPlan } from '../models/lm/hub.ts';
import { loadLmConfig } from '../models/lm/config.ts';
import { lmWeightsFit } from '../models/lm/weights.ts';
import { loadMimiConfig } from '../models/mimi/config.ts';
import { mimiWeightsFit } from '../models/mimi/weights.ts';
import { WeightsError } from '../models/safetensors.ts';
import { writeSynthModel } from '../models/synth/model.ts';
import { EngineError } from './errors.ts';
import { MODEL_JSON, readModelDir, type ModelSpec } from './model-spec.ts';

export const CONFIGS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs');

export interface SynthPreset {
  readonly name: string;
  readonly lmConfig: string;
  readonly mimiConfig: string;
  readonly seed: number;
}

export const TINY: SynthPreset = {
  name: 'tiny',
  lmConfig: join(CONFIGS_DIR, 'tiny.json'),
  mimiConfig: join(CONFIGS_DIR, 'mimi_tiny.json'),
  seed: 20240917,
};

/** Bump when synthetic weight generation changes, so caches are regenerated. */
const SYNTH_VERSION = 1;

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SOLACELIVE_CACHE) return env.SOLACELIVE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'solacelive');
}

/** The cache folder of a preset: named by a hash of everything that decides its bytes. */
export function presetDir(p: SynthPreset, root = cacheRoot()): string {
  const h = createHash('sha256');
  h.update(`v${SYNTH_VERSION}\0${p.seed}\0`).update(readFileSync(p.lmConfig)).update('\0').update(readFileSync(p.mimiConfig));
  return join(root, 'models', `${p.name}-${h.digest('hex').slice(0, 12)}`);
}

/** Generates the preset's weights into the cache unless they are there; returns its spec. */
export function ensurePreset(p: SynthPreset, log: (msg: string) => void = () => undefined, root = cacheRoot()): ModelSpec {
  const dir = presetDir(p, root);
  if (!existsSync(join(dir, MODEL_JSON))) {
    log(`generating the ${p.name} model (seeded synthetic weights, untrained) into ${dir} …`);
    const tmp = `${dir}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const t0 = performance.now();
    const { bytes } = writeSynthModel({ name: p.name, lmConfig: p.lmConfig, mimiConfig: p.mimiConfig, seed: p.seed, outDir: tmp });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process generated it first: theirs is byte-identical, keep it.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, MODEL_JSON))) throw err;
    }
    log(`  ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return readModelDir(dir);
}

/**
 * A Kyutai repo in the Hugging Face cache (put there by `solacelive weights pull`, or by
 * hand): the files `repoPlan` names, the same list `weights pull` fetches. The LM weights
 * are the quantization the repo name says (…-q4, …-q8, else float), or another one pulled
 * with an explicit --quant; repos ship no LM config, so configs/moshi_7b_202409.json
 * (moshiko/moshika) is used unless the snapshot has a config.json.
 */
export function resolveHubModel(repo: string, cacheDir?: string): ModelSpec {
  const plan = repoPlan(repo);
  const find = (f: string) => cachedFile(repo, f, { cacheDir });
  const lmFile = [plan.lmWeights, ...[null, 'q4', 'q8'].map((q) => modelFileFor(q as 'q4' | 'q8' | null))].find((f) => find(f)) ?? plan.lmWeights;
  const missing = [lmFile, plan.mimiWeights].filter((f) => !find(f));
  if (missing.length) {
    throw new EngineError('ENGINE_ERR_NO_WEIGHTS', `--model ${repo}: ${missing.join(', ')} not in the cache (${repoCacheDir(repo, cacheDir)}). ` +
      `Run \`solacelive weights pull ${repo}\`, or put the files in <that folder>/snapshots/<any>/ by hand.`);
  }
  return {
    name: repo,
    lmConfig: find(LM_CONFIG_FILE) ?? join(CONFIGS_DIR, 'moshi_7b_202409.json'),
    lmWeights: find(lmFile)!,
    mimiConfig: join(CONFIGS_DIR, 'mimi_202407.json'),
    mimiWeights: find(plan.mimiWeights)!,
    tokenizer: find(plan.tokenizer),
    untrained: false,
  };
}

/**
 * `undefined` or "tiny" → the tiny preset; a folder with a model.json → that model;
 * `owner/name` → that repo in the Hugging Face cache. Anything else is an error naming
 * what was looked for.
 */
export function resolveModel(arg: string | undefined, log?: (msg: string) => void): ModelSpec {
  if (arg === undefined || arg === 'tiny') return ensurePreset(TINY, log);
  if (existsSync(arg)) return readModelDir(arg);
  if (/^[\w.-]+\/[\w.-]+$/.test(arg)) return resolveHubModel(arg);
  throw new EngineError('ENGINE_ERR_NO_WEIGHTS', `--model ${arg}: no such folder or repo id (a model folder holds a ${MODEL_JSON}; "tiny" is the built-in untrained model)`);
}

export type ConfigKind = 'lm' | 'mimi';

/** The configs shipped in configs/ that parse as `kind`, by name (file stem; `tiny` = the tiny preset's). */
export function knownConfigs(kind: ConfigKind): { name: string; path: string }[] {
  const load = kind === 'lm' ? loadLmConfig : loadMimiConfig;
  const out = [{ name: 'tiny', path: kind === 'lm' ? TINY.lmConfig : TINY.mimiConfig }];
  for (const f of readdirSync(CONFIGS_DIR).filter((n) => n.endsWith('.json')).sort()) {
    const path = join(CONFIGS_DIR, f);
    if (out.some((c) => c.path === path)) continue;
    try {
      load(path);
      out.push({ name: f.slice(0, -'.json'.length), path });
    } catch {
      // another kind of config, or not one at all
    }
  }
  return out;
}

/** A --config argument: an existing file as is, else the path of a known config of that name (else as given, for the loader to report). */
export function resolveConfigArg(kind: ConfigKind, arg: string): string {
  if (existsSync(arg)) return arg;
  return knownConfigs(kind).find((c) => c.name === arg)?.path ?? arg;
}

/**
 * A weights/config key mismatch, made actionable: when the weights fit another known
 * config exactly (tiny weights run against the real-size default, say), the error says
 * which one and the flag that selects it. Any other error passes through unchanged.
 */
export function explainWeightsMismatch(err: unknown, kind: ConfigKind, weights: string, configUsed: string, flag: string): unknown {
  if (!(err instanceof WeightsError) || err.code !== 'WEIGHTS_ERR_KEYS') return err;
  const fits = kind === 'lm' ? (p: string) => lmWeightsFit(weights, loadLmConfig(p)) : (p: string) => mimiWeightsFit(weights, loadMimiConfig(p));
  const match = knownConfigs(kind).find((c) => resolve(c.path) !== resolve(configUsed) && fits(c.path));
  if (!match) return err;
  const body = err.file && err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message;
  return new WeightsError('WEIGHTS_ERR_KEYS', `${body} — these weights do not fit the config ${configUsed} but look like config ${match.name} (${match.path}): pass ${flag} ${match.name}`, err.file);
}

