// Offline replay of the fixture session (tiny, 2 s) through the real engine process: wall
// time per replayed step, one worker stepping as the live loop does (ms-per-step) and the
// default pipelined replay on two workers (ms-per-step.pipelined, engine start excluded).
// Each round is one whole replay, which must stay bit-exact or token-exact; a divergence
// fails the suite rather than timing wrong work.
// With it, what the engine process and the recorder add to a step on a server:
//  - ipc: each replayed step's host round trip minus the worker's own time (the cost of
//    crossing to the engine process and back, paid by every server step);
//  - recorder.cost: the recorder's time on the server's event loop per step, measured inside
//    its code there: its hooks and its writer's own turns (recorder.overhead()), as a share of
//    the recorded session's step.total (`recorder.step`): target ≤ 1 %;
//  - recorder.cpu and recorder.cpu.plain: the loop's CPU time per step of a recorded and of an
//    unrecorded session, both run each round on one real server (same client, same frames,
//    order alternating), steady steps only. Their difference is the recorder's whole cost,
//    what no timer inside it sees (native callbacks, promise jobs, GC of its garbage): the
//    check on recorder.cost, noted with its own share (noisier: a difference of two totals).
// Floor of ms-per-step: the weight bytes of a step ÷ the memory bandwidth measured in the same run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { quantile } from '../lib/stats.ts';
import type { FinishedStep } from '../../src/engine/step-record.ts';
import type { SessionHooks } from '../../src/server/hooks.ts';
import type { SuiteDef } from '../lib/suite-api.ts';
import { mb, mimiWeightBytes } from '../lib/weight-bytes.ts';

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
/** The recorder's cost is a share of a step: it should stay under this. */
export const RECORDER_TARGET_PCT = 1;
/** Steps of a recorded session before its cost is counted (writer open, first writes, warm-up). */
const WARM_STEPS = 5;

/**
 * CPU time of the calling thread (the server's event loop), ms. On Linux the scheduler's own
 * count in /proc/thread-self/schedstat (ns; brought up to date whenever the thread sleeps, as
 * the loop does between messages, so right for a session's span though not for one call):
 * threadCpuUsage (getrusage) moves in ~4 ms ticks there, as much as the recorder costs over a
 * whole session. Elsewhere threadCpuUsage; the whole process where Node lacks it (< 23.9).
 */
const threadCpu: { readonly ms: () => number; readonly what: string } = (() => {
  try {
    const read = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
    if (Number.isFinite(read())) return { ms: read, what: 'main-thread CPU time (schedstat)' };
  } catch {
    // Not Linux.
  }
  if (typeof process.threadCpuUsage === 'function') return { ms: () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }, what: 'main-thread CPU time (getrusage)' };
  return { ms: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }, what: 'process CPU time (this Node has no process.threadCpuUsage: every thread counted)' };
})();

/** The recorded − unrecorded loop CPU per step over the rounds: median, spread, and as a share of a step. */
function differenceNote(what: string, diffs: readonly number[], stepMs: number): string {
  if (diffs.length === 0) return `${what}: not measured`;
  const med = quantile(diffs, 0.5);
  return `${what}: median ${med.toFixed(3)} ms per step over ${diffs.length} rounds (min ${Math.min(...diffs).toFixed(3)}, max ${Math.max(...diffs).toFixed(3)}), ${((100 * med) / stepMs).toFixed(2)} % of recorder.step's p50 ${stepMs.toFixed(2)} ms`;
}

/**
 * CPU time of every thread of this process (the loop, the recorder's writer thread, libuv's
 * pool; the engine is another process), ms, from each thread's schedstat; null off Linux.
 */
function processThreadsCpuMs(): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        ns += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read: its time is gone from both ends.
      }
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

/**
 * Hooks that pass everything to `inner` (the recorder, or nothing) and read the loop's CPU
 * clocks and the recorder's meter when step WARM_STEPS and step `end` finish: the session's
 * steady steps. Only there: reading every thread's clock costs the loop ~50 µs. The probe
 * runs alike in recorded and unrecorded sessions.
 */
function probe(inner: Recorder | null, end: number): { hooks: SessionHooks; steady: () => { steps: number; cpuMs: number; meterMs: number; allCpuMs: number | null } } {
  let first: { step: number; cpu: number; meter: number; all: number | null } | null = null;
  let last: { step: number; cpu: number; meter: number; all: number | null } | null = null;
  const meter = () => inner?.overhead().totalMs ?? 0;
  const hooks: SessionHooks = {
    onSessionOpen: (id, ready, t, control) => inner?.onSessionOpen(id, ready, t, control),
    onInbound: (id, bytes, t) => inner?.onInbound(id, bytes, t),
    onOutbound: (id, bytes, t) => inner?.onOutbound(id, bytes, t),
    onEvent: (id, e) => inner?.onEvent(id, e),
    onSessionClose: (id) => inner?.onSessionClose(id),
    onStepFinished: (id, record: FinishedStep) => {
      inner?.onStepFinished(id, record);
      if (record.step !== WARM_STEPS && record.step !== end) return;
      const at = { step: record.step, cpu: threadCpu.ms(), meter: meter(), all: processThreadsCpuMs() };
      if (first === null) first = at;
      else last = at;
    },
  };
  const steady = () => {
    if (first === null || last === null) throw new Error(`a session of the recorder's round did not finish step ${end}`);
    return { steps: last.step - first.step, cpuMs: last.cpu - first.cpu, meterMs: last.meter - first.meter, allCpuMs: first.all === null || last.all === null ? null : last.all - first.all };
  };
  return { hooks, steady };
}

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
    const recordedSteps = ctx.quick ? 50 : 100;
    const frames = Array.from({ length: recordedSteps }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((k * 1920 + i) * 0.02)));
    const dir = mkdtempSync(join(tmpdir(), 'solacelive-bench-recorder-'));
    // One recorder for the whole run, as a server has: what it does once per process is not a step's cost.
    const recorder = new Recorder({ dir, mode: 'all', engineInfo: () => engine.info });

    /** Per round: the recorded session's loop CPU per step minus the unrecorded one's; and every recorded step.total. */
    const diffs: number[] = [];
    /** The same over every thread of this process: the recorder's CPU wherever it runs (its writer thread too). */
    const allDiffs: number[] = [];
    const steps: number[] = [];
    const stepP50 = () => quantile(steps, 0.5);

    /** One session on a real server, recorded or not: its steady steps' loop CPU and recorder meter, and its step.total values. */
    const session = async (record: boolean): Promise<{ cpuMs: number; meterMs: number; allCpuMs: number | null; stepMs: number[] }> => {
      const p = probe(record ? recorder : null, recordedSteps - 1);
      const stepMs: number[] = [];
      const hooks: SessionHooks = { ...p.hooks, onStepFinished: (id, f) => {
        p.hooks.onStepFinished!(id, f);
        if (f.spans['step.total'] !== undefined) stepMs.push(f.spans['step.total']);
      } };
      const server = createServer({ port: 0 }, engine, hooks);
      const { url } = await server.start();
      try {
        const client = await connect(url, { pace: 'fast', seed: 1 });
        await client.run(frames);
      } finally {
        await server.stop();
      }
      const s = p.steady();
      return { cpuMs: s.cpuMs / s.steps, meterMs: s.meterMs / s.steps, allCpuMs: s.allCpuMs === null ? null : s.allCpuMs / s.steps, stepMs };
    };

    /** A recorded and an unrecorded session, in the order the round says: the recorder's cost per step. */
    const recorderRound = async (index: number): Promise<{ costMs: number; cpuMs: number; plainCpuMs: number; allDiffMs: number | null; stepMs: number[] }> => {
      const done = recorder.status().length;
      let recorded: Awaited<ReturnType<typeof session>>;
      let plain: Awaited<ReturnType<typeof session>>;
      if (index % 2 === 0) {
        recorded = await session(true);
        plain = await session(false);
      } else {
        plain = await session(false);
        recorded = await session(true);
      }
      const status = recorder.status()[done];
      if (!status || status.state !== 'closed') throw new Error(`the recorded session failed: ${status?.error?.message ?? 'no session recorded'}`);
      // The file holds the steps the server ran: the recording is real, not an empty tap.
      let onDisk = 0;
      for await (const _ of (await openSession(status.path)).steps()) onDisk++;
      if (onDisk !== recordedSteps) throw new Error(`the recorded session holds ${onDisk} steps, not ${recordedSteps}`);
      const allDiffMs = recorded.allCpuMs === null || plain.allCpuMs === null ? null : recorded.allCpuMs - plain.allCpuMs;
      return { costMs: recorded.meterMs, cpuMs: recorded.cpuMs, plainCpuMs: plain.cpuMs, allDiffMs, stepMs: recorded.stepMs };
    };

    return {
      describe: `${runsPerRound} replay(s) of the 2 s fixture on one worker, one pipelined on two, and a ${recordedSteps}-step session recorded and one not per round, ms per step`,
      figures: [
        { name: 'ms-per-step', calibration: 'matmul', budget: true, floor: { kind: 'weights', bytes: stepBytes, describe: `${mb(stepBytes)} of weights per step` } },
        { name: 'ms-per-step.pipelined', calibration: 'matmul', budget: false, floor: { kind: 'weights', bytes: stepBytes, describe: `${mb(stepBytes)} of weights per step` } },
        { name: 'ipc', calibration: 'matmul', budget: false },
        { name: 'recorder.cost', calibration: 'matmul', budget: false, share: { of: 'recorder.step', targetPct: RECORDER_TARGET_PCT } },
        { name: 'recorder.cpu', calibration: 'matmul', budget: false },
        { name: 'recorder.cpu.plain', calibration: 'matmul', budget: false },
        { name: 'recorder.step', calibration: 'matmul', budget: true },
      ],
      get notes() {
        return [
          `recorder.cost: one sample per round, time inside the recorder's code on the loop (its hooks and its writer's turns) per steady step (${WARM_STEPS}+) of the recorded session; target ≤ ${RECORDER_TARGET_PCT} % of recorder.step`,
          `recorder.cpu, recorder.cpu.plain: one sample per round each, ${threadCpu.what} per steady step of the recorded and of the unrecorded session`,
          differenceNote('recorder.cpu − recorder.cpu.plain (the recorder\'s whole cost on the loop)', diffs, stepP50()),
          differenceNote('the same over every thread of the server\'s process (the loop, the recorder\'s writer thread, libuv\'s pool: its CPU wherever it runs)', allDiffs, stepP50()),
        ];
      },
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
        const rec = await recorderRound(index);
        tick();
        diffs.push(rec.cpuMs - rec.plainCpuMs);
        if (rec.allDiffMs !== null) allDiffs.push(rec.allDiffMs);
        steps.push(...rec.stepMs);
        return { 'ms-per-step': ms, 'ms-per-step.pipelined': [80 / piped.speed], ipc, 'recorder.cost': [rec.costMs], 'recorder.cpu': [rec.cpuMs], 'recorder.cpu.plain': [rec.plainCpuMs], 'recorder.step': rec.stepMs };
      },
      async close() {
        await engine.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
