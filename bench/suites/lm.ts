// The Moshi LM alone: LmGen.step (temporal transformer, then the depformer's codebooks)
// with seeded random user codes, timed by LmGen itself. tiny: the embedded model's LM;
// real: Moshi 7B q4 from the Hugging Face cache, or when it is not there the same 7B shape
// (configs/moshi_7b_202409.json) with seeded random q4 weights generated in memory: the work
// of a quantized matmul does not depend on the values, so the timing and the floor are the
// real size's without a 4 GB download (the tokens are noise; the describe line says which).
// Floors: the weight bytes each stage reads per step (quantized as loaded) ÷ the memory
// bandwidth measured in the same run.
import { join } from 'node:path';
import { CONFIGS_DIR, ensurePreset, resolveHubModel, TINY } from '../../src/engine/models.ts';
import { loadLm, loadLmConfig, LmGen, releaseNativeMemory, type Lm, type LmConfig } from '../../src/models/lm/index.ts';
import type { QuantSpec } from '../../src/models/nn/linear.ts';
import { randomLm } from '../lib/lm-weights.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { mb } from '../lib/weight-bytes.ts';
import { realModelOrSkip } from './real.ts';

export const WARMUP_STEPS = 10;

export const lmSuite: SuiteDef = {
  name: 'lm',
  describe: 'LmGen.step: temporal transformer and depformer',
  async setup(ctx) {
    const { cfg, lm, name } = await loadSuiteLm(ctx.config, ctx.log);
    const gen = new LmGen(lm, { seed: 7 });
    let s = 12345;
    const codes = new Int32Array(gen.userCodebooks);
    const step = async () => {
      for (let q = 0; q < codes.length; q++) {
        s = (s * 1664525 + 1013904223) >>> 0;
        codes[q] = s % cfg.card;
      }
      gen.step(codes);
      await releaseNativeMemory();
      return gen.lastTimings;
    };
    for (let i = 0; i < WARMUP_STEPS; i++) await step();
    const perRound = ctx.perRound ?? (ctx.config === 'tiny' ? (ctx.quick ? 15 : 30) : 5);
    const bytes = lm.weightBytesByStage();
    return {
      describe: `${name}: ${perRound} steps per round after ${WARMUP_STEPS} warm-up steps`,
      figures: [
        { name: 'lm.temporal', span: 'lm.temporal', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: bytes.temporal, describe: `${mb(bytes.temporal)} of weights per temporal step` } },
        { name: 'lm.depformer', span: 'lm.depformer', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: bytes.depformer, describe: `${mb(bytes.depformer)} of weights per depformer step` } },
      ],
      notes: [],
      cpuFigure: 'cpu.step',
      async round(_index, tick) {
        const t: number[] = [];
        const d: number[] = [];
        for (let i = 0; i < perRound; i++) {
          tick();
          const timings = await step();
          t.push(timings.temporalMs);
          d.push(timings.depformerMs);
        }
        globalThis.gc?.();
        return { 'lm.temporal': t, 'lm.depformer': d };
      },
      async close() {},
    };
  },
};

/** The 7B shape's quantization when its weights are generated: 4 bits, groups of 32. */
const RANDOM_QUANT: QuantSpec = { bits: 4, groupSize: 32 };

async function loadSuiteLm(config: 'tiny' | 'real', log: (msg: string) => void): Promise<{ cfg: LmConfig; lm: Lm; name: string }> {
  const repo = config === 'tiny' ? null : realModelOrSkip();
  if (repo === null || typeof repo === 'string') {
    const spec = repo === null ? ensurePreset(TINY, log) : resolveHubModel(repo);
    const cfg = loadLmConfig(spec.lmConfig);
    return { cfg, lm: loadLm(cfg, spec.lmWeights).lm, name: `${spec.name}${spec.untrained ? ' (untrained)' : ''}` };
  }
  const cfg = loadLmConfig(join(CONFIGS_DIR, 'moshi_7b_202409.json'));
  log(`${repo.skipped}: generating seeded random q4 weights at the 7B shape instead`);
  return { cfg, lm: await randomLm(cfg, RANDOM_QUANT, 1234, log), name: 'configs/moshi_7b_202409.json (7B shape), seeded random q4 weights (group 32)' };
}
