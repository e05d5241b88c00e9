// The server end to end: `solacelive serve` (tiny model) spawned on loopback, its capacity
// found by the load test (harness/loadtest: real-time Moshi clients, every client's lag p99
// within 80 ms, no stall, no disconnect, no refusal), then each round one level at that
// capacity. Figures: client-measured lag (and its last quarter, which grows when the server
// falls behind), first audio, handshake, and 80 ms over the capacity (ms-per-session).
// Also the bench side of `solacelive loadtest --json` (the same figures, suite `server`).
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import type { PlatformFingerprint } from '../../src/models/platform.ts';
import { hostFingerprint } from '../../src/telemetry/host.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import { loadtestCommand } from '../../harness/cli/loadtest.ts';
import { DEFAULT_INPUT, findCapacity, levelLine, LoadtestError, parseTarget, runLevel, wavInput, type LevelOptions, type LevelResult } from '../../harness/loadtest/index.ts';
import { buildCalibration, buildFigure } from '../lib/figures.ts';
import { detectRunnerClass } from '../lib/gate.ts';
import { RESULTS_FORMAT, writeResults, type BenchResults, type SuiteRun } from '../lib/results.ts';
import type { FigureSpec, SuiteDef } from '../lib/suite-api.ts';
import { packageVersion, ROOT } from '../lib/paths.ts';

const BIN = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;

/** `solacelive serve --port 0 ARGS`, resolved with its URL once its model is ready. */
function startServe(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve: model not ready within 120 s:\n${log}`));
    }, 120_000);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${log}`)));
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /listening on (ws:\/\/\S+)/.exec(log);
      if (m && /model \S+ ready/.test(log)) {
        clearTimeout(t);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

export const serverSuite: SuiteDef = {
  name: 'server',
  describe: 'solacelive serve on loopback under the load test: capacity, client-measured lag, first audio',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the server suite serves the tiny model (a real model\'s capacity on this machine is a load test away: solacelive loadtest --find-capacity)' };
    const { child, url } = await startServe([]);
    const stop = () => child.kill('SIGKILL');
    process.once('exit', stop);
    try {
      const levelS = ctx.quick ? 3 : 5;
      const base: Omit<LevelOptions, 'clients'> = {
        target: parseTarget(url, 'moshi'), durationS: levelS, rampS: 0.5, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: BUDGET_MS,
        lib: await loadLibopusNode(), connectTimeoutMs: 10_000, record: null, runId: 'bench',
      };
      const c = await findCapacity((n) => runLevel({ ...base, clients: n }), {
        maxClients: ctx.quick ? 4 : 8, timeLimitS: ctx.quick ? 90 : 240, levelS: levelS + 35, onLevel: (l) => ctx.log(`capacity search: ${levelLine(l)}`),
      });
      const n = Math.max(1, c.capacity);
      const capacityNote = `capacity ${c.capacity} (every client's lag p99 <= ${BUDGET_MS} ms, no stall, disconnect or refusal)${c.bound ? ` at least: search bound by ${c.bound}` : ''}; levels: ${c.levels.map((l) => `${l.clients} ${l.pass ? 'pass' : 'fail'}`).join(', ')}`;
      ctx.log(capacityNote);
      const perRound = ctx.perRound ?? levelS;
      return {
        describe: `solacelive serve (tiny) on loopback, Moshi protocol: capacity ${c.capacity} found by the load test; each round ${n} real-time client(s) for ${perRound} s`,
        figures: SERVER_FIGURES,
        notes: [capacityNote, ...c.levels.map(levelLine)],
        async round(_index, tick) {
          const l = await runLevel({ ...base, clients: n, durationS: perRound });
          tick();
          return roundSamples(l, c.capacity);
        },
        async close() {
          child.kill('SIGTERM');
          await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
          process.off('exit', stop);
        },
      };
    } catch (err) {
      stop();
      throw err;
    }
  },
};

export const SERVER_SUITE = 'server';

/**
 * lag: every answered frame's lag (client-measured end to end); lag-late: the last quarter
 * of each client's frames (grows above lag when the server falls behind: the growth figure
 * as a positive latency); first-audio and handshake per client; ms-per-session: the budget
 * over the capacity found (a smaller capacity is a larger figure, as the gate expects of a regression).
 */
export const SERVER_FIGURES: readonly FigureSpec[] = [
  { name: 'lag', calibration: 'matmul', budget: true },
  { name: 'lag-late', calibration: 'matmul', budget: true },
  { name: 'first-audio', calibration: 'matmul', budget: false },
  { name: 'handshake', calibration: 'matmul', budget: false },
  { name: 'ms-per-session', calibration: 'matmul', budget: false },
];

/** 80 ms over the capacity; capacity 0 counts as half a session (the figure must stay finite). */
export const msPerSession = (capacity: number): number => BUDGET_MS / Math.max(capacity, 0.5);

/** One round's samples per figure name, from a level run at a fixed N. */
export function roundSamples(l: LevelResult, capacity: number): Record<string, number[]> {
  const figs = l.reports.flatMap((r) => (r.status === 'done' && r.figures ? [r.figures] : []));
  const lag = figs.flatMap((f) => f.lag.series.map((p) => p[1]));
  if (lag.length === 0) {
    const why = l.why.length ? l.why.join('; ') : 'no client got audio back';
    throw new LoadtestError('LOADTEST_ERR_NO_ANSWER', `a round at ${l.clients} client(s) measured no lag: ${why}`);
  }
  return {
    lag,
    'lag-late': figs.flatMap((f) => f.lag.series.slice(Math.floor((f.lag.series.length * 3) / 4)).map((p) => p[1])),
    'first-audio': figs.flatMap((f) => (f.firstAudioMs === null ? [] : [f.firstAudioMs])),
    handshake: figs.flatMap((f) => (f.handshakeMs === null ? [] : [f.handshakeMs])),
    'ms-per-session': [msPerSession(capacity)],
  };
}

export interface RoundsRun {
  readonly rounds: readonly Record<string, number[]>[];
  readonly calibration: { readonly matmul: readonly number[]; readonly memcpy: readonly number[] };
}

/** Runs `rounds` rounds with a calibration point before and after each (their fastest is the round's). */
export async function calibratedRounds(rounds: number, round: (i: number) => Promise<Record<string, number[]>>): Promise<RoundsRun> {
  // MLX only when results are asked for: a plain load test stays a light client.
  const { Calibrator } = await import('../lib/calibrate.ts');
  const cal = new Calibrator();
  const out: Record<string, number[]>[] = [];
  const matmul: number[] = [];
  const memcpy: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = cal.measure();
    const samples = await round(i);
    const b = cal.measure();
    out.push(samples);
    matmul.push(Math.min(a.matmul, b.matmul));
    memcpy.push(Math.min(a.memcpy, b.memcpy));
  }
  return { rounds: out, calibration: { matmul, memcpy } };
}

/** A results file holding the server suite alone. */
export function serverResults(run: RoundsRun, platform: PlatformFingerprint, o: { config: string; describe: string; notes: readonly string[]; seconds: number; loadStart: readonly number[]; loadEnd: readonly number[] }): BenchResults {
  const cal = { matmul: [...run.calibration.matmul], memcpy: [...run.calibration.memcpy] };
  const suite: SuiteRun = {
    suite: SERVER_SUITE,
    status: 'ok',
    describe: o.describe,
    figures: SERVER_FIGURES.map((f) => buildFigure(SERVER_SUITE, f, run.rounds.map((r) => r[f.name] ?? []), cal[f.calibration])),
    calibration: [buildCalibration('matmul', cal.matmul), buildCalibration('memcpy', cal.memcpy)],
    notes: o.notes,
    seconds: o.seconds,
  };
  return {
    format: RESULTS_FORMAT,
    createdAt: new Date().toISOString(),
    config: o.config,
    host: { ...hostFingerprint(ROOT, packageVersion()), mlxDevice: platform.mlxDevice, metal: platform.metal, blas: platform.blas, runnerClass: detectRunnerClass() },
    loadavg: { start: o.loadStart, end: o.loadEnd },
    settings: { rounds: run.rounds.length, quick: false, blasThreads: 1 },
    suites: [suite],
    warnings: [],
  };
}

/** `solacelive loadtest` with --json writing these figures (bench/cli.ts registers it: bench sits on top of harness). */
export const command = loadtestCommand({
  async write(o) {
    const run = await calibratedRounds(o.rounds, async (i) => {
      const l: LevelResult = await o.round(i);
      return roundSamples(l, o.capacity ?? (l.pass ? l.clients : 0));
    });
    const notes = o.capacity === null ? [...o.notes, 'ms-per-session: the budget over N when the round passed, over 0.5 when it failed (no capacity search)'] : o.notes;
    const { platformFingerprint } = await import('../../src/models/platform.ts');
    writeResults(serverResults(run, platformFingerprint(), { config: o.config, describe: o.describe, notes, seconds: (performance.now() - o.startedAt) / 1000, loadStart: o.loadStart, loadEnd: loadavg() }), o.path);
  },
});
