// Measures what `bench ab` can detect on this machine: repeated A/A runs (the same revision on
// both sides: the null distribution) and A/B runs with a test-only CPU slowdown injected into
// the head (busy work of --slowdown % of each injected span's own CPU time), then per figure:
// the verdicts of the real runs, and by resampling their rounds (pairs drawn with replacement
// from the pooled runs) the false-positive rate and power at N rounds, the rounds needed for
// ≤ 1 % false positives and ≥ 90 % power at the injected change, and the smallest change
// detected with 90 % power at the default rounds (the A/A rounds shifted by that change).
// usage: node bench/ab-power.ts [--repeats 6] [--rounds 30] [--slowdown 5] [--suite mimi,lm,step] [--json OUT]
//        node bench/ab-power.ts --analyze OUT.json
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judge, runAb, type AbReport } from './lib/ab.ts';
import { parseSuites } from './lib/runner.ts';
import type { Inject, SuiteName } from './lib/suite-api.ts';
import { ROOT } from './lib/paths.ts';

const { values } = parseArgs({ options: {
  repeats: { type: 'string', default: '6' }, rounds: { type: 'string', default: '30' }, slowdown: { type: 'string', default: '5' },
  suite: { type: 'string', default: 'mimi,lm,step' }, json: { type: 'string' }, analyze: { type: 'string' },
  alpha: { type: 'string', default: '0.01' }, threshold: { type: 'string', default: '1' },
} });
const alpha = Number(values.alpha);
const thresholdPct = Number(values.threshold);

/** The slowdown per suite: the spans a figure of that suite sums (step: all four; lm: the depformer, as the issue asks). */
function injects(pct: number, suites: readonly SuiteName[]) {
  const per: Partial<Record<SuiteName, Inject[]>> = {
    mimi: [{ span: 'mimi.encode', cpuPct: pct }, { span: 'mimi.decode', cpuPct: pct }],
    lm: [{ span: 'lm.depformer', cpuPct: pct }],
    step: (['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'] as const).map((span) => ({ span, cpuPct: pct })),
  };
  return suites.filter((s) => per[s]).map((suite) => ({ side: 'head' as const, suite, inject: per[suite]! }));
}

interface Saved { readonly aa: AbReport[]; readonly ab: AbReport[]; readonly slowdownPct: number; readonly load: number[][]; readonly nproc: number }

async function measure(): Promise<Saved> {
  const suites = parseSuites(values.suite);
  const repeats = Number(values.repeats);
  const rounds = Number(values.rounds);
  const slowdownPct = Number(values.slowdown);
  // A throwaway clone, so the base worktree and its cache stay out of this repository.
  const dir = mkdtempSync(join(tmpdir(), 'ab-power-'));
  execFileSync('git', ['clone', '-q', '--shared', ROOT, join(dir, 'repo')]);
  const saved: Saved = { aa: [], ab: [], slowdownPct, load: [], nproc: (await import('node:os')).availableParallelism() };
  try {
    for (let i = 0; i < repeats; i++) {
      const common = { repo: join(dir, 'repo'), base: 'HEAD', suites, config: 'tiny' as const, rounds, alpha, thresholdPct };
      saved.aa.push(await runAb(common));
      saved.ab.push(await runAb({ ...common, inject: injects(slowdownPct, suites) }));
      const last = [saved.aa.at(-1)!, saved.ab.at(-1)!];
      for (const r of last) saved.load.push([...r.loadavg.start]);
      console.error(`repeat ${i + 1}/${repeats}: A/A ${last[0]!.seconds.toFixed(0)} s, A/B ${last[1]!.seconds.toFixed(0)} s, load ${last[1]!.loadavg.end[0]!.toFixed(2)}`);
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

/** Share of resampled n-round runs with each verdict; pairs are [base, head]. */
function rates(pairs: readonly (readonly [number, number])[], n: number, shift: number, draws: number) {
  const rand = rng(42);
  let up = 0;
  let down = 0;
  for (let d = 0; d < draws; d++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pairs[Math.floor(rand() * pairs.length)]!;
      a.push(p[0]);
      b.push(p[1] * shift);
    }
    const v = judge('x', a, b, alpha, thresholdPct).verdict;
    if (v === 'regressed') up++;
    else if (v === 'improved') down++;
  }
  return { regressed: up / draws, improved: down / draws, any: (up + down) / draws };
}

function analyze(s: Saved): string {
  const ids = s.aa[0]!.figures.map((f) => f.id);
  const pool = (runs: AbReport[], id: string) => runs.flatMap((r) => {
    const f = r.figures.find((x) => x.id === id)!;
    return f.baseRounds.map((x, i) => [x, f.headRounds[i]!] as const);
  });
  const rounds = s.aa[0]!.rounds;
  const secondsPerRound = (runs: AbReport[], suite: string) => runs.reduce((t, r) => t + r.suites.find((x) => x.suite === suite)!.seconds, 0) / runs.length / (rounds + 1);
  const NS = [10, 20, 30, 40, 60, 80, 120];
  const DRAWS = 2000;
  const loads = s.load.map((l) => l[0]!);
  const out = [
    `A/A and A/B (+${s.slowdownPct} % CPU injected in the head) × ${s.aa.length} repeats of ${rounds} rounds; alpha ${alpha}, threshold ${thresholdPct} %; ${s.nproc} cores, load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
    '',
    '| figure | sd of log ratio (A/A) | change the +' + s.slowdownPct + ' % burn made | real runs: A/A regression calls | real runs: A/B regression calls | resampled false alarms at ' + rounds + ' rounds | resampled power for the burn at ' + rounds + ' | rounds for ≤ 1 % false alarms and ≥ 90 % power at +5 % | s per round (both sides) | smallest change at 90 % power, 20 / 60 / 120 rounds |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const id of ids) {
    const aa = pool(s.aa, id);
    const ab = pool(s.ab, id);
    const logsAa = aa.map(([a, b]) => Math.log(b / a));
    const sd = Math.sqrt(logsAa.reduce((t, x) => t + (x - logsAa.reduce((u, y) => u + y, 0) / logsAa.length) ** 2, 0) / (logsAa.length - 1));
    const measured = Math.expm1(ab.reduce((t, [a, b]) => t + Math.log(b / a), 0) / ab.length - logsAa.reduce((t, x) => t + x, 0) / logsAa.length);
    const aaCalls = s.aa.filter((r) => r.figures.find((f) => f.id === id)!.verdict === 'regressed').length;
    const abHits = s.ab.filter((r) => r.figures.find((f) => f.id === id)!.verdict === 'regressed').length;
    // A false alarm is a regression call (what fails CI); power for a 5 % change is the A/A rounds shifted by 5 %.
    const fp = rates(aa, rounds, 1, DRAWS);
    const pw = rates(ab, rounds, 1, DRAWS);
    const need = NS.find((n) => rates(aa, n, 1, DRAWS).regressed <= 0.01 && rates(aa, n, 1.05, DRAWS).regressed >= 0.9);
    const mde = [20, 60, 120].map((n) => {
      for (let pct = 1; pct <= 100; pct += pct < 10 ? 0.5 : 2) if (rates(aa, n, 1 + pct / 100, 500).regressed >= 0.9) return `${pct} %`;
      return '> 100 %';
    });
    const suite = id.split('/')[0]!;
    out.push(`| ${id} | ${(sd * 100).toFixed(1)} % | ${(measured * 100).toFixed(1)} % | ${aaCalls}/${s.aa.length} | ${abHits}/${s.ab.length} | ${(fp.regressed * 100).toFixed(1)} % | ${(pw.regressed * 100).toFixed(0)} % | ${need ?? `> ${NS.at(-1)}`} | ${secondsPerRound([...s.aa, ...s.ab], suite).toFixed(2)} | ${mde.join(' / ')} |`);
  }
  return out.join('\n');
}

const saved: Saved = values.analyze ? JSON.parse(readFileSync(values.analyze, 'utf8')) as Saved : await measure();
if (!values.analyze) {
  const path = values.json ?? join(ROOT, 'bench', 'results', `ab-power-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(saved)}\n`);
  console.error(`rounds saved to ${path}`);
}
console.log(analyze(saved));
