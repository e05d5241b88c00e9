// The engine's step, span by span: the real Pipeline (Mimi encode → LM temporal →
// depformer → Mimi decode) over the fixture WAV, in the bench child with OpenBLAS pinned
// as the engine worker pins it. Spans come from the pipeline's own timer, as on a server.
// Floors: each span's weight bytes (step.total: all four) ÷ the memory bandwidth measured in
// the same run. The IPC between server and engine process is the replay suite's `ipc` figure.
import { join } from 'node:path';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { splitFrames } from '../../src/audio/frames.ts';
import { toMono24k } from '../../src/audio/resample.ts';
import { Pipeline } from '../../src/engine/pipeline.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { DEFAULT_SAMPLING } from '../../src/engine/types.ts';
import { loadMimiConfig } from '../../src/models/mimi/index.ts';
import { ENGINE_SPANS } from '../../src/telemetry/index.ts';
import { ROOT } from '../lib/paths.ts';
import type { FloorSpec, SuiteDef } from '../lib/suite-api.ts';
import { mb, mimiWeightBytes } from '../lib/weight-bytes.ts';
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
    const floors = stepFloors(mimiWeightBytes(loadMimiConfig(spec.mimiConfig)), pipeline.lmWeightBytesByStage());
    return {
      describe: `${spec.name}${spec.untrained ? ' (untrained)' : ''}: ${perRound} steps per round after ${WARMUP_STEPS} warm-up steps`,
      figures: ENGINE_SPANS.map((span) => ({ name: span, span, calibration: 'matmul' as const, budget: true, floor: floors[span] })),
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

/** The weights floor of every engine span: what each stage reads, and all four for step.total. */
export function stepFloors(mimi: { encode: number; decode: number }, lm: { temporal: number; depformer: number }): Record<(typeof ENGINE_SPANS)[number], FloorSpec> {
  const w = (bytes: number, what: string): FloorSpec => ({ kind: 'weights', bytes, describe: `${mb(bytes)} of weights per ${what}` });
  return {
    'mimi.encode': w(mimi.encode, 'Mimi encode'),
    'lm.temporal': w(lm.temporal, 'temporal step'),
    'lm.depformer': w(lm.depformer, 'depformer step'),
    'mimi.decode': w(mimi.decode, 'Mimi decode'),
    'step.total': w(mimi.encode + lm.temporal + lm.depformer + mimi.decode, 'step (all four stages)'),
  };
}
