// The depformer frame runs all dep_q input projections as one matmul against the stacked
// weights (and one position without transposes): it must draw the same tokens as the
// per-codebook reference (Depformer.substep: input linear k, transformer, head k, draw),
// and build fewer matmuls. Eager here (compilation off), so the counted calls are the
// graph a compiled frame records; compiled graphs compute the same floats as eager.
process.env.SOLACELIVE_MLX_COMPILE = '0';

import { beforeAll, describe, expect, it } from 'vitest';
import { ensurePreset, TINY } from '../../../src/engine/models.ts';
import { evaluate, mx, type MxArray } from '../../../src/models/mlx.ts';
import { loadLmConfig } from '../../../src/models/lm/config.ts';
import { initialToken } from '../../../src/models/lm/config.ts';
import type { Lm } from '../../../src/models/lm/lm.ts';
import { drawKey, GREEDY, sampleToken, type SamplingParams } from '../../../src/models/lm/sampling.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { countOps } from '../op-count.ts';
import { relErr, TOL } from './helpers.ts';

let lm: Lm;

beforeAll(() => {
  const spec = ensurePreset(TINY);
  lm = loadLm(loadLmConfig(spec.lmConfig), spec.lmWeights).lm;
});

/** Temporal outputs of a few steps from the initial tokens: realistic depformer inputs. */
function hiddens(n: number): { hidden: MxArray; text: MxArray }[] {
  const caches = lm.makeTemporalCaches();
  const tokens = Array.from({ length: lm.cfg.nQ + 1 }, (_, k) => initialToken(lm.cfg, k));
  return Array.from({ length: n }, (_, t) => {
    const { hidden, textLogits } = lm.temporalStep(tokens, t, caches);
    const text = sampleToken(textLogits, GREEDY, null);
    evaluate(hidden, text);
    tokens[0] = text.item() as number;
    return { hidden, text };
  });
}

/** The per-codebook reference: sub-step by sub-step through Lm.depformerStep, each with its own input linear. */
function reference(hidden: MxArray, text: MxArray, p: SamplingParams, keys: readonly MxArray[] | null): { tokens: number[]; logits: Float32Array } {
  const caches = lm.makeDepformerCaches();
  let prev = text;
  const tokens: number[] = [];
  const logits: MxArray[] = [];
  for (let k = 0; k < lm.cfg.depQ; k++) {
    const l = lm.depformerStep(k, hidden, prev, caches);
    prev = sampleToken(l, p, keys ? keys[k]! : null);
    logits.push(l);
    evaluate(prev, l);
    tokens.push(prev.item() as number);
  }
  return { tokens, logits: Float32Array.from(mx.concatenate(logits, 0).reshape([-1]).tolist() as number[]) };
}

function frame(hidden: MxArray, text: MxArray, p: SamplingParams, keys: readonly MxArray[] | null): { tokens: number[]; logits: Float32Array } {
  const out = lm.depformerFrame(hidden, text, p, keys);
  evaluate(out.tokens, ...out.logits);
  return { tokens: out.tokens.tolist() as number[], logits: Float32Array.from(mx.concatenate(out.logits, 0).reshape([-1]).tolist() as number[]) };
}

describe('stacked depformer frame', () => {
  it('the tiny model stacks its per-codebook input projections (what the rest of this file checks)', () => {
    expect(lm.cfg.depformerMultiLinear).toBe(true);
    expect(lm.cfg.depformerInputs).toBe(lm.cfg.depQ);
  });

  it('draws the same tokens as the per-codebook reference, greedy and seeded top-k, with logits within the goldens rule', () => {
    const sampled: SamplingParams = { temperature: 0.8, topK: 50 };
    hiddens(6).forEach(({ hidden, text }, t) => {
      for (const p of [GREEDY, sampled]) {
        const keys = p.temperature > 0 ? Array.from({ length: lm.cfg.depQ }, (_, c) => drawKey(1234, t, 1 + c)) : null;
        const ref = reference(hidden, text, p, keys);
        const got = frame(hidden, text, p, keys);
        expect(got.tokens).toEqual(ref.tokens);
        expect(relErr(got.logits, ref.logits).rel).toBeLessThanOrEqual(TOL);
      }
    });
  });

  it('builds one matmul for all input projections, where the reference builds one per codebook, and no transposes for its single positions', () => {
    const [{ hidden, text }] = hiddens(1) as [{ hidden: MxArray; text: MxArray }];
    const ref = countOps(() => reference(hidden, text, GREEDY, null)).counts;
    const got = countOps(() => frame(hidden, text, GREEDY, null)).counts;
    // One stacked matmul replaces dep_q input linears; everything else is the same per sub-step.
    expect((ref.get('mx.matmul') ?? 0) - (got.get('mx.matmul') ?? 0)).toBe(lm.cfg.depQ - 1);
    expect(got.get('array.transpose') ?? 0).toBe(0);
    expect(got.get('mx.transpose') ?? 0).toBe(0);
  });
});
