// Which files make a model: the LM and Mimi configs and weights, and the optional text
// tokenizer. A model folder holds a `model.json` naming them (what `solacelive weights
// synth` and the hub cache write); relative paths are resolved against the folder.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EngineError } from './errors.ts';

export interface ModelSpec {
  readonly name: string;
  readonly lmConfig: string;
  readonly lmWeights: string;
  readonly mimiConfig: string;
  readonly mimiWeights: string;
  readonly tokenizer: string | null;
  /** Synthetic weights: the output is noise-like and says nothing about speech. */
  readonly untrained: boolean;
}

interface ModelJson {
  name?: string;
  lm_config?: string;
  lm_weights?: string;
  mimi_config?: string;
  mimi_weights?: string;
  tokenizer?: string | null;
  untrained?: boolean;
}

export const MODEL_JSON = 'model.json';

/** Reads DIR/model.json into a spec with absolute paths; every named file must exist. */
export function readModelDir(dir: string): ModelSpec {
  const file = join(dir, MODEL_JSON);
  if (!existsSync(file)) throw new EngineError('ENGINE_ERR_NO_WEIGHTS', `${file} not found: a model folder needs a model.json naming its configs and weights`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EngineError('ENGINE_ERR_LOAD', `${file}: not valid JSON (${(err as Error).message})`);
  }
  // null or an array would otherwise fail below as a raw TypeError.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new EngineError('ENGINE_ERR_LOAD', `${file}: must be a JSON object naming lm_config, lm_weights, mimi_config, mimi_weights`);
  const j = parsed as ModelJson;
  if (j.name !== undefined && typeof j.name !== 'string') throw new EngineError('ENGINE_ERR_LOAD', `${file}: "name" must be a string`);
  const base = dirname(resolve(file));
  const need = (key: keyof ModelJson): string => {
    const v = j[key];
    if (typeof v !== 'string' || v === '') throw new EngineError('ENGINE_ERR_LOAD', `${file}: "${key}" is missing (or not a path string)`);
    const p = isAbsolute(v) ? v : join(base, v);
    if (!existsSync(p)) throw new EngineError('ENGINE_ERR_NO_WEIGHTS', `${file}: ${key} ${p} does not exist`);
    return p;
  };
  const tokenizer = typeof j.tokenizer === 'string' && j.tokenizer ? need('tokenizer') : null;
  return {
    name: j.name ?? base.split('/').pop() ?? 'model',
    lmConfig: need('lm_config'),
    lmWeights: need('lm_weights'),
    mimiConfig: need('mimi_config'),
    mimiWeights: need('mimi_weights'),
    tokenizer,
    untrained: j.untrained === true,
  };
}
