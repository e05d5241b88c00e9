// `solacelive bench` (run the unified suites, print tables, write a results JSON) and
// `solacelive bench gate` (compare results with a runner class's baseline; Markdown
// summary; exit 1 on a regression or a broken budget rule).
import { appendFileSync, copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intOption, parseCommandArgs, UsageError, type Command } from '../src/cli/args.ts';
import { BUDGET_MS } from '../src/telemetry/index.ts';
import type { BenchProgress } from '../harness/dashboard/events.ts';
import { abMarkdown, DEFAULT_BLOCK_ROUNDS, runAb } from './lib/ab.ts';
import { BenchError } from './lib/errors.ts';
import { detectRunnerClass, gate, gateFailures, gateMarkdown, readBaselineFile, readRunnerClass, resultsAsBaseline, runnerClassPath, updateBaseline } from './lib/gate.ts';
import { readResults, writeResults, type BenchResults } from './lib/results.ts';
import { parseConfig, parseSuites, runBench } from './lib/runner.ts';
import { ROOT } from './lib/paths.ts';
import { SUITES, type ServerLayoutOptions, type SuiteName } from './lib/suite-api.ts';

export const LATEST = join(ROOT, 'bench', 'results', 'latest.json');

const HELP = [
  'usage: solacelive bench [--suite NAME|all] [--config tiny|real] [--json OUT] [--rounds N] [--per-round N]',
  '                        [--quick] [--runner-class NAME] [--blas-threads N] [--dashboard]',
  '                        [--server-engines E,...] [--haproxy]',
  '       solacelive bench gate --results R.json [--baseline CLASS.json | --runner-class NAME]',
  '                        [--baseline R0.json [--runner-class NAME]]',
  '                        [--update-baseline] [--allow-missing-baseline] [--summary FILE]',
  '       solacelive bench ab --base REF [--merge-base] [--head REF|worktree] [--suite NAME,...] [--rounds N]',
  '                        [--block K] [--per-round N] [--config tiny|real] [--alpha A] [--threshold PCT] [--cache DIR]',
  '                        [--json OUT] [--summary FILE]',
  '',
  'bench: runs the suites, each in its own process with OpenBLAS pinned as the engine pins it',
  '(default 1 thread; the core type from SOLACELIVE_BLAS_CORETYPE as for serve, else detected, whatever',
  `OPENBLAS_CORETYPE the shell has): ${SUITES.join(', ')} (a comma list, or all; default all).`,
  '  codec   packet encode/decode per packet; Ogg Opus encode/decode per 80 ms frame (tinybench)',
  '  mimi    Mimi encodeStep/decodeStep per frame (tiny weights; real: mimi_202407 size, random weights)',
  '  lm      LmGen.step: lm.temporal and lm.depformer (tiny; real: kyutai/moshiko-mlx-q4 from the HF cache,',
  '          else the 7B shape with seeded random q4 weights generated in memory)',
  '  step    the engine Pipeline per span: mimi.encode, lm.temporal, lm.depformer, mimi.decode, step.total',
  '  replay  offline replay of fixtures/sessions/hello-2s.session, ms per step on one worker and pipelined',
  '          on two (the default replay; tiny only); ipc: the',
  '          engine process round trip minus its own time per step; recorder.cost: the recorder\'s time',
  '          on the server\'s event loop per step of a recorded session on a real server (its hooks and its',
  '          writer\'s turns there), as a share of that session\'s step (target ≤ 1 %); recorder.cpu and',
  '          recorder.cpu.plain: the loop\'s CPU per step recorded and not (their difference, noted: the whole cost)',
  '  proxy   one-way Moshi message latency up and down through `solacelive proxy` (in process; process.up/down:',
  '          as a process of its own; recording)',
  '  dash    the server\'s step.total over real-time sessions with `solacelive dash` attached (tmux 80×24,',
  '          10 Hz; skipped without tmux); tiny only',
  '  server  `solacelive serve` on loopback under `solacelive loadtest`: capacity, client lag, first audio (tiny only);',
  '          the server\'s own /health figures beside them (session cost, admission capacity, workers\' CPU and',
  '          step p99, e2e p99) and the serve process\'s CPU (the server thread; Linux). Layouts, side by side',
  '          (each started, its capacity found, then every round runs each layout at its capacity in turn):',
  '          --server-engines 1,2 one `serve --engines E` per count (figures engines-E/lag …); --haproxy two',
  '          `serve --engines E` behind HAProxy on the shipped deploy/haproxy.cfg (figures haproxy-engines-E/…,',
  '          notes with each server\'s /health and how HAProxy spread the sessions). Default: one serve, figures unprefixed.',
  'Every figure with a physical floor reports it, measured in the same run, and p50 over it (p50/floor):',
  'models (mimi, lm, step, replay) the weight bytes the work reads ÷ the suite process\'s memory bandwidth',
  '(a 256 MiB Buffer.copy, read + write traffic, fastest of the run); codec a new buffer + copy of the same',
  'bytes (the packet; the 80 ms PCM frame for Opus), timed in the same rounds; proxy and dash the same',
  'traffic without the proxy or the dashboard, in the same rounds (one trial of each per round, the order',
  'alternating). The mimi suite notes its RSS drift over the timed frames.',
  'Each suite runs N rounds (--rounds, default 12; 6 with --quick). In every round calibration',
  'kernels are timed between the samples (an MLX 256³ matmul and an 8 MiB memory copy); a figure\'s',
  'ratio is its round median over the round\'s fastest kernel run (the machine\'s speed without',
  'interruptions), so a slower or faster machine (CPU model, clock) moves both and the ratio stays.',
  `Prints per figure p50/p95/p99 (ms), p99 as a share of the ${BUDGET_MS} ms budget, the ratio and`,
  'its CV across rounds (warned about when above the runner class\'s gate threshold), the floor, and writes',
  'the results JSON with the machine fingerprint to --json OUT, or by default to',
  'bench/results/bench-<config>-<time>.json and bench/results/latest.json (what `npm run bench:gate` reads).',
  '--config real skips, saying why, step when Moshi 7B is not in the cache, and replay, proxy and dash.',
  '--dashboard shows progress in the Ink dashboard (harness/dashboard) instead of log lines.',
  '',
  'bench gate: compares --results (default bench/results/latest.json, written by `npm run bench`) with a',
  'baseline. Only the suites in the results are gated: baseline figures of suites that were not run are',
  'reported as "not run"; a figure missing from a suite that ran fails the gate.',
  'The baseline is a runner class, configs/bench/<class>.json (--baseline FILE, or --runner-class NAME;',
  `default: the class the results were run under, else this machine's, ${detectRunnerClass()}), or an earlier`,
  'run: --baseline R0.json (a results file of the same config) compares this run with that run, with the',
  'alpha, thresholds and budget rules of --runner-class NAME or the default class (the summary names both).',
  'Per figure: regressed/improved only when the change of the ratio exceeds the figure\'s threshold AND',
  'Welch\'s t-test over the rounds (log scale) is significant at 1 − alpha (the class\'s alpha, 0.01 → 99 %);',
  'a large change that is not significant is "inconclusive". Budget rules: a span\'s p99 must stay under',
  'the fraction of 80 ms the class sets for the config. Prints a Markdown summary (also appended to',
  '$GITHUB_STEP_SUMMARY when set, and written to --summary FILE). Exit 0 pass, 1 regression, missing',
  'figure or broken budget rule. Without a baseline for the config: an error naming how to write one,',
  'unless --allow-missing-baseline (then only the budget rules are checked).',
  '--update-baseline writes the results as the class\'s baseline for their config (thresholds and rules kept);',
  'refused when the results lack a suite the old baseline has (its figures would be dropped).',
  '',
  'bench ab: measures the base revision and the head side by side, now, on this machine, and gates on the',
  'difference. The base (--base REF; with --merge-base, the merge base of REF and the head, as a pull request',
  'forks) is checked out in a git worktree under --cache (default <git dir>/solacelive-ab) with its own',
  'node_modules: the head\'s when package-lock.json is identical (a symlink), else one npm ci per lockfile hash,',
  'kept in the cache. The head is this checkout as it is on disk (--head worktree, the default) or a REF checked',
  'out the same way. Per suite (default mimi,lm,step) the --rounds N pairs (default 60) run in blocks of at most',
  `--block K rounds (default ${DEFAULT_BLOCK_ROUNDS}): each block starts a fresh pair of processes, one per side (OpenBLAS pinned as`,
  'the engine pins it), base first and head first in turn, so what a process draws at start (heap layout,',
  'addresses, core) is noise between blocks, not a fixed bias of one side; they are asked for one round at a',
  'time, A B, B A, … after one discarded warm-up round each, with the head\'s calibration kernels copied into',
  'both. More than 2 blocks are made an even number, so each side starts first equally often. --block N (one',
  'block) keeps one pair for all rounds; two blocks are refused (1 degree of freedom).',
  'Per round a figure is its fastest sample over the round\'s fastest calibration run (cpu.*: the CPU time per',
  'step over it); per figure a paired t-test on ln(head/base) over the blocks\' means (blocks − 1 df; with one',
  'block, over the rounds), since rounds of one process pair share its luck: the change',
  '(ratio of geometric means), its 1 − alpha confidence interval (--alpha, default 0.01 → 99 %) and a verdict:',
  'regressed/improved when the interval excludes 0 and the change exceeds ±--threshold % (default 1),',
  'unchanged when the interval lies within ±threshold (or the change is significant but smaller),',
  'inconclusive otherwise. Prints a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set, and',
  'written to --summary FILE), writes the report with every round to --json OUT. Exit 0, or 1 on a regression.',
  'Errors: BENCH_ERR_AB_REVISION (no such revision), BENCH_ERR_AB_INSTALL (the base\'s npm ci failed or its',
  'package.json is broken), BENCH_ERR_AB_SUITE_MISSING (a suite one side does not have).',
].join('\n');

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** The plain table of a run: one block per suite. */
export function formatResults(r: BenchResults): string {
  const out: string[] = [];
  const h = r.host;
  out.push(`machine: ${h.cpuModel}, ${h.cores} cores, ${h.os} ${h.arch}, MLX ${h.mlxDevice}${h.metal ? ' (Metal)' : ''}, BLAS ${h.blas?.library ?? 'n/a'} threads ${r.settings.blasThreads} core type ${h.blas?.coreType ?? 'detected'}, node ${h.node}, solacelive ${h.version} ${h.commit ?? ''}`);
  out.push(`runner class ${h.runnerClass}; config ${r.config}; ${r.settings.rounds} rounds per suite; load average ${r.loadavg.start.map((x) => x.toFixed(2)).join(' ')} → ${r.loadavg.end.map((x) => x.toFixed(2)).join(' ')}`);
  for (const s of r.suites) {
    out.push('');
    if (s.status === 'skipped') {
      out.push(`${s.suite}: skipped: ${s.reason}`);
      continue;
    }
    out.push(`${s.suite}: ${s.describe} (${s.seconds.toFixed(1)} s)`);
    const rows = [['figure', 'p50 ms', 'p95 ms', 'p99 ms', `of ${BUDGET_MS} ms p50/p95/p99`, 'ratio', 'kernel', 'cv %', 'rme %', 'samples', 'floor ms', 'p50/floor']];
    const share = (ms: number) => (ms / BUDGET_MS).toFixed(ms / BUDGET_MS >= 10 ? 1 : 3);
    for (const f of s.figures) {
      rows.push([f.name, fmt(f.p50), fmt(f.p95), fmt(f.p99), f.budgetFraction === undefined ? '' : `${share(f.p50)}/${share(f.p95)}/${share(f.p99)}`, f.ratio.toPrecision(4), f.calibration, f.cvPct.toFixed(1), f.rmePct.toFixed(1), String(f.samples), f.floor ? fmt(f.floor.ms) : '', f.floor ? `${fmt(f.floor.ratio)}×` : '']);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    rows.forEach((row, i) => {
      out.push(`  ${row.map((cell, c) => (c === 0 || c === 6 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}`.trimEnd());
      if (i === 0) out.push(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
    });
    for (const f of s.figures) {
      if (f.floor) out.push(`  floor ${f.name}: ${f.floor.kind}, ${f.floor.describe}${f.floor.kind === 'weights' ? ` ÷ ${fmt(s.bandwidth!.gbps)} GB/s` : ''} = ${fmt(f.floor.ms)} ms; p50 ${fmt(f.p50)} ms is ${fmt(f.floor.ratio)}× the floor${f.floor.p99 === undefined ? '' : ` (p99 ${fmt(f.p99)} against the floor's ${fmt(f.floor.p99)} ms)`}`);
      if (f.share) out.push(`  ${f.name}: ${f.share.pct.toPrecision(3)} % of ${f.share.of} (p50 ${fmt(f.p50)} of ${fmt(f.share.ofMs)} ms; target ≤ ${f.share.targetPct} %: ${f.share.ok ? 'met' : 'NOT MET'})`);
    }
    for (const note of s.notes) out.push(`  note: ${note}`);
    if (s.bandwidth) out.push(`  bandwidth: ${s.bandwidth.describe}: ${fmt(s.bandwidth.gbps)} GB/s`);
    for (const c of s.calibration) out.push(`  calibration ${c.kernel}: ${c.describe}: median ${fmt([...c.rounds].sort((a, b) => a - b)[c.rounds.length >> 1]!)} ms, cv ${c.cvPct.toFixed(1)} % across rounds`);
  }
  if (r.warnings.length) out.push('', 'warnings:', ...r.warnings.map((w) => `  ${w}`));
  return out.join('\n');
}

async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    suite: { type: 'string' }, config: { type: 'string' }, json: { type: 'string' }, rounds: { type: 'string' },
    'per-round': { type: 'string' }, quick: { type: 'boolean' }, 'runner-class': { type: 'string' },
    'blas-threads': { type: 'string' }, dashboard: { type: 'boolean' }, 'server-engines': { type: 'string' }, haproxy: { type: 'boolean' },
  }, true);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]} (subcommands: gate, ab)`);
  const suites = parseSuites(values.suite);
  const server = parseServerLayouts(values['server-engines'], values.haproxy ?? false, suites);
  const config = parseConfig(values.config);
  const rounds = intOption(values, 'rounds', values.quick ? 6 : 12);
  if (rounds < 3) throw new UsageError(`--rounds must be at least 3 (got ${rounds}): the gate's t-test needs a spread`);
  const perRound = values['per-round'] === undefined ? undefined : intOption(values, 'per-round', 1);
  if (perRound !== undefined && perRound < 1) throw new UsageError('--per-round must be at least 1');
  const blasThreads = intOption(values, 'blas-threads', 1);
  const className = values['runner-class'] ?? detectRunnerClass();
  // CV warnings need the class's thresholds; an unknown class is an error only when named.
  const cls = values['runner-class'] !== undefined || existsSync(runnerClassPath(className)) ? readRunnerClass(className).cls : null;
  let dashboard: { onProgress(p: BenchProgress): void; finish(): Promise<void> } | null = null;
  if (values.dashboard) {
    try {
      const mod = await import('../harness/dashboard/bench.ts');
      dashboard = mod.attachBenchDashboard();
    } catch (err) {
      throw new BenchError('BENCH_ERR_SUITE_FAILED', `--dashboard: could not load harness/dashboard/bench.ts (${(err as Error).message})`);
    }
  }
  const results = await runBench({
    suites, config, rounds, quick: values.quick ?? false, blasThreads, runnerClass: cls,
    ...(perRound !== undefined ? { perRound } : {}),
    ...(server ? { server } : {}),
    log: dashboard ? () => undefined : (m) => console.error(`bench ${m}`),
    ...(dashboard ? { onProgress: (p) => dashboard.onProgress(p) } : {}),
  });
  if (dashboard) await dashboard.finish();
  else console.log(formatResults(results));
  // --json OUT writes only OUT; by default a timestamped file and latest.json (what bench:gate reads).
  const path = values.json ?? join(ROOT, 'bench', 'results', `bench-${config}-${results.createdAt.replace(/[:.]/g, '-')}.json`);
  writeResults(results, path);
  if (values.json === undefined) copyFileSync(path, LATEST);
  console.log(`\nresults: ${path}${values.json === undefined ? ` (and ${LATEST})` : ''}`);
  // The next step, runnable as printed: the gate reads latest.json unless told otherwise.
  console.log(`gate them: ${values.json === undefined ? 'npm run bench:gate' : `solacelive bench gate --results ${path}`} (gates the suites of this run only)`);
  return 0;
}

/** The class whose thresholds gate `results`: the one they were run under where configs/bench has it, else this machine's. */
function classFor(results: BenchResults): string {
  const named = results.host.runnerClass;
  return named && existsSync(runnerClassPath(named)) ? named : detectRunnerClass();
}

async function gateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    results: { type: 'string' }, baseline: { type: 'string' }, 'runner-class': { type: 'string' },
    'update-baseline': { type: 'boolean' }, 'allow-missing-baseline': { type: 'boolean' }, summary: { type: 'string' },
  }, true);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const resultsPath = values.results ?? LATEST;
  if (!existsSync(resultsPath)) {
    throw new BenchError('BENCH_ERR_RESULTS', `results ${resultsPath}: no such file. Make it with \`npm run bench\` (every suite; writes bench/results/latest.json, which \`npm run bench:gate\` reads), or run \`solacelive bench --suite NAME --json FILE\` and gate FILE with \`--results FILE\``);
  }
  const results = readResults(resultsPath);
  // --baseline FILE is a runner-class file, or an earlier run's results (this run against
  // that run; thresholds then come from --runner-class, or the class these results name).
  const given = values.baseline === undefined ? null : readBaselineFile(values.baseline);
  if (given?.kind === 'class' && values['runner-class']) throw new UsageError('give --baseline CLASS-FILE or --runner-class NAME, not both (--runner-class goes with a --baseline that is a results file)');
  if (given?.kind === 'results' && values['update-baseline']) throw new UsageError(`--update-baseline writes into a runner-class file, and --baseline ${given.path} is a results file: give --runner-class NAME or a configs/bench/*.json file`);
  const { path, cls } = given?.kind === 'class' ? given : readRunnerClass(values['runner-class'] ?? classFor(results));
  if (values['update-baseline']) {
    const figures = results.suites.flatMap((s) => s.figures).length;
    if (figures === 0) throw new BenchError('BENCH_ERR_RESULTS', `results ${resultsPath}: no figures to write as a baseline (every suite skipped?)`);
    updateBaseline(path, cls, results);
    console.log(`baseline for config ${results.config} of runner class ${cls.runnerClass} written to ${path}: ${figures} figures from ${resultsPath} (${results.host.cpuModel}, load average ${results.loadavg.start.map((x) => x.toFixed(2)).join(' ')}). Commit it.`);
    return 0;
  }
  const allow = { allowMissingBaseline: values['allow-missing-baseline'] ?? false };
  const report = given?.kind === 'results'
    ? (() => {
      const b = resultsAsBaseline(given.results, given.path, cls, path, results);
      return gate(results, b.cls, { ...allow, ...b.opts });
    })()
    : gate(results, cls, { ...allow, sources: { baseline: `runner class ${cls.runnerClass} (${path})`, thresholds: `runner class ${cls.runnerClass} (${path})` } });
  const md = gateMarkdown(report, results);
  console.log(md);
  if (values.summary) writeFileSync(values.summary, md);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md);
  const failures = gateFailures(report);
  if (failures.length) console.error(`bench gate: FAIL\n  ${failures.join('\n  ')}`);
  return report.pass ? 0 : 1;
}

/** --server-engines 1,2 and --haproxy: the server suite's layouts (null: its default, one serve). */
export function parseServerLayouts(engines: string | undefined, haproxy: boolean, suites: readonly SuiteName[]): ServerLayoutOptions | null {
  if (engines === undefined && !haproxy) return null;
  const what = [engines !== undefined ? '--server-engines' : '', haproxy ? '--haproxy' : ''].filter(Boolean).join(' and ');
  if (!suites.includes('server')) throw new UsageError(`${what} go${what.includes(' and ') ? '' : 'es'} with the server suite (--suite server or all)`);
  if (engines === undefined) return { haproxy };
  const counts = engines.split(',').map((x) => x.trim());
  const bad = counts.find((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 16);
  if (bad !== undefined || counts.length === 0) throw new UsageError(`--server-engines must be engine counts 1..16, comma-separated (e.g. 1,2); got ${JSON.stringify(engines)}`);
  const list = counts.map(Number);
  if (new Set(list).size !== list.length) throw new UsageError(`--server-engines names a count twice: ${engines}`);
  return { engines: list, haproxy };
}

function floatOption(values: Record<string, unknown>, name: string, dflt: number, ok: (x: number) => boolean, what: string): number {
  const v = values[name];
  if (v === undefined) return dflt;
  const x = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name} must be ${what} (got ${String(v)})`);
  return x;
}

async function abCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    base: { type: 'string' }, head: { type: 'string' }, 'merge-base': { type: 'boolean' }, suite: { type: 'string' },
    rounds: { type: 'string' }, block: { type: 'string' }, 'per-round': { type: 'string' }, config: { type: 'string' }, alpha: { type: 'string' },
    threshold: { type: 'string' }, cache: { type: 'string' }, json: { type: 'string' }, summary: { type: 'string' },
  }, true);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (!values.base) throw new UsageError('--base REF is required (the revision to compare with, e.g. HEAD~1 or origin/main with --merge-base)');
  const rounds = intOption(values, 'rounds', 60);
  if (rounds < 3) throw new UsageError(`--rounds must be at least 3 (got ${rounds}): the paired test needs a spread`);
  const blockRounds = intOption(values, 'block', DEFAULT_BLOCK_ROUNDS);
  const blocks = Math.ceil(rounds / Math.max(1, blockRounds));
  if (blockRounds < 2 || blocks === 2) throw new UsageError(`--block must be at least 2 and split --rounds into 1 or ≥ 3 blocks (got --rounds ${rounds} --block ${blockRounds}: ${blocks} blocks)`);
  const perRound = values['per-round'] === undefined ? undefined : intOption(values, 'per-round', 1);
  if (perRound !== undefined && perRound < 1) throw new UsageError('--per-round must be at least 1');
  const report = await runAb({
    base: values.base,
    ...(values.head !== undefined ? { head: values.head } : {}),
    mergeBase: values['merge-base'] ?? false,
    suites: parseSuites(values.suite ?? 'mimi,lm,step'),
    config: parseConfig(values.config),
    rounds,
    blockRounds,
    ...(perRound !== undefined ? { perRound } : {}),
    alpha: floatOption(values, 'alpha', 0.01, (x) => x > 0 && x < 0.5, 'a number in (0, 0.5)'),
    thresholdPct: floatOption(values, 'threshold', 1, (x) => x >= 0, 'a percentage ≥ 0'),
    ...(values.cache !== undefined ? { cache: values.cache } : {}),
    log: (m) => console.error(`bench ab ${m}`),
  });
  const md = abMarkdown(report);
  console.log(md);
  if (values.summary) writeFileSync(values.summary, md);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  const regressed = report.figures.filter((f) => f.verdict === 'regressed');
  if (regressed.length) console.error(`bench ab: FAIL: regressed ${regressed.map((f) => `${f.id} ${(f.change * 100).toFixed(1)} %`).join(', ')}`);
  return report.pass ? 0 : 1;
}

export const command: Command = {
  summary: 'run the benchmark suites, gate results against a runner class baseline, or A/B a base revision against the head',
  help: HELP,
  async run(argv) {
    if (argv[0] === 'gate') return gateCommand(argv.slice(1));
    if (argv[0] === 'ab') return abCommand(argv.slice(1));
    return runCommand(argv);
  },
};
