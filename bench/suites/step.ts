// The engine's step, span by span: the real Pipeline (Mimi encode → LM temporal →
// depformer → Mimi decode) over the fixture WAV, in the bench child with OpenBLAS pinned
// as the engine worker pins it. Spans come from the pipeline's own timer, as on a server.
import { join } from 'node:path';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { splitFrames } from '../../src/audio/frames.ts';
import { toMono24k } from '../../src/audio/resample.ts';
import { Pipeline } from '../../src/engine/pipeline.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { DEFAULT_SAMPLING } from '../../src/engine/types.ts';
import { ENGINE_SPANS } from '../../src/telemetry/index.ts';
import { ROOT } from '../lib/suite.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { realModelOrSkip } from './real.ts';

export const WARMUP_STEPS = 20;

export const stepSuite: SuiteDef = {
  name: 'step',
  describe: 'engine step per span (Pipeline, fixture WAV, default sampling)',
  async setup(ctx) {
    const model = ctx.config === 'tiny' ? 'tiny' : realModelOrSkip();
    if (typeof model !== 'string') return model;
    const spec = resolveModel(model, ctx.log);
    const pipeline = await Pipeline.load(spec);
    const wav = readWavSync(join(ROOT, 'fixtures/audio/hello.wav'));
    const { frames } = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples);
    pipeline.open('bench', { seed: 1, sampling: DEFAULT_SAMPLING });
    let step = 0;
    const next = () => pipeline.step({ session: 'bench', step, pcm: frames[step++ % frames.length]!, events: [] });
    for (let i = 0; i < WARMUP_STEPS; i++) await next();
    const perRound = ctx.perRound ?? (ctx.config === 'tiny' ? (ctx.quick ? 10 : 20) : 10);
    return {
      describe: `${spec.name}${spec.untrained ? ' (untrained)' : ''}: ${perRound} steps per round after ${WARMUP_STEPS} warm-up steps`,
      figures: ENGINE_SPANS.map((span) => ({ name: span, span, calibration: 'matmul' as const, budget: true })),
      notes: [],
      cpuFigure: 'cpu.step',
      async round(_index, tick) {
        const out: Record<string, number[]> = Object.fromEntries(ENGINE_SPANS.map((s) => [s, [] as number[]]));
        for (let i = 0; i < perRound; i++) {
          tick();
          const { spans } = await next();
          for (const s of ENGINE_SPANS) if (spans[s] !== undefined) out[s]!.push(spans[s]);
        }
        return out;
      },
      async close() {
        pipeline.close('bench');
      },
    };
  },
};
