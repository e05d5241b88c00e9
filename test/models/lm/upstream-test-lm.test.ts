// Upstream's own moshi/tests/test_lm.py on its assets: a model with LayerNorm, sinusoidal
// positions, a plain GELU FFN, a depformer weight schedule [0, 1, 1] and low-rank
// embeddings. Upstream asserts equal masks and per-codebook mean cross-entropy within
// 1e-6 relative; the logits themselves are also held to the fixtures' 1e-5 × peak rule.
import { describe, expect, it } from 'vitest';
import { mx } from '../../../src/models/mlx.ts';
import { lmConfigFromJson } from '../../../src/models/lm/config.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { readTensors } from '../../../src/models/safetensors.ts';
import { REF, relErr, TOL } from './helpers.ts';

// upstream tests/test_lm.py `_get_lm`, as a Kyutai config dict (everything else default).
const CONFIG = {
  delays: [0, 1, 2, 4], n_q: 3, dep_q: 3, card: 32, text_card: 48, dim: 16, num_layers: 2, num_heads: 1,
  hidden_scale: 1, depformer_dim: 16, depformer_multi_linear: true, depformer_weights_per_step: true,
  depformer_weights_per_step_schedule: [0, 1, 1], depformer_low_rank_embeddings: 8, depformer_num_heads: 1,
  depformer_gating: 'silu', context: 4,
};
const DIR = `${REF}upstream-test-lm/`;

/** Mean cross-entropy per stream over valid positions: logits [B, K, T, V], targets [B, K, T]. */
function crossEntropy(logits: number[], targets: number[], mask: number[], [B, K, T, V]: number[]): number[] {
  const ce: number[] = [];
  for (let k = 0; k < K!; k++) {
    let sum = 0;
    let n = 0;
    for (let b = 0; b < B!; b++) for (let t = 0; t < T!; t++) {
      const i = (b * K! + k) * T! + t;
      if (!mask[i]) continue;
      const row = logits.slice(i * V!, (i + 1) * V!);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      sum += lse - row[targets[i]!]!;
      n++;
    }
    ce.push(sum / n);
  }
  return ce;
}

describe('upstream test_lm.py reproduction', () => {
  const cfg = lmConfigFromJson(CONFIG);
  const { lm } = loadLm(cfg, `${DIR}test_lm_model.safetensors`);
  const codesT = readTensors(`${DIR}test_lm_codes.safetensors`).get('codes')!;
  const ref = readTensors(`${DIR}test_lm_out.safetensors`);
  const codes = Array.from(codesT.data as BigInt64Array, Number);
  const [B, K, T] = codesT.shape as [number, number, number];
  const out = lm.forward(mx.array(codes, mx.int32).reshape([B, K, T]));

  it('builds the options the test model uses', () => {
    expect(cfg.temporal).toMatchObject({ norm: 'layer_norm', positionalEmbedding: 'sin', gating: 'none', hidden: 16, context: 4 });
    expect(cfg.depformer).toMatchObject({ positionalEmbedding: 'sin', gating: 'silu', hidden: 10, weightSets: 2, schedule: [0, 1, 1] });
    expect(cfg.depformerLowRank).toBe(8);
  });

  it('gives the same masks', () => {
    expect((out.mask.reshape([-1]).tolist() as boolean[]).map(Number)).toEqual(Array.from(ref.get('mask')!.data as Uint8Array));
    expect((out.textMask.reshape([-1]).tolist() as boolean[]).map(Number)).toEqual(Array.from(ref.get('text_mask')!.data as Uint8Array));
  });

  it('gives per-codebook cross-entropy within 1e-6 relative (upstream assertion) and logits within 1e-5 × peak', () => {
    const mask = Array.from(ref.get('mask')!.data as Uint8Array);
    const audioTargets: number[] = [];
    for (let b = 0; b < B; b++) for (let k = 1; k < K; k++) for (let t = 0; t < T; t++) audioTargets.push(codes[(b * K + k) * T + t]!);
    const logits = out.logits.reshape([-1]).tolist() as number[];
    const refLogits = Array.from(ref.get('logits')!.data as Float32Array);
    const shape = [B, K - 1, T, cfg.card];
    const ce = crossEntropy(logits, audioTargets, mask, shape);
    const ceRef = crossEntropy(refLogits, audioTargets, mask, shape);
    ce.forEach((c, k) => expect(Math.abs(c - ceRef[k]!) / ceRef[k]!).toBeLessThanOrEqual(1e-6));

    const textTargets: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) textTargets.push(codes[b * K * T + t]!);
    const textLogits = out.textLogits.reshape([-1]).tolist() as number[];
    const textRef = Array.from(ref.get('text_logits')!.data as Float32Array);
    const textMask = Array(B * T).fill(1);
    const [tc] = crossEntropy(textLogits, textTargets, textMask, [B, 1, T, cfg.textCard]);
    const [tcRef] = crossEntropy(textRef, textTargets, textMask, [B, 1, T, cfg.textCard]);
    expect(Math.abs(tc! - tcRef!) / tcRef!).toBeLessThanOrEqual(1e-6);

    expect(relErr(logits, refLogits).rel).toBeLessThanOrEqual(TOL);
    expect(relErr(textLogits, textRef).rel).toBeLessThanOrEqual(TOL);
  });
});
