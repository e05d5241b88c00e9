// Offline replay of the fixture session (tiny, 2 s) through the real engine process: wall
// time per replayed step. Each round is one whole replay, which must stay bit-exact or
// token-exact; a divergence fails the suite rather than timing wrong work.
import { EngineHost } from '../../src/engine/host.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { replaySession } from '../../harness/replayer.ts';
import { pinnedBlas } from '../lib/blas.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;

export const replaySuite: SuiteDef = {
  name: 'replay',
  describe: 'offline replay of fixtures/sessions/hello-2s.session through the engine process',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the fixture session is recorded with the tiny model; replay is benched in the tiny config only' };
    // The pinning the runner gave this process (--blas-threads, SOLACELIVE_BLAS_CORETYPE), not a fixed one.
    const engine = new EngineHost({ spec: resolveModel('tiny', ctx.log), blas: pinnedBlas() });
    if (!(await engine.start())) throw new Error(`the engine did not start: ${engine.reason}`);
    const runsPerRound = ctx.perRound ?? 1;
    return {
      describe: `${runsPerRound} replay(s) of the 2 s fixture per round, ms per step`,
      figures: [{ name: 'ms-per-step', calibration: 'matmul', budget: true }],
      notes: [],
      async round(_index, tick) {
        const ms: number[] = [];
        for (let i = 0; i < runsPerRound; i++) {
          tick();
          const r = await replaySession(FIXTURE, { engine });
          tick();
          if (r.comparison.kind === 'diverged') throw new Error(`fixture replay ${r.verdict}`);
          ms.push(80 / r.speed);
        }
        return { 'ms-per-step': ms };
      },
      async close() {
        await engine.close();
      },
    };
  },
};
