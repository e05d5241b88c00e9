// Measures what `bench ab` can detect on this machine, and whether a side of an A/A run is
// biased: repeated A/A runs (the same revision on both sides: the null) with one process pair
// for all rounds (`aa-one`, the scheme before blocks) and with fresh pairs per block (`aa`),
// interleaved with A/B runs (`ab`, blocks) that inject a test-only CPU slowdown into the head
// (busy work of --slowdown % of each injected span's own CPU time). Then per figure:
//   bias: each A/A scheme's mean log ratio over runs with its 99 % interval, how many runs'
//     own intervals missed 0, and the spread of run means against the runs' own standard errors;
//   detection (blocks): the variance components, the real runs' verdicts, and by resampling
//     whole blocks (drawn with replacement from the pooled runs) the false-alarm rate, the power
//     for the injected burn, and the smallest change detected with ≥ 90 % power and ≤ 1 % false
//     alarms at 30 / 60 / 120 rounds (the A/A blocks shifted by that change).
// usage: node bench/ab-power.ts [--repeats 6] [--rounds 60] [--block 10] [--modes aa-one,aa,ab]
//                               [--slowdown 5] [--suite mimi,lm,step] [--threshold 1] [--json OUT]
//        node bench/ab-power.ts --analyze OUT.json [--threshold 1]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judge, runAb, type AbReport } from './lib/ab.ts';
import { parseSuites } from './lib/runner.ts';
import { incompleteBeta, mean, pairedT, studentTQuantile, variance, welch } from './lib/stats.ts';
import type { Inject, SuiteName } from './lib/suite-api.ts';
import { ROOT } from './lib/paths.ts';

const MODES = ['aa-one', 'aa', 'ab'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({ options: {
  repeats: { type: 'string', default: '6' }, rounds: { type: 'string', default: '60' }, block: { type: 'string', default: '10' },
  modes: { type: 'string', default: MODES.join(',') }, slowdown: { type: 'string', default: '5' },
  suite: { type: 'string', default: 'mimi,lm,step' }, json: { type: 'string' }, analyze: { type: 'string' },
  alpha: { type: 'string', default: '0.01' }, threshold: { type: 'string', default: '1' },
} });
const alpha = Number(values.alpha);
const thresholdPct = Number(values.threshold);

/** The slowdown per suite: the spans a figure of that suite sums (step: all four, so step.total; lm: the depformer, as the issue asks). */
function injects(pct: number, suites: readonly SuiteName[]) {
  const per: Partial<Record<SuiteName, Inject[]>> = {
    mimi: [{ span: 'mimi.encode', cpuPct: pct }, { span: 'mimi.decode', cpuPct: pct }],
    lm: [{ span: 'lm.depformer', cpuPct: pct }],
    step: (['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'] as const).map((span) => ({ span, cpuPct: pct })),
  };
  return suites.filter((s) => per[s]).map((suite) => ({ side: 'head' as const, suite, inject: per[suite]! }));
}

interface Run { readonly mode: Mode; readonly report: AbReport }
interface Saved { readonly runs: Run[]; readonly slowdownPct: number; readonly blockRounds: number; readonly nproc: number }

async function measure(): Promise<Saved> {
  const suites = parseSuites(values.suite);
  const repeats = Number(values.repeats);
  const rounds = Number(values.rounds);
  const blockRounds = Number(values.block);
  const slowdownPct = Number(values.slowdown);
  const modes = values.modes.split(',').map((m) => {
    if (!(MODES as readonly string[]).includes(m)) throw new Error(`--modes: unknown mode ${m} (known: ${MODES.join(', ')})`);
    return m as Mode;
  });
  // A throwaway clone, so the base worktree and its cache stay out of this repository.
  const dir = mkdtempSync(join(tmpdir(), 'ab-power-'));
  execFileSync('git', ['clone', '-q', '--shared', ROOT, join(dir, 'repo')]);
  const saved: Saved = { runs: [], slowdownPct, blockRounds, nproc: availableParallelism() };
  try {
    for (let i = 0; i < repeats; i++) {
      // The modes interleaved within each repeat, so the load of the hour falls on all of them.
      for (const mode of modes) {
        const report = await runAb({
          repo: join(dir, 'repo'), base: 'HEAD', suites, config: 'tiny', rounds, alpha, thresholdPct,
          blockRounds: mode === 'aa-one' ? rounds : blockRounds,
          ...(mode === 'ab' ? { inject: injects(slowdownPct, suites) } : {}),
        });
        saved.runs.push({ mode, report });
        console.error(`repeat ${i + 1}/${repeats} ${mode}: ${report.seconds.toFixed(0)} s, load ${report.loadavg.start[0]!.toFixed(2)} → ${report.loadavg.end[0]!.toFixed(2)}`);
      }
      writeFileSync(outPath, `${JSON.stringify(saved)}\n`); // kept as it grows, so a long run can be analysed early
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return saved;
}

/** Seeded uniform [0, 1) (mulberry32), so the analysis of a file is reproducible. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Block = readonly (readonly [number, number])[];

/** Share of resampled runs of `nBlocks` blocks (drawn with replacement) called regressed; head × shift. */
function regressRate(blocks: readonly Block[], nBlocks: number, shift: number, draws: number): number {
  const rand = rng(42);
  let up = 0;
  for (let d = 0; d < draws; d++) {
    const a: number[] = [];
    const b: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < nBlocks; i++) {
      const blk = blocks[Math.floor(rand() * blocks.length)]!;
      for (const [x, y] of blk) {
        a.push(x);
        b.push(y * shift);
      }
      sizes.push(blk.length);
    }
    if (judge('x', a, b, alpha, thresholdPct, sizes).verdict === 'regressed') up++;
  }
  return up / draws;
}

const pct = (x: number, digits = 1) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)} %`;

function analyze(s: Saved): string {
  const of = (mode: Mode) => s.runs.filter((r) => r.mode === mode).map((r) => r.report);
  const anyRun = s.runs[0]!.report;
  const ids = anyRun.figures.map((f) => f.id);
  const fig = (r: AbReport, id: string) => r.figures.find((f) => f.id === id)!;
  const logs = (r: AbReport, id: string) => {
    const f = fig(r, id);
    return f.baseRounds.map((x, i) => Math.log(f.headRounds[i]! / x));
  };
  const loads = s.runs.flatMap((r) => [r.report.loadavg.start[0]!, r.report.loadavg.end[0]!]);
  const out = [
    `${s.runs.length} runs (${MODES.map((m) => `${of(m).length} ${m}`).join(', ')}) of ${anyRun.rounds} rounds, blocks of ${s.blockRounds}, +${s.slowdownPct} % CPU burn in the A/B head; alpha ${alpha}, threshold ${thresholdPct} %; ${s.nproc} cores, load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
    '',
    '### Side bias in A/A runs (same commit both sides)',
    '',
    'Before: one process pair per run, so the run is the independent unit (99 % CI over the runs\' means); after: a fresh pair per block, so the block is (99 % CI over all blocks\' means). "own CI misses 0": runs whose own interval excluded 0 (1 % expected); "sd / SE": spread of the runs\' means over the standard error each run claimed (≈ 1 when a run\'s interval is honest).',
    '',
    '| figure | before: head/base (99 % CI) | before: own CI misses 0 | before: sd / SE | after: head/base (99 % CI) | after: own CI misses 0 | after: sd / SE | after: head/base in head-first blocks over base-first ones (Welch 99 % CI) |',
    '|---|---|---:|---:|---|---:|---:|---|',
  ];
  const blocksOf = (runs: AbReport[], id: string): Block[] => runs.flatMap((r) => {
    const f = fig(r, id);
    let at = 0;
    return f.blockSizes.map((k) => {
      const blk = f.baseRounds.slice(at, at + k).map((x, i) => [x, f.headRounds[at + i]!] as const);
      at += k;
      return blk;
    });
  });
  // Does the side that starts first run slower or faster? Blocks alternate, so compare them.
  const startOrder = (runs: AbReport[], id: string) => {
    const byFirst = (first: 'base' | 'head') => runs.flatMap((r) => {
      const order = r.suites.find((x) => x.suite === id.split('/')[0])!.blocks!.map((b) => b.first);
      return blocksOf([r], id).map((b, j) => ({ first: order[j], m: mean(b.map(([x, y]) => Math.log(y / x))) }));
    }).filter((b) => b.first === first).map((b) => b.m);
    const h = byFirst('head');
    const b = byFirst('base');
    const w = welch(b, h);
    const half = studentTQuantile(1 - alpha / 2, w.df) * Math.sqrt(variance(h) / h.length + variance(b) / b.length);
    const d = mean(h) - mean(b);
    return `${pct(Math.expm1(d), 1)} (${pct(Math.expm1(d - half), 1)} … ${pct(Math.expm1(d + half), 1)}, p ${w.p.toFixed(3)})`;
  };
  const ci = (xs: number[]) => {
    const t = pairedT(xs, 0.99);
    return `${pct(Math.expm1(t.mean), 2)} (${pct(Math.expm1(t.lo), 2)} … ${pct(Math.expm1(t.hi), 2)}, n ${xs.length})`;
  };
  const honesty = (runs: AbReport[], id: string) => {
    const missed = runs.filter((r) => fig(r, id).lo > 0 || fig(r, id).hi < 0).length;
    // A run's own standard error: its interval's half-width over the t quantile it used.
    const ownSe = runs.map((r) => {
      const f = fig(r, id);
      const df = f.unit === 'block' ? f.blockSizes.length - 1 : f.baseRounds.length - 1;
      return (Math.log1p(f.hi) - Math.log1p(f.lo)) / 2 / studentTQuantile(1 - alpha / 2, df);
    });
    const sd = Math.sqrt(variance(runs.map((r) => mean(logs(r, id)))));
    return `${missed}/${runs.length} | ${(sd / Math.sqrt(mean(ownSe.map((x) => x * x)))).toFixed(2)}`;
  };
  for (const id of ids) {
    const one = of('aa-one');
    const blk = of('aa');
    const before = one.length >= 2 ? `${ci(one.map((r) => mean(logs(r, id))))} | ${honesty(one, id)}` : '– | – | –';
    const after = blk.length >= 1 ? `${ci(blocksOf(blk, id).map((b) => mean(b.map(([x, y]) => Math.log(y / x)))))} | ${blk.length >= 2 ? honesty(blk, id) : '– | –'}` : '– | – | –';
    out.push(`| ${id} | ${before} | ${after} | ${blk.length ? startOrder(blk, id) : '–'} |`);
  }
  const aa = of('aa');
  const ab = of('ab');
  if (aa.length === 0) return out.join('\n');
  const k = s.blockRounds;
  const suiteSeconds = (suite: string) => {
    const blocks = [...aa, ...ab].flatMap((r) => r.suites.find((x) => x.suite === suite)?.blocks ?? []);
    return { perBlock: mean(blocks.map((b) => b.seconds)), perRound: mean(blocks.map((b) => b.seconds / b.rounds)) };
  };
  const NS = [30, 60, 120];
  out.push(
    '',
    `### Detection with blocks of ${k} (fresh process pair per block)`,
    '',
    `| figure | sd of log ratio within blocks | sd between blocks (τ) | F-test of τ = 0: p | change the +${s.slowdownPct} % burn made | real A/A runs called regressed | real A/B runs called regressed | resampled false alarms at ${anyRun.rounds} rounds | resampled power for the burn at ${anyRun.rounds} | smallest change at ≥ 90 % power, ${NS.join(' / ')} rounds | s per block (both sides) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  );
  const DRAWS = 1000;
  for (const id of ids) {
    const aaBlocks = blocksOf(aa, id);
    const abBlocks = blocksOf(ab, id);
    const allLogs = aaBlocks.flatMap((b) => b.map(([x, y]) => Math.log(y / x)));
    const comp = judge('x', aaBlocks.flatMap((b) => b.map((p) => p[0])), aaBlocks.flatMap((b) => b.map((p) => p[1])), alpha, thresholdPct, aaBlocks.map((b) => b.length));
    const burn = abBlocks.length ? Math.expm1(mean(abBlocks.flatMap((b) => b.map(([x, y]) => Math.log(y / x)))) - mean(allLogs)) : NaN;
    // Re-judged at this analysis' alpha and threshold (a saved run can be read at others).
    const calls = (runs: AbReport[]) => `${runs.filter((r) => {
      const f = fig(r, id);
      return judge(id, f.baseRounds, f.headRounds, alpha, thresholdPct, f.blockSizes).verdict === 'regressed';
    }).length}/${runs.length}`;
    const nBlocks = Math.round(anyRun.rounds / k);
    const fa = regressRate(aaBlocks, nBlocks, 1, DRAWS);
    const pw = abBlocks.length ? regressRate(abBlocks, nBlocks, 1, DRAWS) : NaN;
    const mde = NS.map((n) => {
      const nb = Math.round(n / k);
      if (regressRate(aaBlocks, nb, 1, DRAWS) > 0.01) return 'false alarms > 1 %';
      for (let p = 0.5; p <= 60; p += p < 10 ? 0.5 : 2) if (regressRate(aaBlocks, nb, 1 + p / 100, 400) >= 0.9) return `${p} %`;
      return '> 60 %';
    });
    const suite = id.split('/')[0]!;
    out.push(`| ${id} | ${comp.sdWithinPct!.toFixed(1)} % | ${comp.sdBetweenPct!.toFixed(1)} % | ${fTestBlocks(aaBlocks).toPrecision(2)} | ${Number.isNaN(burn) ? '–' : pct(burn)} | ${calls(aa)} | ${ab.length ? calls(ab) : '–'} | ${(fa * 100).toFixed(1)} % | ${Number.isNaN(pw) ? '–' : `${(pw * 100).toFixed(0)} %`} | ${mde.join(' / ')} | ${suiteSeconds(suite).perBlock.toFixed(1)} |`);
  }
  out.push('', ...blockChoice(s, aa, blocksOf));
  return out.join('\n');
}

/**
 * One-way ANOVA F-test that the blocks share no offset (τ = 0): F = MSB / MSW with
 * (J − 1, N − J) df; P(F ≥ f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2). Small p: process pairs differ.
 */
function fTestBlocks(blocks: readonly Block[]): number {
  const d = blocks.map((b) => b.map(([x, y]) => Math.log(y / x)));
  const n = d.reduce((t, b) => t + b.length, 0);
  const grand = mean(d.flat());
  const ssb = d.reduce((t, b) => t + b.length * (mean(b) - grand) ** 2, 0);
  const ssw = d.reduce((t, b) => t + b.reduce((u, x) => u + (x - mean(b)) ** 2, 0), 0);
  const d1 = blocks.length - 1;
  const d2 = n - blocks.length;
  const f = ssb / d1 / (ssw / d2);
  return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/**
 * Which block size is cheapest: per figure, from the A/A variance components (σ within, τ
 * between) and the measured costs (a round pair, and a block's start-up: fresh processes and
 * warm-up), the rounds and minutes to detect +5 % at ≥ 90 % power at alpha, for each block
 * size k. A block's mean has variance τ² + σ²/k; the test over J blocks needs
 * (t_{1−α/2, J−1} + t_{0.9, J−1}) · √((τ² + σ²/k) / J) ≤ ln 1.05 (the threshold ignored).
 */
function blockChoice(s: Saved, aa: AbReport[], blocksOf: (runs: AbReport[], id: string) => Block[]): string[] {
  const one = s.runs.filter((r) => r.mode === 'aa-one').map((r) => r.report);
  if (one.length === 0) return ['(the block-size table needs aa-one runs: their time per round is the cost of a round without start-ups)'];
  const cost = (suite: string) => {
    // A round pair: the one-pair runs' time per round; a block's start-up: the rest of a block's time.
    const runs = one.map((r) => r.suites.find((x) => x.suite === suite)!);
    const perRound = one.length ? mean(runs.map((x) => x.seconds / (x.blocks![0]!.rounds + 1))) : NaN;
    const blocks = aa.flatMap((r) => r.suites.find((x) => x.suite === suite)?.blocks ?? []);
    return { perRound, startUp: mean(blocks.map((b) => b.seconds - b.rounds * perRound)) };
  };
  const KS = [2, 3, 5, 8, 10, 15, 20, 30];
  const out = [
    '### Block size: rounds (minutes) to detect +5 % at ≥ 90 % power, from the A/A variance components (analytic)',
    '',
    `| figure | s per round pair | s per block start-up | ${KS.map((k) => `k = ${k}`).join(' | ')} |`,
    `|---|---:|---:|${KS.map(() => '---:|').join('')}`,
  ];
  for (const id of aa[0]!.figures.map((f) => f.id)) {
    const blocks = blocksOf(aa, id);
    const c = judge('x', blocks.flatMap((b) => b.map((p) => p[0])), blocks.flatMap((b) => b.map((p) => p[1])), alpha, thresholdPct, blocks.map((b) => b.length));
    const sw = c.sdWithinPct! / 100;
    const tau = c.sdBetweenPct! / 100;
    const { perRound, startUp } = cost(id.split('/')[0]!);
    const cells = KS.map((k) => {
      for (let j = 3; j <= 400; j++) {
        const d = (studentTQuantile(1 - alpha / 2, j - 1) + studentTQuantile(0.9, j - 1)) * Math.sqrt((tau * tau + (sw * sw) / k) / j);
        if (d <= Math.log(1.05)) return `${j * k} (${((j * (startUp + k * perRound)) / 60).toFixed(1)})`;
      }
      return '> 400 blocks';
    });
    out.push(`| ${id} | ${perRound.toFixed(2)} | ${startUp.toFixed(1)} | ${cells.join(' | ')} |`);
  }
  return out;
}

const outPath = values.json ?? join(ROOT, 'bench', 'results', `ab-power-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const saved: Saved = values.analyze ? JSON.parse(readFileSync(values.analyze, 'utf8')) as Saved : await measure();
if (!values.analyze) console.error(`rounds saved to ${outPath}`);
console.log(analyze(saved));
