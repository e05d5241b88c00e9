// Mimi alone, per 80 ms frame: encodeStep and decodeStep in steady state (the transformer
// context filled first, as after ~10 s of a conversation). tiny: the embedded model's
// Mimi weights; real: configs/mimi_202407.json with seeded random weights in memory.
// Floors: the weight bytes each call reads ÷ the memory bandwidth measured in the same run.
import { join } from 'node:path';
import { CONFIGS_DIR, ensurePreset, TINY } from '../../src/engine/models.ts';
import { loadMimiConfig, Mimi } from '../../src/models/mimi/index.ts';
import { NativeMemoryPacer } from '../../src/models/nn/memory.ts';
import { randomMimiWeights } from '../lib/mimi-weights.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { speechLikeFrames } from '../lib/signal.ts';
import { mb, mimiWeightBytes } from '../lib/weight-bytes.ts';

const SEED = 20240701;

export const mimiSuite: SuiteDef = {
  name: 'mimi',
  describe: 'Mimi encodeStep / decodeStep per frame, steady state',
  async setup(ctx) {
    let mimi: Mimi;
    let describe: string;
    if (ctx.config === 'tiny') {
      const spec = ensurePreset(TINY, ctx.log);
      mimi = new Mimi(loadMimiConfig(spec.mimiConfig));
      mimi.loadWeights(spec.mimiWeights);
      describe = 'configs/mimi_tiny.json, tiny preset weights';
    } else {
      const cfg = loadMimiConfig(join(CONFIGS_DIR, 'mimi_202407.json'));
      mimi = new Mimi(cfg);
      mimi.setWeights(randomMimiWeights(cfg, SEED), `random seed ${SEED}`);
      describe = 'configs/mimi_202407.json (real size), seeded random weights';
    }
    const cfg = mimi.config;
    const frame = speechLikeFrames(cfg.frameSize, SEED);
    const fill = Math.ceil(cfg.transformer.context / cfg.resampleStride) + 2;
    let n = 0;
    for (; n < fill; n++) {
      mimi.decodeStep(mimi.encodeStep(frame(n)));
      if (n % 25 === 0) globalThis.gc?.();
    }
    const perRound = ctx.perRound ?? (ctx.config === 'tiny' ? (ctx.quick ? 15 : 30) : 10);
    const bytes = mimiWeightBytes(cfg);
    // Native memory over the timed frames (what bench/mimi-soak.ts watched over 10,000): a note, not a
    // gated figure. From the first round on: by then the bench child's own buffers (calibration,
    // bandwidth copy) are allocated and not counted as Mimi's.
    const pacer = new NativeMemoryPacer();
    let rss0: number | null = null;
    let frames0 = n;
    const notes: string[] = [];
    return {
      describe: `${describe}: ${perRound} frames per round after ${fill} frames filling the context`,
      figures: [
        { name: 'mimi.encode', span: 'mimi.encode', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: bytes.encode, describe: `${mb(bytes.encode)} of weights per encodeStep` } },
        { name: 'mimi.decode', span: 'mimi.decode', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: bytes.decode, describe: `${mb(bytes.decode)} of weights per decodeStep` } },
      ],
      notes,
      cpuFigure: 'cpu.frame',
      async round(_index, tick) {
        if (rss0 === null) {
          rss0 = await settledRssMb();
          frames0 = n;
        }
        const enc: number[] = [];
        const dec: number[] = [];
        for (let i = 0; i < perRound; i++) {
          tick();
          const t0 = performance.now();
          const codes = mimi.encodeStep(frame(n++));
          const t1 = performance.now();
          mimi.decodeStep(codes);
          dec.push(performance.now() - t1);
          enc.push(t1 - t0);
          // As the engine between steps: let the binding free the frame's native buffers (untimed).
          await pacer.step();
        }
        globalThis.gc?.();
        return { 'mimi.encode': enc, 'mimi.decode': dec };
      },
      async close() {
        if (rss0 === null) return;
        const rss1 = await settledRssMb();
        notes.push(`RSS ${rss0.toFixed(1)} MB at the first round, ${rss1.toFixed(1)} MB after ${n - frames0} timed frames (${rss1 - rss0 >= 0 ? '+' : ''}${(rss1 - rss0).toFixed(1)} MB)`);
      },
    };
  },
};

/** RSS once V8 has collected and the binding's finalizers have freed what they hold. */
async function settledRssMb(): Promise<number> {
  globalThis.gc?.();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return process.memoryUsage().rss / 2 ** 20;
}
