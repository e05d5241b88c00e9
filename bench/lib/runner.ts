// The bench runner: each suite in a child process of its own (bench/lib/suite-child.ts),
// OpenBLAS pinned as the engine pins it, progress reported as BenchProgress (the contract
// with the Ink dashboard), and one results file with the machine's fingerprint.
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchFigure, BenchProgress } from '../../harness/dashboard/events.ts';
import type { BlasPinning } from '../../src/engine/host.ts';
import type { PlatformFingerprint } from '../../src/models/platform.ts';
import { hostFingerprint } from '../../src/telemetry/host.ts';
import { benchBlas, blasEnv } from './blas.ts';
import { BenchError } from './errors.ts';
import { detectRunnerClass, thresholdFor, type RunnerClass } from './gate.ts';
import { killTree } from './process-tree.ts';
import { RESULTS_FORMAT, type BenchResults, type FigureResult, type SuiteRun } from './results.ts';
import { CONFIGS, SUITES, type BenchConfig, type Inject, type ServerLayoutOptions, type SuiteName } from './suite-api.ts';
import { packageVersion, ROOT } from './paths.ts';

const CHILD = fileURLToPath(new URL('./suite-child.ts', import.meta.url));

export interface ChildRequest {
  readonly suite: SuiteName;
  readonly config: BenchConfig;
  readonly rounds: number;
  readonly quick: boolean;
  readonly perRound?: number;
  readonly server?: ServerLayoutOptions;
  readonly inject?: Inject;
}

export type ChildReply =
  | { readonly kind: 'log'; readonly msg: string }
  | { readonly kind: 'start'; readonly tasks: readonly string[]; readonly describe: string }
  | { readonly kind: 'round'; readonly index: number; readonly load1: number }
  | { readonly kind: 'done'; readonly run: SuiteRun; readonly platform: PlatformFingerprint }
  | { readonly kind: 'error'; readonly message: string };

export interface RunOptions {
  readonly suites: readonly SuiteName[];
  readonly config: BenchConfig;
  /** Rounds per suite (default 12, 6 with quick). */
  readonly rounds?: number;
  readonly quick?: boolean;
  /** Steps or calls per round, overriding each suite's default. */
  readonly perRound?: number;
  /** The server suite's layouts (see ServerLayoutOptions). */
  readonly server?: ServerLayoutOptions;
  /** OPENBLAS_NUM_THREADS of the suite processes (default 1, as the engine). */
  readonly blasThreads?: number;
  /** For CV warnings against the class's thresholds. */
  readonly runnerClass?: RunnerClass | null;
  readonly onProgress?: (p: BenchProgress) => void;
  readonly log?: (msg: string) => void;
  /** TEST-ONLY: see InjectSleep and InjectCpu. Not reachable from the CLI. */
  readonly inject?: Inject & { readonly suite: SuiteName };
  /** Ends the run: the suite's process is stopped (it stops what it started) and runBench rejects with BENCH_ERR_ABORTED. */
  readonly signal?: AbortSignal;
}

/** How long a suite's process has to stop what it started (its serves, HAProxy) after SIGTERM, or to exit after its result, before it is killed. */
const CHILD_GRACE_MS = 5000;

/** Parses `--suite` (a name, a comma list, or all). */
export function parseSuites(arg: string | undefined): SuiteName[] {
  if (arg === undefined || arg === 'all') return [...SUITES];
  const names = arg.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SUITES as readonly string[]).includes(n)) throw new BenchError('BENCH_ERR_UNKNOWN_SUITE', `unknown suite "${n}" (suites: ${SUITES.join(', ')}, or all)`);
  }
  return names as SuiteName[];
}

export function parseConfig(arg: string | undefined): BenchConfig {
  const c = arg ?? 'tiny';
  if (!(CONFIGS as readonly string[]).includes(c)) throw new BenchError('BENCH_ERR_UNKNOWN_CONFIG', `unknown bench config "${c}" (configs: ${CONFIGS.join(', ')}: tiny = the embedded tiny model, real = real-size Mimi and Moshi 7B q4 from the cache)`);
  return c as BenchConfig;
}

export function toBenchFigure(f: FigureResult): BenchFigure {
  return {
    suite: f.suite,
    name: f.name,
    ...(f.span ? { span: f.span } : {}),
    samples: f.samples,
    p50: f.p50,
    p95: f.p95,
    p99: f.p99,
    rme: f.rmePct,
    cv: f.cvPct,
    ...(f.budgetFraction !== undefined ? { budgetFraction: f.budgetFraction } : {}),
    ...(f.floor !== undefined ? { floorRatio: f.floor.ratio } : {}),
  };
}

function runChild(req: ChildRequest, blas: BlasPinning, onReply: (r: ChildReply) => void, signal: AbortSignal | undefined, log: (m: string) => void): Promise<{ run: SuiteRun; platform: PlatformFingerprint }> {
  const env = blasEnv(process.env, blas);
  const child = fork(CHILD, [], { execArgv: ['--expose-gc'], env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  log(`${req.suite} (${req.config}): starting… (process ${child.pid})`);
  return new Promise((resolve, reject) => {
    let result: { run: SuiteRun; platform: PlatformFingerprint } | null = null;
    let error: string | null = null;
    let aborted = false;
    let killer: NodeJS.Timeout | undefined;
    let lingering: NodeJS.Timeout | undefined;
    // A process that will not go (stuck in native code, or holding a handle after its result) is killed: the run never waits on it.
    const stop = (why: string) => {
      if (child.exitCode !== null || child.signalCode !== null || killer) return;
      child.kill('SIGTERM');
      killer = setTimeout(() => {
        // Stuck where its exit hooks cannot run: what it started goes with it.
        log(`${req.suite}: its process (pid ${child.pid}) was still there ${CHILD_GRACE_MS / 1000} s after ${why}: killed (SIGKILL) with the processes it started`);
        if (child.pid !== undefined) killTree(child.pid);
      }, CHILD_GRACE_MS);
    };
    const onAbort = () => {
      aborted = true;
      stop('the run was aborted');
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: ChildReply) => {
      if (m.kind === 'done') result = { run: m.run, platform: m.platform };
      else if (m.kind === 'error') error = m.message;
      else onReply(m);
      if (m.kind === 'done' || m.kind === 'error') {
        // It exits on its own once its reply is out; the grace covers a handle left open.
        lingering ??= setTimeout(() => stop('its result'), CHILD_GRACE_MS);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(killer);
      clearTimeout(lingering);
      signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(new BenchError('BENCH_ERR_ABORTED', `suite ${req.suite} (${req.config}) aborted; its process ended (${sig ? `signal ${sig}` : `code ${code}`})`));
      else if (result) resolve(result);
      else reject(new BenchError('BENCH_ERR_SUITE_FAILED', `suite ${req.suite} (${req.config}) failed: ${error ?? `its process exited (${sig ? `signal ${sig}` : `code ${code}`})`}`));
    });
    child.send(req);
  });
}

function withoutSuite(i: Inject & { readonly suite: SuiteName }): Inject {
  const { suite: _suite, ...rest } = i;
  return rest;
}

export async function runBench(opts: RunOptions): Promise<BenchResults> {
  const quick = opts.quick ?? false;
  const rounds = opts.rounds ?? (quick ? 6 : 12);
  if (!(Number.isInteger(rounds) && rounds >= 3)) throw new RangeError(`rounds must be an integer ≥ 3 (the gate's t-test needs spread), got ${rounds}`);
  const blasThreads = opts.blasThreads ?? 1;
  const blas = benchBlas(blasThreads);
  const log = opts.log ?? (() => undefined);
  const progress = opts.onProgress ?? (() => undefined);
  const load0 = loadavg();
  const runs: SuiteRun[] = [];
  let platform: PlatformFingerprint | null = null;
  for (const suite of opts.suites) {
    const req: ChildRequest = {
      suite, config: opts.config, rounds, quick,
      ...(opts.perRound !== undefined ? { perRound: opts.perRound } : {}),
      ...(opts.server && suite === 'server' ? { server: opts.server } : {}),
      ...(opts.inject && opts.inject.suite === suite ? { inject: withoutSuite(opts.inject) } : {}),
    };
    const { run, platform: p } = await runChild(req, blas, (m) => {
      if (m.kind === 'log') log(`${suite}: ${m.msg}`);
      else if (m.kind === 'start') {
        log(`${suite}: ${m.describe}`);
        progress({ kind: 'suite-start', suite, tasks: m.tasks });
      } else if (m.kind === 'round') log(`${suite}: round ${m.index + 1}/${rounds} (load ${m.load1.toFixed(2)})`);
    }, opts.signal, log);
    platform ??= p;
    runs.push(run);
    if (run.status === 'skipped') {
      log(`${suite}: skipped: ${run.reason}`);
      progress({ kind: 'suite-start', suite, tasks: [] });
    }
    for (const f of run.figures) progress({ kind: 'figure', figure: toBenchFigure(f) });
    progress({ kind: 'suite-done', suite });
  }
  const warnings: string[] = [];
  for (const r of runs) {
    if (r.status === 'skipped') warnings.push(`suite ${r.suite} skipped: ${r.reason}`);
    for (const f of r.figures) {
      const threshold = opts.runnerClass ? thresholdFor(opts.runnerClass, f.id) : null;
      if (threshold !== null && f.cvPct > threshold) warnings.push(`${f.id}: CV ${f.cvPct.toFixed(1)} % across rounds is above the gate threshold ${threshold} % of runner class ${opts.runnerClass!.runnerClass}`);
    }
  }
  const host = hostFingerprint(ROOT, packageVersion());
  const results: BenchResults = {
    format: RESULTS_FORMAT,
    createdAt: new Date().toISOString(),
    config: opts.config,
    host: {
      ...host,
      mlxDevice: platform?.mlxDevice ?? 'unknown',
      metal: platform?.metal ?? false,
      blas: platform?.blas ?? null,
      runnerClass: opts.runnerClass?.runnerClass ?? detectRunnerClass(),
    },
    loadavg: { start: load0, end: loadavg() },
    settings: { rounds, quick, blasThreads, blasCoreType: blas.coreType },
    suites: runs,
    warnings,
  };
  progress({ kind: 'done', figures: runs.flatMap((r) => r.figures.map(toBenchFigure)), warnings });
  return results;
}
