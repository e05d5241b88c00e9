// The results file of `solacelive bench` (format solacelive-bench/1): per figure its
// per-round samples, absolute and as a ratio to a calibration kernel measured in the same
// rounds, its physical floor measured in the same run, plus the fingerprint of the machine.
// Read back with every field checked, so a corrupt or foreign file is refused with the
// field named. Floors, shares and bandwidth are optional: files written before them still read.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SpanName } from '../../src/telemetry/index.ts';
import type { HostFingerprint } from '../../src/telemetry/host.ts';
import type { BlasInfo } from '../../src/models/platform.ts';
import { BenchError, type BenchErrorCode } from './errors.ts';

export const RESULTS_FORMAT = 'solacelive-bench/1';

export type CalibrationKernel = 'matmul' | 'memcpy';

export interface FigureResult {
  /** `${suite}/${name}`: the key thresholds and baselines use. */
  readonly id: string;
  readonly suite: string;
  readonly name: string;
  readonly span?: SpanName;
  /** Raw samples behind p50/p95/p99 (steps, calls). */
  readonly samples: number;
  /** Over every raw sample, ms. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** p99 / 80 ms, for figures that are a share of a step. */
  readonly budgetFraction?: number;
  /** The calibration kernel the ratios divide by. */
  readonly calibration: CalibrationKernel;
  /** Median of each round, ms. */
  readonly rounds: readonly number[];
  /** Each round's median over that round's calibration (fastest kernel run): what the gate compares. */
  readonly ratios: readonly number[];
  /** Median of ratios. */
  readonly ratio: number;
  /** Coefficient of variation of the ratios across rounds, percent. */
  readonly cvPct: number;
  /** Coefficient of variation of the round medians in ms (without calibration), percent. */
  readonly rawCvPct: number;
  /** Relative margin of error of the mean ratio (95 %), percent. */
  readonly rmePct: number;
  /** The physical floor of the figure's work, measured in the same run (absent in older files). */
  readonly floor?: FloorResult;
  /** The figure as a share of another figure of the same run (absent in older files). */
  readonly share?: ShareResult;
}

/**
 * What the figure's work would take if it only moved its bytes, measured in the same run:
 * `weights`: bytes of weights it reads ÷ the suite process's memory bandwidth (SuiteRun.bandwidth);
 * `memcpy`: a copy of the same bytes, timed in the same rounds; `direct`: the same traffic
 * without the part measured (the proxy's figures: the direct connection), in the same rounds.
 */
export interface FloorResult {
  readonly kind: FloorKind;
  readonly describe: string;
  /** Bytes the floor moves per call (0 for `direct`). */
  readonly bytes: number;
  /** The floor per call, ms. */
  readonly ms: number;
  /** The figure's p50 over the floor: how many times the floor it takes (1 = at the floor). */
  readonly ratio: number;
  /** The floor's own p99, ms, where it is timed (memcpy, direct): the tail to compare the figure's with. */
  readonly p99?: number;
}

export type FloorKind = 'weights' | 'memcpy' | 'direct';

/** A figure as a share of another one of the same suite and run (the recorder's hooks of a step). */
export interface ShareResult {
  /** Name of the figure it is a share of. */
  readonly of: string;
  /** That figure's p50, ms. */
  readonly ofMs: number;
  /** 100 × this figure's p50 / ofMs. */
  readonly pct: number;
  /** The share it should stay under, percent. */
  readonly targetPct: number;
  readonly ok: boolean;
}

/** The memory bandwidth of the suite process: a large copy timed at setup and before every round. */
export interface BandwidthResult {
  readonly describe: string;
  /** Bytes copied per run of the kernel. */
  readonly bytes: number;
  /** Fastest run, GB/s of memory traffic (bytes read + bytes written): what `weights` floors divide by. */
  readonly gbps: number;
  /** Fastest run per round, GB/s. */
  readonly rounds: readonly number[];
}

export interface CalibrationResult {
  readonly kernel: CalibrationKernel;
  readonly describe: string;
  /** Median per round, ms. */
  readonly rounds: readonly number[];
  readonly cvPct: number;
}

export interface SuiteRun {
  readonly suite: string;
  readonly status: 'ok' | 'skipped';
  /** Why the suite was skipped (e.g. real weights not in the cache). */
  readonly reason?: string;
  readonly describe: string;
  readonly figures: readonly FigureResult[];
  readonly calibration: readonly CalibrationResult[];
  /** Present when a figure has a `weights` floor (absent in older files). */
  readonly bandwidth?: BandwidthResult;
  readonly notes: readonly string[];
  readonly seconds: number;
}

export interface MachineFingerprint extends HostFingerprint {
  readonly mlxDevice: 'cpu' | 'gpu' | 'unknown';
  readonly metal: boolean;
  readonly blas: BlasInfo | null;
  /** How the runner class was chosen for this machine (see gate.ts detectRunnerClass). */
  readonly runnerClass: string;
}

export interface BenchResults {
  readonly format: typeof RESULTS_FORMAT;
  readonly createdAt: string;
  readonly config: string;
  readonly host: MachineFingerprint;
  /** 1-, 5- and 15-minute load averages at the start and the end of the run. */
  readonly loadavg: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** blasCoreType: OPENBLAS_CORETYPE of the suite processes (SOLACELIVE_BLAS_CORETYPE, as serve); null = detected. Absent in older files. */
  readonly settings: { readonly rounds: number; readonly quick: boolean; readonly blasThreads: number; readonly blasCoreType?: string | null };
  readonly suites: readonly SuiteRun[];
  readonly warnings: readonly string[];
}

export function allFigures(r: BenchResults): FigureResult[] {
  return r.suites.flatMap((s) => s.figures);
}

export function writeResults(r: BenchResults, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
}

/** Reads a JSON file, turning a missing or unparsable file into a BenchError naming it. */
export function readJsonFile(path: string, code: BenchErrorCode, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new BenchError(code, `${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BenchError(code, `${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks the fields the gate reads; throws BenchError(code) naming the first bad one. */
export function checkRatios(where: string, ratios: unknown, code: BenchErrorCode): readonly number[] {
  if (!Array.isArray(ratios) || ratios.length < 2 || !ratios.every((x) => isNum(x) && x > 0)) {
    throw new BenchError(code, `${where}: "ratios" must be an array of at least 2 positive numbers`);
  }
  return ratios as number[];
}

const FLOOR_KINDS: readonly string[] = ['weights', 'memcpy', 'direct'] satisfies readonly FloorKind[];

function checkFloor(f: unknown, bad: (msg: string) => never): void {
  if (!isObj(f)) bad('must be an object');
  const o = f as Record<string, unknown>;
  if (!FLOOR_KINDS.includes(o.kind as string)) bad(`"kind" must be one of ${FLOOR_KINDS.join(', ')}`);
  for (const k of ['ms', 'ratio']) if (!(isNum(o[k]) && (o[k] as number) > 0)) bad(`"${k}" must be a positive number`);
  if (!(isNum(o.bytes) && (o.bytes as number) >= 0)) bad('"bytes" must be a number ≥ 0');
}

function checkShare(f: unknown, bad: (msg: string) => never): void {
  if (!isObj(f)) bad('must be an object');
  const o = f as Record<string, unknown>;
  if (typeof o.of !== 'string') bad('"of" must name a figure');
  for (const k of ['ofMs', 'pct', 'targetPct']) if (!isNum(o[k])) bad(`"${k}" must be a finite number`);
}

export function parseResults(data: unknown, path: string): BenchResults {
  const bad = (msg: string): never => {
    throw new BenchError('BENCH_ERR_RESULTS', `results ${path}: ${msg}`);
  };
  if (!isObj(data)) return bad('not a JSON object');
  if (data.format !== RESULTS_FORMAT) return bad(`"format" is ${JSON.stringify(data.format)}, expected "${RESULTS_FORMAT}" (a file written by \`solacelive bench\`)`);
  if (typeof data.config !== 'string') return bad('"config" missing');
  if (!isObj(data.host)) return bad('"host" missing');
  if (!Array.isArray(data.suites)) return bad('"suites" missing');
  data.suites.forEach((s: unknown, i: number) => {
    if (!isObj(s) || typeof s.suite !== 'string') return bad(`suites[${i}] has no "suite" name`);
    if (s.status !== 'ok' && s.status !== 'skipped') return bad(`suites[${i}] (${s.suite}): "status" must be ok or skipped`);
    if (!Array.isArray(s.figures)) return bad(`suites[${i}] (${s.suite}): "figures" missing`);
    s.figures.forEach((f: unknown, j: number) => {
      const where = `suites[${i}].figures[${j}]`;
      if (!isObj(f) || typeof f.id !== 'string') return bad(`${where} has no "id"`);
      checkRatios(`results ${path}: ${where} (${f.id})`, f.ratios, 'BENCH_ERR_RESULTS');
      for (const k of ['p50', 'p95', 'p99', 'ratio', 'cvPct']) if (!isNum(f[k])) bad(`${where} (${f.id}): "${k}" must be a finite number`);
      if (f.floor !== undefined) checkFloor(f.floor, (msg) => bad(`${where} (${f.id}): "floor" ${msg}`));
      if (f.share !== undefined) checkShare(f.share, (msg) => bad(`${where} (${f.id}): "share" ${msg}`));
    });
    if (s.bandwidth !== undefined && !(isObj(s.bandwidth) && isNum(s.bandwidth.gbps) && s.bandwidth.gbps > 0 && isNum(s.bandwidth.bytes))) bad(`suites[${i}] (${s.suite}): "bandwidth" must hold a positive "gbps" and "bytes"`);
  });
  return data as unknown as BenchResults;
}

export function readResults(path: string): BenchResults {
  return parseResults(readJsonFile(path, 'BENCH_ERR_RESULTS', 'results'), path);
}
