// `bench ab`: base and head measured side by side on one machine at one time. Each suite
// runs in two loaded child processes (one per side, OpenBLAS pinned as the engine pins it),
// asked for one round at a time in the order A B, B A, A B, … (alternating, so a drift in
// load or clock over the run falls on both sides equally); each round of a side is its
// figures' median over the fastest calibration kernel run of that round. The gate is a
// paired t-test on the per-round log ratios head/base (stats.ts pairedLogRatio), why: see
// README, "A/B gate".
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchBlas, blasEnv } from './blas.ts';
import { BenchError } from './errors.ts';
import type { AbChildReply, AbChildRequest, AbRoundValues } from './ab-child.ts';
import { defaultCache, git, mergeBase, prepareRevision, resolveRevision, type Side } from './ab-side.ts';
import { pairedLogRatio } from './stats.ts';
import type { BenchConfig, Inject, SuiteName } from './suite-api.ts';
import { ROOT } from './paths.ts';

export const AB_FORMAT = 'solacelive-bench-ab/1';

export type AbVerdict = 'regressed' | 'improved' | 'unchanged' | 'inconclusive';

export interface AbOptions {
  /** The repository the refs are resolved in (default: this checkout's). */
  readonly repo?: string;
  readonly base: string;
  /** A ref, or 'worktree' (default): the checkout running the command, as it is on disk. */
  readonly head?: string;
  /** Compare with the merge base of `base` and the head, not `base` itself (a PR's fork point). */
  readonly mergeBase?: boolean;
  readonly suites: readonly SuiteName[];
  readonly config: BenchConfig;
  /** Measured rounds (pairs), after one discarded warm-up round per side. */
  readonly rounds: number;
  readonly perRound?: number;
  /** Two-sided significance level; the confidence intervals are at 1 − alpha. */
  readonly alpha: number;
  /** A significant change smaller than this (percent) is called unchanged. */
  readonly thresholdPct: number;
  readonly cache?: string;
  /**
   * What the gate compares per round, over the round's fastest calibration run: the round's
   * fastest sample (default) or its median ('ratio'); 'ms' is the median without calibration.
   */
  readonly measure?: 'minRatio' | 'ratio' | 'ms';
  readonly log?: (m: string) => void;
  /** TEST-ONLY: a slowdown injected into one side's suite process. Not reachable from the CLI. */
  readonly inject?: { readonly side: 'base' | 'head'; readonly suite: SuiteName; readonly inject: Inject | readonly Inject[] } | readonly { readonly side: 'base' | 'head'; readonly suite: SuiteName; readonly inject: Inject | readonly Inject[] }[];
}

export interface AbFigure {
  readonly id: string;
  readonly verdict: AbVerdict;
  /** Geometric mean of the per-round values of each side (by default the fastest sample over the fastest calibration run). */
  readonly base: number;
  readonly head: number;
  /** head/base − 1 from the mean log ratio, and its confidence interval (fractions). */
  readonly change: number;
  readonly lo: number;
  readonly hi: number;
  readonly p: number;
  /** Standard deviation of the per-round log ratios, percent: the noise the pairing leaves. */
  readonly sdPct: number;
  readonly baseRounds: readonly number[];
  readonly headRounds: readonly number[];
  /** The rounds' medians in ms, without calibration (for reading; the gate compares baseRounds/headRounds). */
  readonly baseMs?: readonly number[];
  readonly headMs?: readonly number[];
}

export interface AbReport {
  readonly format: typeof AB_FORMAT;
  readonly createdAt: string;
  readonly base: Omit<Side, 'root'>;
  readonly head: Omit<Side, 'root'>;
  readonly config: BenchConfig;
  readonly rounds: number;
  readonly alpha: number;
  readonly thresholdPct: number;
  readonly loadavg: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly seconds: number;
  readonly suites: readonly { readonly suite: string; readonly status: 'ok' | 'skipped'; readonly reason?: string; readonly seconds: number }[];
  readonly figures: readonly AbFigure[];
  /** Figures one side has and the other not. */
  readonly unpaired: readonly string[];
  readonly pass: boolean;
}

/** A side's suite process: one request at a time, each answered by one reply (logs aside). */
class AbChild {
  private readonly proc: ChildProcess;
  private pending: { resolve: (r: AbChildReply) => void; reject: (e: Error) => void } | null = null;
  private exited: string | null = null;
  readonly side: Side;
  readonly suite: string;

  constructor(side: Side, suite: string, log: (m: string) => void) {
    this.side = side;
    this.suite = suite;
    const env = blasEnv(process.env, benchBlas(1));
    this.proc = fork(join(side.root, 'bench', 'lib', 'ab-child.ts'), [], { cwd: side.root, execArgv: ['--expose-gc'], env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: AbChildReply) => {
      if (m.kind === 'log') log(`${side.label} ${suite}: ${m.msg}`);
      else this.settle((p) => p.resolve(m));
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `code ${code}`;
      this.settle((p) => p.reject(new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: its process exited (${this.exited})`)));
    });
  }

  what(): string {
    return `suite ${this.suite} of ${this.side.label} ${this.side.ref}${this.side.sha ? ` (${this.side.sha.slice(0, 12)})` : ''}`;
  }

  private settle(f: (p: NonNullable<AbChild['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    if (p) f(p);
  }

  async ask(req: AbChildRequest): Promise<AbChildReply> {
    if (this.exited) throw new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: its process exited (${this.exited})`);
    const reply = await new Promise<AbChildReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.proc.send(req);
    });
    if (reply.kind === 'error') {
      const code = reply.code === 'BENCH_ERR_AB_SUITE_MISSING' ? reply.code : 'BENCH_ERR_SUITE_FAILED';
      throw new BenchError(code, `${this.what()}: ${reply.message}`);
    }
    return reply;
  }

  async round(index: number): Promise<AbRoundValues> {
    const r = await this.ask({ kind: 'round', index });
    if (r.kind !== 'round') throw new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: answered ${r.kind} to a round`);
    return r.values;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.send({ kind: 'close' });
      // A child stuck in a round is not waited for.
      setTimeout(() => this.proc.kill('SIGKILL'), 30_000).unref();
    });
  }
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/** The verdict of one figure's pairs. */
export function judge(id: string, base: readonly number[], head: readonly number[], alpha: number, thresholdPct: number): AbFigure {
  const r = pairedLogRatio(base, head, 1 - alpha);
  const t = thresholdPct / 100;
  const significant = r.p < alpha;
  const verdict: AbVerdict = significant && r.change > t ? 'regressed'
    : significant && r.change < -t ? 'improved'
    : significant || (r.changeLo >= -t && r.changeHi <= t) ? 'unchanged'
    : 'inconclusive';
  return { id, verdict, base: geomean(base), head: geomean(head), change: r.change, lo: r.changeLo, hi: r.changeHi, p: r.p, sdPct: r.sd * 100, baseRounds: base, headRounds: head };
}

function resolveSides(opts: AbOptions, repo: string): { base: { ref: string; sha: string }; head: { ref: string; sha: string | null } } {
  const headRef = opts.head ?? 'worktree';
  const headSha = headRef === 'worktree' ? null : resolveRevision(repo, headRef, '--head');
  let baseSha = resolveRevision(repo, opts.base, '--base');
  let baseRef = opts.base;
  if (opts.mergeBase) {
    baseSha = mergeBase(repo, baseSha, headSha ?? 'HEAD');
    baseRef = `merge-base(${opts.base}, ${headRef === 'worktree' ? 'HEAD' : headRef})`;
  }
  return { base: { ref: baseRef, sha: baseSha }, head: { ref: headRef, sha: headSha } };
}

export async function runAb(opts: AbOptions): Promise<AbReport> {
  if (!(Number.isInteger(opts.rounds) && opts.rounds >= 3)) throw new RangeError(`rounds must be an integer ≥ 3 (the paired test needs a spread), got ${opts.rounds}`);
  if (!(opts.alpha > 0 && opts.alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${opts.alpha}`);
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const repo = opts.repo ?? ROOT;
  try {
    git(repo, ['rev-parse', '--git-dir']);
  } catch {
    throw new BenchError('BENCH_ERR_AB_REVISION', `${repo} is not a git repository: bench ab checks the base out from git`);
  }
  const refs = resolveSides(opts, repo);
  const cache = opts.cache ?? defaultCache(repo);
  const base = prepareRevision({ label: 'base', ...refs.base }, repo, ROOT, cache, log);
  const head: Side = refs.head.sha === null
    ? { label: 'head', ref: 'worktree', sha: null, root: ROOT, modules: 'own' }
    : refs.head.sha === base.sha ? { ...base, label: 'head', ref: refs.head.ref } : prepareRevision({ label: 'head', ref: refs.head.ref, sha: refs.head.sha }, repo, ROOT, cache, log);
  log(`base ${base.ref} ${base.sha!.slice(0, 12)} at ${base.root} (node_modules: ${base.modules}); head ${head.ref}${head.sha ? ` ${head.sha.slice(0, 12)}` : ''} at ${head.root}`);
  const load0 = loadavg();
  const figures: AbFigure[] = [];
  const unpaired: string[] = [];
  const suites: AbReport['suites'][number][] = [];
  for (const suite of opts.suites) {
    const s0 = performance.now();
    const children: AbChild[] = [];
    try {
      const ready: (AbChildReply & { kind: 'ready' | 'skipped' })[] = [];
      for (const side of [base, head]) {
        const child = new AbChild(side, suite, log);
        children.push(child);
        const mine = [opts.inject ?? []].flat().filter((i) => i.side === side.label && i.suite === suite).flatMap((i) => [i.inject].flat());
        const inject = mine.length ? { inject: mine } : {};
        const r = await child.ask({ kind: 'setup', suite, config: opts.config, quick: true, ...(opts.perRound !== undefined ? { perRound: opts.perRound } : {}), ...inject });
        if (r.kind !== 'ready' && r.kind !== 'skipped') throw new BenchError('BENCH_ERR_SUITE_FAILED', `${child.what()}: answered ${r.kind} to setup`);
        ready.push(r);
      }
      const skipped = ready.find((r) => r.kind === 'skipped');
      if (skipped) {
        log(`${suite}: skipped: ${skipped.reason}`);
        suites.push({ suite, status: 'skipped', reason: skipped.reason, seconds: (performance.now() - s0) / 1000 });
        continue;
      }
      const [fa, fb] = ready.map((r) => (r as { figures: readonly string[] }).figures) as [readonly string[], readonly string[]];
      const names = fa.filter((f) => fb.includes(f));
      unpaired.push(...fa.filter((f) => !fb.includes(f)).map((f) => `${suite}/${f} (base only)`), ...fb.filter((f) => !fa.includes(f)).map((f) => `${suite}/${f} (head only)`));
      const [a, b] = children as [AbChild, AbChild];
      // One warm-up round each (discarded), then the pairs, alternating which side goes first.
      await a.round(-1);
      await b.round(-1);
      const av: AbRoundValues[] = [];
      const bv: AbRoundValues[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        if (r % 2 === 0) {
          av.push(await a.round(r));
          bv.push(await b.round(r));
        } else {
          bv.push(await b.round(r));
          av.push(await a.round(r));
        }
        log(`${suite}: round ${r + 1}/${opts.rounds} (load ${loadavg()[0]!.toFixed(2)})`);
      }
      for (const f of names) {
        figures.push({
          ...judge(`${suite}/${f}`, av.map((v) => v[f]![opts.measure ?? 'minRatio']), bv.map((v) => v[f]![opts.measure ?? 'minRatio']), opts.alpha, opts.thresholdPct),
          baseMs: av.map((v) => v[f]!.ms),
          headMs: bv.map((v) => v[f]!.ms),
        });
      }
      suites.push({ suite, status: 'ok', seconds: (performance.now() - s0) / 1000 });
    } finally {
      await Promise.all(children.map((c) => c.close()));
    }
  }
  const strip = ({ root: _root, ...s }: Side) => s;
  return {
    format: AB_FORMAT,
    createdAt: new Date().toISOString(),
    base: strip(base),
    head: strip(head),
    config: opts.config,
    rounds: opts.rounds,
    alpha: opts.alpha,
    thresholdPct: opts.thresholdPct,
    loadavg: { start: load0, end: loadavg() },
    seconds: (performance.now() - t0) / 1000,
    suites,
    figures,
    unpaired,
    pass: !figures.some((f) => f.verdict === 'regressed'),
  };
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const VERDICT_MARK: Record<AbVerdict, string> = { regressed: '❌ regressed', improved: '✅ improved', unchanged: 'unchanged', inconclusive: '⚠️ inconclusive' };

/** The job-page summary. */
export function abMarkdown(r: AbReport): string {
  const side = (s: AbReport['base']) => `\`${s.ref}\`${s.sha ? ` (${s.sha.slice(0, 12)})` : ' (working tree)'}`;
  const level = `${((1 - r.alpha) * 100).toFixed(r.alpha * 100 % 1 ? 1 : 0)} %`;
  const out = [
    `## bench ab: ${r.pass ? 'pass' : 'FAIL'}`,
    '',
    `head ${side(r.head)} against base ${side(r.base)}; config ${r.config}; ${r.rounds} interleaved rounds per suite (A B, B A, …) after one warm-up round; ${r.seconds < 90 ? `${r.seconds.toFixed(0)} s` : `${(r.seconds / 60).toFixed(1)} min`}; load average ${r.loadavg.start.map((x) => x.toFixed(2)).join(' ')} → ${r.loadavg.end.map((x) => x.toFixed(2)).join(' ')}.`,
    `Paired t-test on the per-round log ratios head/base; change = ratio of geometric means; regressed/improved when the ${level} interval excludes 0 and the change exceeds ±${r.thresholdPct} %.`,
    '',
    `| figure | base ratio | head ratio | change | ${level} CI | p | sd of log ratio | verdict |`,
    '|---|---:|---:|---:|---|---:|---:|---|',
    ...r.figures.map((f) => `| ${f.id} | ${f.base.toPrecision(4)} | ${f.head.toPrecision(4)} | ${pct(f.change)} | ${pct(f.lo)} … ${pct(f.hi)} | ${f.p < 1e-4 ? f.p.toExponential(1) : f.p.toFixed(4)} | ${f.sdPct.toFixed(1)} % | ${VERDICT_MARK[f.verdict]} |`),
  ];
  for (const s of r.suites) if (s.status === 'skipped') out.push('', `suite ${s.suite} skipped: ${s.reason}`);
  if (r.unpaired.length) out.push('', `not compared (on one side only): ${r.unpaired.join(', ')}`);
  return `${out.join('\n')}\n`;
}
