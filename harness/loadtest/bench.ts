// The load test in the bench format (solacelive-bench/1), suite `server`: what each round
// (one level at a fixed N) gives as samples, and, for `solacelive loadtest --json`, the whole
// results file with calibration kernels timed between the rounds on this machine (the
// ratios are only meaningful when the server runs here: loopback). The bench suite
// (bench/suites/server.ts) hands the same samples to the bench driver.
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import { hostFingerprint } from '../../src/telemetry/host.ts';
import { platformFingerprint } from '../../src/models/platform.ts';
import { Calibrator } from '../../bench/lib/calibrate.ts';
import { buildCalibration, buildFigure } from '../../bench/lib/figures.ts';
import { detectRunnerClass } from '../../bench/lib/gate.ts';
import { RESULTS_FORMAT, type BenchResults, type SuiteRun } from '../../bench/lib/results.ts';
import type { FigureSpec } from '../../bench/lib/suite-api.ts';
import { packageVersion, ROOT } from '../../bench/lib/suite.ts';
import { LoadtestError } from './errors.ts';
import type { LevelResult } from './level.ts';

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
export function serverResults(run: RoundsRun, o: { config: string; describe: string; notes: readonly string[]; seconds: number; loadStart: readonly number[]; loadEnd: readonly number[] }): BenchResults {
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
  const platform = platformFingerprint();
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
