// The contract between the producers of progress (replayer, bench runner) and the Ink
// dashboard's views. Types only: producers do not depend on Ink or React.
import type { SpanName } from '../../src/telemetry/index.ts';

/** Replay progress, emitted by harness/replayer.ts through ReplayOptions.onProgress. */
export interface ReplayProgress {
  readonly kind: 'replay';
  readonly session: string;
  readonly stepsDone: number;
  readonly stepsTotal: number;
  /** Replayed audio time / wall time so far. */
  readonly speed: number;
  /** 'running' until the first divergence or the end. */
  readonly verdict: 'running' | 'bit-exact' | 'token-exact' | 'diverged';
  /** Set as soon as the first differing step is seen. */
  readonly firstDivergence?: { readonly step: number; readonly detail: string };
  readonly done: boolean;
}

/** One measured figure of a bench run. */
export interface BenchFigure {
  readonly suite: string;
  /** Task name; span names where the figure is a step span. */
  readonly name: string;
  readonly span?: SpanName;
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Relative margin of error of the mean, percent. */
  readonly rme: number;
  /** Coefficient of variation, percent. */
  readonly cv: number;
  /** p99 as a fraction of the 80 ms budget, for latency figures. */
  readonly budgetFraction?: number;
  /** p50 over the physical floor measured in the same run (weight traffic, memcpy, direct), where the figure has one. */
  readonly floorRatio?: number;
}

/** Bench progress, emitted by the bench runner (bench/) for `solacelive bench --dashboard`. */
export type BenchProgress =
  | { readonly kind: 'suite-start'; readonly suite: string; readonly tasks: readonly string[] }
  | { readonly kind: 'figure'; readonly figure: BenchFigure }
  | { readonly kind: 'suite-done'; readonly suite: string }
  | { readonly kind: 'done'; readonly figures: readonly BenchFigure[]; readonly warnings: readonly string[] };
