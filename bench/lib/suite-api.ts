// What a unified bench suite provides. A suite runs in its own child process (MLX and
// OpenBLAS pinned as the engine pins them); the driver there alternates calibration and
// rounds, so each round's figures divide by a calibration measured moments before.
import type { SpanName } from '../../src/telemetry/index.ts';
import type { CalibrationKernel } from './results.ts';

export const SUITES = ['codec', 'mimi', 'lm', 'step', 'replay', 'proxy', 'dash', 'server'] as const;
export type SuiteName = (typeof SUITES)[number];
export const CONFIGS = ['tiny', 'real'] as const;
export type BenchConfig = (typeof CONFIGS)[number];

/**
 * TEST-ONLY: a real sleep (Atomics.wait) added inside one engine stage, by wrapping that
 * stage's model method in the bench child before the suite runs. Never set by the CLI; the
 * engine knows nothing of it. Used to prove the gate catches a slower span and names it.
 */
export interface InjectSleep {
  readonly span: 'mimi.encode' | 'mimi.decode' | 'lm.temporal' | 'lm.depformer';
  readonly ms: number;
}

/**
 * TEST-ONLY: busy work added inside one engine stage, equal to `cpuPct` % of the CPU time
 * the stage's own call took (measured around it with process.cpuUsage, every thread), so
 * the stage costs that much more work, as a slower change would, and not more waiting.
 */
export interface InjectCpu {
  readonly span: InjectSleep['span'];
  readonly cpuPct: number;
}

export type Inject = InjectSleep | InjectCpu;

/** The server suite's layouts to compare: one `serve --engines E` per count, or two behind HAProxy. */
export interface ServerLayoutOptions {
  readonly engines?: readonly number[];
  readonly haproxy?: boolean;
}

export interface SuiteContext {
  readonly config: BenchConfig;
  readonly rounds: number;
  readonly quick: boolean;
  /** Steps (or calls) per round where the suite counts them; suites have their own defaults. */
  readonly perRound?: number;
  /** The server suite's layouts (--server-engines, --haproxy); the other suites ignore it. */
  readonly server?: ServerLayoutOptions;
  readonly log: (msg: string) => void;
}

export interface FigureSpec {
  readonly name: string;
  readonly span?: SpanName;
  readonly calibration: CalibrationKernel;
  /** Report p99 as a share of the 80 ms budget. */
  readonly budget: boolean;
  /** The physical floor of this figure's work, measured in the same run (see FloorResult). */
  readonly floor?: FloorSpec;
  /** Report this figure's p50 as a share of another figure's, against a target. */
  readonly share?: { readonly of: string; readonly targetPct: number };
}

/**
 * `weights`: `bytes` of weights one call reads; the child measures its memory bandwidth in
 * the same rounds and the floor is bytes ÷ bandwidth. `memcpy` and `direct`: the suite times
 * the floor itself in the same rounds and returns it per call under the samples key `sample`.
 */
export type FloorSpec =
  | { readonly kind: 'weights'; readonly bytes: number; readonly describe: string }
  | { readonly kind: 'memcpy' | 'direct'; readonly bytes: number; readonly sample: string; readonly describe: string };

export interface SuiteInstance {
  readonly describe: string;
  readonly figures: readonly FigureSpec[];
  readonly notes: readonly string[];
  /**
   * When set, the driver adds a figure of this name: the process's CPU time per call of the
   * round (calibration excluded), over the number of samples of the first figure. CPU time
   * counts work, not waiting for a core, so it moves far less with load than wall time; it
   * does not see time spent waiting (a sleep, a lock), which the wall-time figures do.
   */
  readonly cpuFigure?: string;
  /**
   * One round: raw samples in ms per figure name. Call tick() between samples (each step,
   * each call): it takes a calibration point there, so the round's calibration covers the
   * same moments, and the same contention, as its samples.
   */
  round(index: number, tick: () => void): Promise<Record<string, number[]>>;
  close(): Promise<void>;
}

export interface SuiteDef {
  readonly name: SuiteName;
  readonly describe: string;
  /** A suite instance, or why it cannot run here (e.g. real weights not cached). */
  setup(ctx: SuiteContext): Promise<SuiteInstance | { readonly skipped: string }>;
}

/** Sleeps the thread for ms (a real sleep, no busy loop): the test-only injected delay. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** CPU time of this process (every thread: JS, MLX's, OpenBLAS's), ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Spins (real arithmetic, no sleep) until this process has used `ms` more CPU time: the test-only injected work. */
export function burnCpu(ms: number): void {
  const end = processCpuMs() + ms;
  let x = 1;
  while (processCpuMs() < end) for (let i = 0; i < 2000; i++) x = Math.sqrt(x + i);
  if (x < 0) throw new Error('unreachable'); // keeps the loop from being optimized away
}
