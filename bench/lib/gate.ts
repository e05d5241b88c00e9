// The CI gate: compares a results file with the baseline of a runner class
// (configs/bench/<runner-class>.json). Per figure, a change counts only when it exceeds
// the class's threshold AND Welch's t-test on the log ratios of the rounds says it is
// significant at 1 − alpha; a large change that is not significant is "inconclusive",
// never a regression. Hard rules: a span's p99 must stay under its budget fraction. The 80 ms
// budget is end to end (frame in → reply out, `e2e`); a rule on an engine span (the step
// suite's step.total, measured in-process with no queue or network) checks the model's share
// only: necessary for the budget, never proof of it, and the report says which it is.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUDGET_MS, isSpanName } from '../../src/telemetry/index.ts';
import { BenchError } from './errors.ts';
import { allFigures, checkRatios, parseResults, readJsonFile, RESULTS_FORMAT, type BenchResults } from './results.ts';
import { mean, welch } from './stats.ts';

export interface BaselineFigure {
  readonly ratios: readonly number[];
  readonly ratio: number;
  readonly p50: number;
  readonly p99: number;
  readonly cvPct: number;
}

export interface Baseline {
  readonly createdAt: string;
  readonly commit: string | null;
  readonly cpuModel: string;
  readonly loadavg: readonly number[];
  readonly figures: Readonly<Record<string, BaselineFigure>>;
}

export interface RunnerClass {
  readonly runnerClass: string;
  readonly description: string;
  /** Significance level of the two-sided Welch test (0.01 → 99 %). */
  readonly alpha: number;
  /** Threshold (percent change of the figure) for figures without their own. */
  readonly defaultThresholdPct: number;
  /** Per figure id (`suite/name`), percent. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** Hard rules per bench config: span → the largest allowed p99 as a fraction of 80 ms. */
  readonly budget: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per bench config (tiny, real); null until written with --update-baseline. */
  readonly baselines: Readonly<Record<string, Baseline | null>>;
  readonly notes?: readonly string[];
}

export const CONFIGS_BENCH = join(import.meta.dirname, '..', '..', 'configs', 'bench');

/**
 * The runner class of this machine: <os>-<arch>, and on macOS arm64 whether the GitHub
 * runner is hosted or self-hosted (RUNNER_ENVIRONMENT, set by GitHub Actions; a machine
 * outside Actions counts as self-hosted).
 */
export function detectRunnerClass(env: NodeJS.ProcessEnv = process.env, platform = process.platform, arch = process.arch): string {
  const os = platform === 'darwin' ? 'macos' : platform === 'win32' ? 'windows' : platform;
  const base = `${os}-${arch}`;
  if (platform === 'darwin') return `${base}-${env.RUNNER_ENVIRONMENT === 'github-hosted' ? 'hosted' : 'self-hosted'}`;
  return base;
}

export function runnerClassPath(name: string): string {
  return join(CONFIGS_BENCH, `${name}.json`);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function parseRunnerClass(data: unknown, path: string): RunnerClass {
  const bad = (msg: string): never => {
    throw new BenchError('BENCH_ERR_BASELINE', `baseline ${path}: ${msg}`);
  };
  if (!isObj(data)) return bad('not a JSON object');
  if (typeof data.runnerClass !== 'string') return bad('"runnerClass" missing');
  if (!isNum(data.alpha) || data.alpha <= 0 || data.alpha >= 0.5) return bad('"alpha" must be a number in (0, 0.5)');
  if (!isNum(data.defaultThresholdPct) || data.defaultThresholdPct <= 0) return bad('"defaultThresholdPct" must be a positive number');
  if (!isObj(data.thresholds)) return bad('"thresholds" must be an object of figure id → percent');
  for (const [k, v] of Object.entries(data.thresholds)) if (!isNum(v) || v <= 0) bad(`thresholds["${k}"] must be a positive number`);
  if (!isObj(data.budget)) return bad('"budget" must be an object of config → { span: fraction }');
  for (const [c, rules] of Object.entries(data.budget)) {
    if (!isObj(rules)) return bad(`budget["${c}"] must be an object`);
    for (const [s, v] of Object.entries(rules)) {
      if (!isSpanName(s)) bad(`budget["${c}"]["${s}"] is not a span name (the rule reads a figure of that span)`);
      if (!isNum(v) || v <= 0) bad(`budget["${c}"]["${s}"] must be a positive fraction of ${BUDGET_MS} ms`);
    }
  }
  if (!isObj(data.baselines)) return bad('"baselines" must be an object of config → baseline or null');
  for (const [c, b] of Object.entries(data.baselines)) {
    if (b === null) continue;
    if (!isObj(b) || !isObj(b.figures)) return bad(`baselines["${c}"] has no "figures"`);
    for (const [id, f] of Object.entries(b.figures)) {
      if (!isObj(f)) return bad(`baselines["${c}"].figures["${id}"] is not an object`);
      checkRatios(`baseline ${path}: baselines["${c}"].figures["${id}"]`, f.ratios, 'BENCH_ERR_BASELINE');
    }
  }
  return data as unknown as RunnerClass;
}

/** Reads a runner-class file; `nameOrPath` is a class name (configs/bench/NAME.json) or a path. */
export function readRunnerClass(nameOrPath: string): { path: string; cls: RunnerClass } {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const path = looksLikePath ? nameOrPath : runnerClassPath(nameOrPath);
  if (!looksLikePath && !existsSync(path)) {
    const known = listRunnerClasses();
    throw new BenchError('BENCH_ERR_UNKNOWN_RUNNER_CLASS', `unknown runner class "${nameOrPath}": no ${path} (known: ${known.join(', ') || 'none'}). Add one by copying a file in configs/bench/ (README, "Your own runner class").`);
  }
  return { path, cls: parseRunnerClass(readJsonFile(path, 'BENCH_ERR_BASELINE', 'baseline'), path) };
}

/** What `--baseline FILE` may hold: a runner-class file, or the results of an earlier run. */
export type BaselineFile =
  | { readonly kind: 'class'; readonly path: string; readonly cls: RunnerClass }
  | { readonly kind: 'results'; readonly path: string; readonly results: BenchResults };

/** Reads `--baseline FILE`, telling a results file (its "format" field) from a runner-class file. */
export function readBaselineFile(path: string): BaselineFile {
  const data = readJsonFile(path, 'BENCH_ERR_BASELINE', 'baseline');
  if (isObj(data) && data.format === RESULTS_FORMAT) return { kind: 'results', path, results: parseResults(data, path) };
  return { kind: 'class', path, cls: parseRunnerClass(data, path) };
}

/**
 * Gating this run against an earlier run: the earlier run's figures as the baseline, the
 * runner class's alpha, thresholds and budget rules (a results file has none of its own).
 */
export function resultsAsBaseline(base: BenchResults, basePath: string, cls: RunnerClass, clsPath: string, results: BenchResults): { cls: RunnerClass; opts: GateOptions } {
  if (base.config !== results.config) {
    throw new BenchError('BENCH_ERR_CONFIG_MISMATCH', `baseline ${basePath} is a config "${base.config}" run and results are config "${results.config}": compare runs of the same config`);
  }
  return {
    cls: { ...cls, baselines: { ...cls.baselines, [results.config]: baselineFrom(base) } },
    opts: { sources: { baseline: `the run in ${basePath}`, thresholds: `runner class ${cls.runnerClass} (${clsPath})` } },
  };
}

export function listRunnerClasses(): string[] {
  try {
    return readdirSync(CONFIGS_BENCH).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/**
 * Per baseline figure: `missing` when its suite ran and did not produce it (an error),
 * `skipped` when its suite ran but was skipped (weights absent), `not-run` when its suite
 * was not asked for (`--suite step` gates only step).
 */
export type FigureVerdict = 'regressed' | 'improved' | 'unchanged' | 'inconclusive' | 'new' | 'missing' | 'skipped' | 'not-run';

export interface FigureComparison {
  readonly id: string;
  readonly verdict: FigureVerdict;
  readonly thresholdPct: number;
  /** Ratio of geometric means of the round ratios, minus 1, percent. */
  readonly changePct: number | null;
  readonly p: number | null;
  /** Geometric means of the round ratios (what changePct compares). */
  readonly baseRatio: number | null;
  readonly ratio: number | null;
  readonly cvPct: number | null;
  readonly baseCvPct: number | null;
}

export interface BudgetCheck {
  readonly span: string;
  /** 'end-to-end': the rule reads e2e, what the budget counts; 'engine': a share of it (necessary, not sufficient). */
  readonly scope: 'end-to-end' | 'engine';
  readonly p99Ms: number;
  readonly fraction: number;
  readonly limit: number;
  readonly ok: boolean;
}

export interface GateReport {
  readonly runnerClass: string;
  /** Where the baseline figures and the thresholds came from, for the summary. */
  readonly sources: GateSources;
  readonly config: string;
  readonly alpha: number;
  readonly baseline: Baseline | null;
  readonly figures: readonly FigureComparison[];
  readonly budget: readonly BudgetCheck[];
  readonly warnings: readonly string[];
  readonly pass: boolean;
}

export interface CompareOptions {
  readonly thresholdPct: number;
  readonly alpha: number;
}

/**
 * One figure: `base` and `next` are per-round ratios (positive). Compared on the log scale
 * (latencies are multiplicative and right-skewed), so the change is a ratio of geometric means.
 */
export function compareSamples(base: readonly number[], next: readonly number[], opts: CompareOptions): { verdict: 'regressed' | 'improved' | 'unchanged' | 'inconclusive'; changePct: number; p: number } {
  const la = base.map(Math.log);
  const lb = next.map(Math.log);
  const changePct = (Math.exp(mean(lb) - mean(la)) - 1) * 100;
  const { p } = welch(la, lb);
  if (Math.abs(changePct) <= opts.thresholdPct) return { verdict: 'unchanged', changePct, p };
  if (!(p < opts.alpha)) return { verdict: 'inconclusive', changePct, p };
  return { verdict: changePct > 0 ? 'regressed' : 'improved', changePct, p };
}

const geomean = (xs: readonly number[]) => Math.exp(mean(xs.map(Math.log)));

export function thresholdFor(cls: RunnerClass, id: string): number {
  return cls.thresholds[id] ?? cls.defaultThresholdPct;
}

export interface GateSources {
  readonly baseline: string;
  readonly thresholds: string;
}

export interface GateOptions {
  /** Without a baseline for the results' config: report and pass (true) or throw BENCH_ERR_NO_BASELINE. */
  readonly allowMissingBaseline?: boolean;
  /** What to name as the origin of the baseline and thresholds (default: the runner class). */
  readonly sources?: GateSources;
  /** Said before the gate's own warnings (e.g. the baseline was measured on another CPU). */
  readonly warnings?: readonly string[];
}

export function gate(results: BenchResults, cls: RunnerClass, opts: GateOptions = {}): GateReport {
  const config = results.config;
  const baseline = cls.baselines[config] ?? null;
  if (!baseline && !opts.allowMissingBaseline) {
    throw new BenchError('BENCH_ERR_NO_BASELINE', `runner class ${cls.runnerClass} has no baseline for config "${config}" yet. Write one on this runner with \`solacelive bench gate --results R.json --baseline configs/bench/${cls.runnerClass}.json --update-baseline\` and commit it (or pass --allow-missing-baseline to check only the budget rules).`);
  }
  const figures: FigureComparison[] = [];
  const warnings: string[] = [...(opts.warnings ?? [])];
  if (baseline && baseline.cpuModel !== results.host.cpuModel) {
    warnings.push(`the baseline was measured on ${baseline.cpuModel} and these results on ${results.host.cpuModel}: ratios to the calibration kernels carry across CPUs only roughly`);
  }
  const seen = new Set<string>();
  for (const f of allFigures(results)) {
    seen.add(f.id);
    const threshold = thresholdFor(cls, f.id);
    if (f.cvPct > threshold) warnings.push(`${f.id}: CV ${f.cvPct.toFixed(1)} % across rounds is above its ${threshold} % threshold; changes this small cannot be seen on this run`);
    const b = baseline?.figures[f.id];
    if (!b) {
      figures.push({ id: f.id, verdict: 'new', thresholdPct: threshold, changePct: null, p: null, baseRatio: null, ratio: geomean(f.ratios), cvPct: f.cvPct, baseCvPct: null });
      continue;
    }
    const c = compareSamples(b.ratios, f.ratios, { thresholdPct: threshold, alpha: cls.alpha });
    figures.push({ id: f.id, verdict: c.verdict, thresholdPct: threshold, changePct: c.changePct, p: c.p, baseRatio: geomean(b.ratios), ratio: geomean(f.ratios), cvPct: f.cvPct, baseCvPct: b.cvPct });
  }
  const status = new Map(results.suites.map((s) => [s.suite, s.status]));
  for (const [id, b] of Object.entries(baseline?.figures ?? {})) {
    if (seen.has(id)) continue;
    const st = status.get(id.slice(0, id.indexOf('/')));
    const verdict: FigureVerdict = st === undefined ? 'not-run' : st === 'skipped' ? 'skipped' : 'missing';
    figures.push({ id, verdict, thresholdPct: thresholdFor(cls, id), changePct: null, p: null, baseRatio: geomean(b.ratios), ratio: null, cvPct: null, baseCvPct: b.cvPct });
  }
  const budget: BudgetCheck[] = [];
  for (const [span, limit] of Object.entries(cls.budget[config] ?? {})) {
    const f = allFigures(results).find((x) => x.span === span && x.suite === 'step') ?? allFigures(results).find((x) => x.span === span);
    if (!f) {
      if (!status.has('step')) warnings.push(`budget rule for ${span} not checked: the step suite was not run`);
      else if (status.get('step') === 'ok') warnings.push(`budget rule for ${span} not checked: the step suite's results have no ${span} figure`);
      continue;
    }
    const fraction = f.p99 / BUDGET_MS;
    budget.push({ span, scope: span === 'e2e' ? 'end-to-end' : 'engine', p99Ms: f.p99, fraction, limit, ok: fraction <= limit });
  }
  if (!baseline) warnings.push(`no baseline for config "${config}" in runner class ${cls.runnerClass}: figures not compared, budget rules only`);
  const pass = figures.every((f) => f.verdict !== 'regressed' && f.verdict !== 'missing') && budget.every((b) => b.ok);
  const sources = opts.sources ?? { baseline: `runner class ${cls.runnerClass}`, thresholds: `runner class ${cls.runnerClass}` };
  return { runnerClass: cls.runnerClass, sources, config, alpha: cls.alpha, baseline, figures, budget, warnings, pass };
}

/** The figures of a results file as a baseline, to be written into the runner-class file. */
export function baselineFrom(results: BenchResults): Baseline {
  const figures: Record<string, BaselineFigure> = {};
  for (const f of allFigures(results)) figures[f.id] = { ratios: f.ratios, ratio: f.ratio, p50: f.p50, p99: f.p99, cvPct: f.cvPct };
  return { createdAt: results.createdAt, commit: results.host.commit, cpuModel: results.host.cpuModel, loadavg: results.loadavg.start, figures };
}

/**
 * Rewrites the runner-class file with a new baseline for the results' config; thresholds and
 * rules are kept. Refused when the results lack suites the old baseline has: a one-suite run
 * would otherwise drop every other suite's baseline figures.
 */
export function updateBaseline(path: string, cls: RunnerClass, results: BenchResults): RunnerClass {
  const ran = new Set(results.suites.map((s) => s.suite));
  const old = Object.keys(cls.baselines[results.config]?.figures ?? {});
  const dropped = [...new Set(old.map((id) => id.slice(0, id.indexOf('/'))).filter((suite) => !ran.has(suite)))];
  if (dropped.length) {
    throw new BenchError('BENCH_ERR_RESULTS', `--update-baseline: the results have no ${dropped.join(', ')} suite${dropped.length > 1 ? 's' : ''}, whose figures the baseline of config "${results.config}" in ${path} holds; writing these results would drop them. Run every suite of the baseline (\`npm run bench\`, or --suite ${[...ran, ...dropped].join(',')}) and update from that.`);
  }
  const next: RunnerClass = { ...cls, baselines: { ...cls.baselines, [results.config]: baselineFrom(results) } };
  writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
  return next;
}

const pct = (x: number | null, digits = 1) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)} %`);
const ICON: Record<FigureVerdict, string> = {
  regressed: '🔴 regressed', improved: '🟢 improved', unchanged: '⚪ unchanged', inconclusive: '🟡 inconclusive', new: '🆕 new', missing: '🔴 missing', skipped: '⏭️ skipped', 'not-run': '◻️ not run',
};

/** The Markdown summary for a PR comment or $GITHUB_STEP_SUMMARY. */
export function gateMarkdown(r: GateReport, results: BenchResults): string {
  const counts = (v: FigureVerdict) => r.figures.filter((f) => f.verdict === v).length;
  // Suites not asked for are one line, not a row per figure: this run says nothing about them.
  const notRun = [...new Set(r.figures.filter((f) => f.verdict === 'not-run').map((f) => f.id.slice(0, f.id.indexOf('/'))))];
  const lines = [
    `## Bench gate: ${r.pass ? '✅ pass' : '❌ fail'} (${r.runnerClass}, config ${r.config})`,
    '',
    `${counts('regressed')} regressed, ${counts('improved')} improved, ${counts('unchanged')} unchanged, ${counts('inconclusive')} inconclusive` +
      `${counts('new') ? `, ${counts('new')} new` : ''}${counts('missing') ? `, ${counts('missing')} missing` : ''}${counts('skipped') ? `, ${counts('skipped')} skipped` : ''}${counts('not-run') ? `, ${counts('not-run')} not run` : ''}. ` +
      `A change counts when it exceeds the figure's threshold and Welch's t-test over the rounds is significant at ${((1 - r.alpha) * 100).toFixed(0)} %.`,
    '',
    `Machine: ${results.host.cpuModel} (${results.host.cores} cores, ${results.host.os}, ${results.host.arch}), MLX ${results.host.mlxDevice}${results.host.metal ? ' (Metal)' : ''}, BLAS ${results.host.blas?.library ?? 'n/a'}; load average ${results.loadavg.start.map((x) => x.toFixed(2)).join(' / ')} at the start. Commit ${results.host.commit ?? 'unknown'}.`,
    !r.baseline ? '**No baseline** for this runner class and config: write one with `--update-baseline`.'
      : r.sources.baseline === r.sources.thresholds ? `Baseline, thresholds, alpha and budget rules: ${r.sources.baseline}; baseline measured ${r.baseline.createdAt}, commit ${r.baseline.commit ?? 'unknown'}, ${r.baseline.cpuModel}.`
        : `Baseline: ${r.sources.baseline}, measured ${r.baseline.createdAt}, commit ${r.baseline.commit ?? 'unknown'}, ${r.baseline.cpuModel}. Thresholds, alpha and budget rules: ${r.sources.thresholds}.`,
    ...(notRun.length ? [`Not run: ${notRun.join(', ')} (${counts('not-run')} baseline figures not compared; gated: ${[...new Set(results.suites.map((s) => s.suite))].join(', ') || 'none'}).`] : []),
    '',
    '| figure | verdict | change | p | threshold | ratio, geometric mean (base → now) | CV now / base |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const f of r.figures.filter((x) => x.verdict !== 'not-run')) {
    lines.push(`| \`${f.id}\` | ${ICON[f.verdict]} | ${pct(f.changePct)} | ${f.p === null ? '–' : f.p < 1e-4 ? '<0.0001' : f.p.toFixed(4)} | ${f.thresholdPct} % | ${f.baseRatio === null ? '–' : f.baseRatio.toPrecision(4)} → ${f.ratio === null ? '–' : f.ratio.toPrecision(4)} | ${f.cvPct === null ? '–' : f.cvPct.toFixed(1)} / ${f.baseCvPct === null ? '–' : f.baseCvPct.toFixed(1)} % |`);
  }
  if (r.budget.length) {
    lines.push('', '| budget rule | scope | p99 | of 80 ms | limit | |', '| --- | --- | ---: | ---: | ---: | --- |');
    for (const b of r.budget) lines.push(`| \`${b.span}\` p99 | ${SCOPE[b.scope]} | ${b.p99Ms.toFixed(2)} ms | ${b.fraction.toFixed(3)} | ≤ ${b.limit} | ${b.ok ? '✅' : '❌ over budget'} |`);
    if (r.budget.some((b) => b.scope === 'engine')) lines.push('', 'Engine rules check the model\'s share of the 80 ms end-to-end budget (no queue, no network): passing them is necessary for real time, not proof of it; the server suite (`solacelive bench --suite server`) measures end to end.');
  }
  if (r.warnings.length) lines.push('', '**Warnings**', '', ...r.warnings.map((w) => `- ${w}`));
  return `${lines.join('\n')}\n`;
}

const SCOPE: Record<BudgetCheck['scope'], string> = { 'end-to-end': 'end to end (what the budget counts)', engine: 'engine only (necessary, not sufficient)' };

/** One line per problem, for the terminal: what failed and why. */
export function gateFailures(r: GateReport): string[] {
  return [
    ...r.figures.filter((f) => f.verdict === 'regressed').map((f) => `${f.id} regressed by ${pct(f.changePct)} (threshold ${f.thresholdPct} %, p = ${f.p?.toExponential(2)})`),
    ...r.figures.filter((f) => f.verdict === 'missing').map((f) => `${f.id} is in the baseline but not in the results`),
    ...r.budget.filter((b) => !b.ok).map((b) => `${b.span} p99 ${b.p99Ms.toFixed(2)} ms is ${b.fraction.toFixed(3)} of the 80 ms budget, over the limit ${b.limit}${b.scope === 'engine' ? ' (model work alone: no server on this machine can keep the end-to-end budget)' : ''}`),
  ];
}
