// `bench ab`: base and head measured side by side on one machine at one time. Each suite
// runs in blocks: per block a fresh pair of child processes (one per side, OpenBLAS pinned
// as the engine pins it), started base-first and head-first in turn, asked for one round at
// a time in the order A B, B A, … (alternating, so a drift in load over the run falls on both
// sides equally). Fresh processes per block turn what a process draws at start (heap layout,
// addresses, core) from a fixed bias of one side into noise between blocks; the gate is a
// paired t-test over the blocks' mean log ratios head/base (stats.ts blockedLogRatio), since
// rounds of one block share that draw. Why: see README, "bench ab".
import { loadavg } from 'node:os';
import { BenchError } from './errors.ts';
import type { AbRoundValues } from './ab-child.ts';
import { AbChild } from './ab-proc.ts';
import { defaultCache, git, mergeBase, prepareRevision, resolveRevision, type Side } from './ab-side.ts';
import { blockedLogRatio, pairedLogRatio } from './stats.ts';
import type { BenchConfig, Inject, SuiteName } from './suite-api.ts';
import { ROOT } from './paths.ts';

export const AB_FORMAT = 'solacelive-bench-ab/1';

/** `bench ab --block`'s default: near the cheapest block size for every figure measured (README). */
export const DEFAULT_BLOCK_ROUNDS = 10;

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
  /** Measured rounds (pairs) per suite, after one discarded warm-up round per side and block. */
  readonly rounds: number;
  /**
   * Rounds per block (default: all rounds in one block, one process pair). The rounds are split
   * into ceil(rounds / blockRounds) blocks of near-equal size; with ≥ 3 blocks the test's unit
   * is the block (its mean log ratio), with one it is the round. Two blocks are refused (1 df).
   */
  readonly blockRounds?: number;
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
  /** What the test counted as one observation: a block's mean log ratio, or (one block) a round's. */
  readonly unit: 'block' | 'round';
  /** Rounds per block, in order (one entry: a single process pair). */
  readonly blockSizes: readonly number[];
  /** With blocks: the within-block sd of the log ratios and the between-block component τ, percent. */
  readonly sdWithinPct?: number;
  readonly sdBetweenPct?: number;
  readonly baseRounds: readonly number[];
  readonly headRounds: readonly number[];
  /** The rounds' medians in ms, without calibration (for reading; the gate compares baseRounds/headRounds). */
  readonly baseMs?: readonly number[];
  readonly headMs?: readonly number[];
}

/** One block of a suite: its fresh process pair, which side started first, and its rounds. */
export interface AbBlock {
  readonly first: 'base' | 'head';
  readonly pids: { readonly base: number; readonly head: number };
  readonly rounds: number;
  /** Wall time of the block: start-up of both processes, warm-up and rounds. */
  readonly seconds: number;
}

export interface AbSuiteRun {
  readonly suite: string;
  readonly status: 'ok' | 'skipped';
  readonly reason?: string;
  readonly seconds: number;
  readonly blocks?: readonly AbBlock[];
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
  readonly suites: readonly AbSuiteRun[];
  readonly figures: readonly AbFigure[];
  /** Figures one side has and the other not. */
  readonly unpaired: readonly string[];
  readonly pass: boolean;
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/**
 * Rounds per block for `rounds` split into blocks of at most `blockRounds` (near-equal sizes,
 * larger first). More than 2 blocks are made an even number, so as many start base first as
 * head first: the side started first ran ~1 % slower here (README), which then cancels.
 */
export function splitBlocks(rounds: number, blockRounds: number): number[] {
  if (!(Number.isInteger(blockRounds) && blockRounds >= 1)) throw new RangeError(`rounds per block must be an integer ≥ 1, got ${blockRounds}`);
  const ceil = Math.ceil(rounds / blockRounds);
  const j = ceil > 2 && ceil % 2 === 1 ? ceil + 1 : ceil;
  return Array.from({ length: j }, (_, b) => Math.floor(rounds / j) + (b < rounds % j ? 1 : 0));
}

/**
 * The verdict of one figure's pairs. With blockSizes of ≥ 2 blocks the test runs on the blocks'
 * mean log ratios; with one block (or none given) on the rounds'.
 */
export function judge(id: string, base: readonly number[], head: readonly number[], alpha: number, thresholdPct: number, blockSizes: readonly number[] = [base.length]): AbFigure {
  const blocked = blockSizes.length >= 2 ? blockedLogRatio(base, head, blockSizes, 1 - alpha) : null;
  const r = blocked ?? pairedLogRatio(base, head, 1 - alpha);
  const sdRounds = blocked ? pairedLogRatio(base, head, 1 - alpha).sd : r.sd;
  const t = thresholdPct / 100;
  const significant = r.p < alpha;
  const verdict: AbVerdict = significant && r.change > t ? 'regressed'
    : significant && r.change < -t ? 'improved'
    : significant || (r.changeLo >= -t && r.changeHi <= t) ? 'unchanged'
    : 'inconclusive';
  return {
    id, verdict, base: geomean(base), head: geomean(head), change: r.change, lo: r.changeLo, hi: r.changeHi, p: r.p, sdPct: sdRounds * 100,
    unit: blocked ? 'block' : 'round', blockSizes, ...(blocked ? { sdWithinPct: blocked.sdWithin * 100, sdBetweenPct: blocked.sdBetween * 100 } : {}),
    baseRounds: base, headRounds: head,
  };
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
  const sizes = splitBlocks(opts.rounds, opts.blockRounds ?? opts.rounds);
  if (sizes.length === 2) throw new RangeError(`${opts.rounds} rounds of at most ${opts.blockRounds} per block make 2 blocks: a test over 2 block means has 1 degree of freedom and cannot call anything; use ≥ 3 blocks (or 1)`);
  if (sizes.length >= 3 && sizes.some((k) => k < 2)) throw new RangeError(`blocks of ${opts.blockRounds} round: a block needs ≥ 2 rounds so both sides go first once`);
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
    const setupFor = (side: Side) => {
      const mine = [opts.inject ?? []].flat().filter((i) => i.side === side.label && i.suite === suite).flatMap((i) => [i.inject].flat());
      return { kind: 'setup' as const, suite, config: opts.config, quick: true, ...(opts.perRound !== undefined ? { perRound: opts.perRound } : {}), ...(mine.length ? { inject: mine } : {}) };
    };
    const av: AbRoundValues[] = [];
    const bv: AbRoundValues[] = [];
    const blocks: AbBlock[] = [];
    let names: readonly string[] | null = null;
    let skipped: string | null = null;
    for (let j = 0; j < sizes.length && skipped === null; j++) {
      const b0 = performance.now();
      // Block j starts base first when j is even, head first when odd: which process forks,
      // sets up and runs first is then no side's fixed property.
      const first = j % 2 === 0 ? base : head;
      const order = [first, first === base ? head : base] as const;
      const children: AbChild[] = [];
      try {
        for (const side of order) children.push(new AbChild(side, suite, log));
        const ready = await Promise.all(children.map((c) => c.setup(setupFor(c.side))));
        const skip = ready.find((r) => r.kind === 'skipped');
        if (skip) {
          skipped = skip.reason;
          break;
        }
        const figs = Object.fromEntries(children.map((c, i) => [c.side.label, (ready[i] as { figures: readonly string[] }).figures]));
        const [fa, fb] = [figs.base!, figs.head!];
        const paired = fa.filter((f) => fb.includes(f));
        if (names === null) {
          names = paired;
          unpaired.push(...fa.filter((f) => !fb.includes(f)).map((f) => `${suite}/${f} (base only)`), ...fb.filter((f) => !fa.includes(f)).map((f) => `${suite}/${f} (head only)`));
        } else if (paired.join() !== names.join()) {
          throw new BenchError('BENCH_ERR_SUITE_FAILED', `suite ${suite}: block ${j + 1} reports the figures ${paired.join(', ')}, block 1 reported ${names.join(', ')}`);
        }
        // One warm-up round each (discarded), then the pairs, alternating which side goes first.
        for (const c of children) await c.round(-1);
        for (let r = 0; r < sizes[j]!; r++) {
          const index = av.length;
          for (const c of r % 2 === 0 ? children : [...children].reverse()) (c.side.label === 'base' ? av : bv).push(await c.round(index));
          log(`${suite}: block ${j + 1}/${sizes.length} (${first.label} first), round ${index + 1}/${opts.rounds} (load ${loadavg()[0]!.toFixed(2)})`);
        }
        const pid = (label: 'base' | 'head') => children.find((c) => c.side.label === label)!.pid;
        blocks.push({ first: first.label, pids: { base: pid('base'), head: pid('head') }, rounds: sizes[j]!, seconds: (performance.now() - b0) / 1000 });
      } finally {
        await Promise.all(children.map((c) => c.close()));
      }
    }
    if (skipped !== null) {
      log(`${suite}: skipped: ${skipped}`);
      suites.push({ suite, status: 'skipped', reason: skipped, seconds: (performance.now() - s0) / 1000 });
      continue;
    }
    const m = opts.measure ?? 'minRatio';
    for (const f of names!) {
      figures.push({
        ...judge(`${suite}/${f}`, av.map((v) => v[f]![m]), bv.map((v) => v[f]![m]), opts.alpha, opts.thresholdPct, sizes),
        baseMs: av.map((v) => v[f]!.ms),
        headMs: bv.map((v) => v[f]!.ms),
      });
    }
    suites.push({ suite, status: 'ok', seconds: (performance.now() - s0) / 1000, blocks });
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

/** How the rounds were split into process pairs, for the summary. */
function blocksSaid(r: AbReport): string {
  const n = r.suites.find((s) => s.blocks?.length)?.blocks?.length ?? 1;
  if (n === 1) return 'in one pair of processes, after one warm-up round';
  return `in ${n} blocks, each a fresh pair of processes (base first and head first in turn) with one warm-up round`;
}

/** The job-page summary. */
export function abMarkdown(r: AbReport): string {
  const side = (s: AbReport['base']) => `\`${s.ref}\`${s.sha ? ` (${s.sha.slice(0, 12)})` : ' (working tree)'}`;
  const level = `${((1 - r.alpha) * 100).toFixed(r.alpha * 100 % 1 ? 1 : 0)} %`;
  const blocked = r.figures.some((f) => f.unit === 'block');
  const out = [
    `## bench ab: ${r.pass ? 'pass' : 'FAIL'}`,
    '',
    `head ${side(r.head)} against base ${side(r.base)}; config ${r.config}; ${r.rounds} interleaved rounds per suite (A B, B A, …) ${blocksSaid(r)}; ${r.seconds < 90 ? `${r.seconds.toFixed(0)} s` : `${(r.seconds / 60).toFixed(1)} min`}; load average ${r.loadavg.start.map((x) => x.toFixed(2)).join(' ')} → ${r.loadavg.end.map((x) => x.toFixed(2)).join(' ')}.`,
    `${blocked ? `Paired t-test over the blocks' mean log ratios head/base (blocks − 1 df: rounds of one process pair share its luck)` : 'Paired t-test on the per-round log ratios head/base'}; change = ratio of geometric means; regressed/improved when the ${level} interval excludes 0 and the change exceeds ±${r.thresholdPct} %.`,
    '',
    `| figure | base ratio | head ratio | change | ${level} CI | p | sd of log ratio (rounds) |${blocked ? ' sd between blocks |' : ''} verdict |`,
    `|---|---:|---:|---:|---|---:|---:|${blocked ? '---:|' : ''}---|`,
    ...r.figures.map((f) => `| ${f.id} | ${f.base.toPrecision(4)} | ${f.head.toPrecision(4)} | ${pct(f.change)} | ${pct(f.lo)} … ${pct(f.hi)} | ${f.p < 1e-4 ? f.p.toExponential(1) : f.p.toFixed(4)} | ${f.sdPct.toFixed(1)} % |${blocked ? ` ${f.sdBetweenPct === undefined ? '–' : `${f.sdBetweenPct.toFixed(1)} %`} |` : ''} ${VERDICT_MARK[f.verdict]} |`),
  ];
  for (const s of r.suites) if (s.status === 'skipped') out.push('', `suite ${s.suite} skipped: ${s.reason}`);
  if (r.unpaired.length) out.push('', `not compared (on one side only): ${r.unpaired.join(', ')}`);
  return `${out.join('\n')}\n`;
}
