// Offline replay of the fixture session (tiny, 2 s) through the real engine process: wall
// time per replayed step, one worker stepping as the live loop does (ms-per-step) and the
// default pipelined replay on two workers (ms-per-step.pipelined, engine start excluded).
// Each round is one whole replay, which must stay bit-exact or token-exact; a divergence
// fails the suite rather than timing wrong work.
// With it, what the engine process and the recorder add to a step on a server:
//  - ipc: each replayed step's host round trip minus the worker's own time (the cost of
//    crossing to the engine process and back, paid by every server step);
//  - recorder.hooks: time per step in the recorder's hooks on the server's event loop, over a
//    session recorded each round (a real server, fast-paced client on loopback), reported as a
//    share of that session's step.total (`recorder.step`): target ≤ 1 %.
// Floor of ms-per-step: the weight bytes of a step ÷ the memory bandwidth measured in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession } from '../../harness/format/node.ts';
import { Recorder } from '../../harness/recorder.ts';
import { replaySession } from '../../harness/replayer.ts';
import { connect } from '../../src/client/connect.ts';
import { EngineHost } from '../../src/engine/host.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { loadLm, loadLmConfig } from '../../src/models/lm/index.ts';
import { loadMimiConfig } from '../../src/models/mimi/index.ts';
import { createServer } from '../../src/server/server.ts';
import { pinnedBlas } from '../lib/blas.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { mb, mimiWeightBytes } from '../lib/weight-bytes.ts';

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
/** The recorder's cost is a share of a step: it should stay under this. */
export const RECORDER_TARGET_PCT = 1;

export const replaySuite: SuiteDef = {
  name: 'replay',
  describe: 'offline replay of fixtures/sessions/hello-2s.session through the engine process; IPC and recorder cost per step',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the fixture session is recorded with the tiny model; replay is benched in the tiny config only' };
    const spec = resolveModel('tiny', ctx.log);
    // The weights a step reads (the floor): counted on the model loaded here, then dropped.
    const lmBytes = loadLm(loadLmConfig(spec.lmConfig), spec.lmWeights).lm.weightBytesByStage();
    const mimiBytes = mimiWeightBytes(loadMimiConfig(spec.mimiConfig));
    const stepBytes = lmBytes.temporal + lmBytes.depformer + mimiBytes.encode + mimiBytes.decode;
    // The pinning the runner gave this process (--blas-threads, SOLACELIVE_BLAS_CORETYPE), not a fixed one.
    const engine = new EngineHost({ spec, blas: pinnedBlas() });
    if (!(await engine.start())) throw new Error(`the engine did not start: ${engine.reason}`);
    const runsPerRound = ctx.perRound ?? 1;
    const recordedSteps = ctx.quick ? 25 : 50;
    const frames = Array.from({ length: recordedSteps }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((k * 1920 + i) * 0.02)));
    const dir = mkdtempSync(join(tmpdir(), 'solacelive-bench-recorder-'));

    /** One recorded session on a real server: the recorder's hook time per step and the session's step.total values. */
    const recorded = async (round: number): Promise<{ hooksMs: number; stepMs: number[] }> => {
      const recorder = new Recorder({ dir, mode: 'all', engineInfo: () => engine.info, name: (id) => `round-${round}-${id}` });
      const server = createServer({ port: 0 }, engine, recorder);
      const { url } = await server.start();
      try {
        const client = await connect(url, { pace: 'fast', seed: 1 });
        await client.run(frames);
      } finally {
        await server.stop();
      }
      const status = recorder.status()[0];
      if (!status || status.state === 'failed') throw new Error(`the recorded session failed: ${status?.error?.message ?? 'no session recorded'}`);
      const stepMs: number[] = [];
      for await (const s of (await openSession(status.path)).steps()) if (s.spans['step.total'] !== undefined) stepMs.push(s.spans['step.total']);
      const o = recorder.overhead();
      if (o.steps === 0 || stepMs.length === 0) throw new Error('the recorded session has no steps');
      return { hooksMs: o.perStepMs, stepMs };
    };

    return {
      describe: `${runsPerRound} replay(s) of the 2 s fixture on one worker, one pipelined on two, and one ${recordedSteps}-step recorded session per round, ms per step`,
      figures: [
        { name: 'ms-per-step', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: stepBytes, describe: `${mb(stepBytes)} of weights per step` } },
        { name: 'ms-per-step.pipelined', calibration: 'matmul', budget: false, floor: { kind: 'weights', bytes: stepBytes, describe: `${mb(stepBytes)} of weights per step` } },
        { name: 'ipc', calibration: 'matmul', budget: false },
        { name: 'recorder.hooks', calibration: 'matmul', budget: false, share: { of: 'recorder.step', targetPct: RECORDER_TARGET_PCT } },
        { name: 'recorder.step', calibration: 'matmul', budget: true },
      ],
      notes: [`recorder.hooks: one sample per round (hook time ÷ steps of that round's recorded session); target ≤ ${RECORDER_TARGET_PCT} % of recorder.step`],
      async round(index, tick) {
        const ms: number[] = [];
        const ipc: number[] = [];
        for (let i = 0; i < runsPerRound; i++) {
          tick();
          const before = engine.ipcOverheadMs.length;
          const r = await replaySession(FIXTURE, { engine });
          tick();
          if (r.comparison.kind === 'diverged') throw new Error(`fixture replay ${r.verdict}`);
          ms.push(80 / r.speed);
          ipc.push(...engine.ipcOverheadMs.slice(before));
        }
        // What `solacelive replay SESSION` runs by default: Mimi and the LM on two workers it starts
        // (pinned as recorded); the speed counts the steps only, not the workers' start.
        tick();
        const piped = await replaySession(FIXTURE, { pipeline: true });
        tick();
        if (piped.comparison.kind === 'diverged') throw new Error(`pipelined fixture replay ${piped.verdict}`);
        const rec = await recorded(index);
        tick();
        return { 'ms-per-step': ms, 'ms-per-step.pipelined': [80 / piped.speed], ipc, 'recorder.hooks': [rec.hooksMs], 'recorder.step': rec.stepMs };
      },
      async close() {
        await engine.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
