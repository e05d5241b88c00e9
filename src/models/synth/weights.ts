// Seeded synthetic weights in the real checkpoint key layouts: Mimi as the PyTorch
// checkpoint (`tokenizer-e351c8d8-checkpoint125.safetensors`), the LM as moshi_mlx's
// `model.safetensors`. They load through exactly the code that loads real checkpoints.
// The values are random: a model built from them is UNTRAINED and its output is noise.
import { expectedShapes, type LmConfig } from '../lm/index.ts';
import { expectedCheckpointKeys, type MimiConfig } from '../mimi/index.ts';
import type { TensorToWrite } from '../safetensors.ts';
import { SeededRandom } from './random.ts';

/** The moshi_mlx checkpoint name of an LM tensor (canonical names are the LM's own). */
export function moshiMlxKey(canonical: string, cfg: LmConfig): string {
  const slices = cfg.depformer.weightSets === cfg.depQ;
  let m: RegExpMatchArray | null;
  if ((m = canonical.match(/^depformer\.in\.(\d+)\.weight$/))) return `depformer.slices.${m[1]}.linear_in.weight`;
  if (canonical === 'depformer.text_emb.weight') return 'depformer.slices.0.emb.weight';
  if ((m = canonical.match(/^depformer\.emb\.(\d+)\.weight$/))) return `depformer.slices.${Number(m[1]) + 1}.emb.weight`;
  if ((m = canonical.match(/^depformer\.heads\.(\d+)\.weight$/))) return `depformer.slices.${m[1]}.linear_out.weight`;
  if ((m = canonical.match(/^depformer\.layers\.(\d+)\.sets\.(\d+)\.(.+)$/))) {
    if (!slices) throw new Error('moshiMlxKey: moshi_mlx checkpoints have one depformer slice per codebook; this config shares weights across steps');
    return `depformer.slices.${m[2]}.transformer.layers.${m[1]}.${m[3]}`;
  }
  return canonical;
}

function tensor(shape: readonly number[], fill: (i: number) => number): TensorToWrite {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill(i);
  return { dtype: 'F32', shape, data };
}

function normal(seed: number, key: string, shape: readonly number[], std: number): TensorToWrite {
  const r = SeededRandom.forKey(seed, key);
  return tensor(shape, () => r.normal() * std);
}

/** Fan-in scaled normal for weights; norms at 1, biases small, embeddings unit. */
function initFor(seed: number, key: string, shape: readonly number[], layerScale: number): TensorToWrite {
  if (/norm\d?\.(weight|alpha)$|out_norm\.weight$/.test(key)) return tensor(shape, () => 1);
  if (/norm\d?\.bias$/.test(key)) return tensor(shape, () => 0);
  if (/layer_scale_\d\.scale$/.test(key)) return tensor(shape, () => layerScale);
  if (key.endsWith('._initialized')) return tensor(shape, () => 1);
  if (key.endsWith('.cluster_usage')) return tensor(shape, () => 1);
  if (key.endsWith('.embedding_sum')) return normal(seed, key, shape, 1);
  if (key.endsWith('.bias')) return normal(seed, key, shape, 0.01);
  if (/(^|\.)(text_emb|emb|audio_embs\.\d+)\.weight$/.test(key)) return normal(seed, key, shape, 1);
  const fanIn = key.includes('convtr') ? shape[0]! : shape.slice(1).reduce((a, b) => a * b, 1);
  return normal(seed, key, shape, 1 / Math.sqrt(fanIn));
}

export function synthLmTensors(cfg: LmConfig, seed: number): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [canonical, shape] of expectedShapes(cfg)) {
    const key = moshiMlxKey(canonical, cfg);
    out[key] = initFor(seed, key, shape, 1);
  }
  return out;
}

export function synthMimiTensors(cfg: MimiConfig, seed: number, layerScale = 0.01): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [key, e] of expectedCheckpointKeys(cfg)) out[key] = initFor(seed, key, e.shape, layerScale);
  return out;
}
