// `solacelive bench` and `bench gate` as a user runs them: exit codes, the summary file and
// $GITHUB_STEP_SUMMARY, typed errors for bad input, and a real (short) codec run end to end.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildFigure } from '../../bench/lib/figures.ts';
import { readResults, RESULTS_FORMAT, type BenchResults } from '../../bench/lib/results.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'solacelive.mjs');
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
function resultsFile(name: string, encodeMs: number): string {
  const rounds = (ms: number) => Array.from({ length: 8 }, (_, r) => [ms * (1 + 0.01 * Math.sin(r * 2.1)), ms * (1 + 0.01 * Math.cos(r * 1.3))]);
  const calib = Array.from({ length: 8 }, () => 1);
  const figures = [
    buildFigure('step', { name: 'mimi.encode', span: 'mimi.encode', calibration: 'matmul', budget: true }, rounds(encodeMs), calib),
    buildFigure('step', { name: 'step.total', span: 'step.total', calibration: 'matmul', budget: true }, rounds(20), calib),
  ];
  const r: BenchResults = {
    format: RESULTS_FORMAT, createdAt: '2026-11-21T00:00:00.000Z', config: 'tiny',
    host: { os: 'Linux', arch: 'x64', cpuModel: 'test cpu', cores: 2, memoryGiB: 4, node: 'v24', version: '0.1.0', commit: 'abc', mlxDevice: 'cpu', metal: false, blas: null, runnerClass: 'test' },
    loadavg: { start: [1, 1, 1], end: [1, 1, 1] }, settings: { rounds: 8, quick: false, blasThreads: 1 },
    suites: [{ suite: 'step', status: 'ok', describe: 'synthetic', figures, calibration: [], notes: [], seconds: 1 }], warnings: [],
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(r));
  return path;
}
function classFile(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ runnerClass: 'cli-test', description: 'test', alpha: 0.01, defaultThresholdPct: 10, thresholds: {}, budget: { tiny: { 'step.total': 0.5 } }, baselines: { tiny: null } }));
  return path;
}

describe('solacelive bench gate', () => {
  it('writes a baseline, passes against it, and fails with exit 1 naming the slower span', async () => {
    const cls = classFile('cls.json');
    const base = resultsFile('base.json', 5);
    const missing = await run(['bench', 'gate', '--results', base, '--baseline', cls]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[BENCH_ERR_NO_BASELINE\] runner class cli-test has no baseline for config "tiny" yet/);

    const up = await run(['bench', 'gate', '--results', base, '--baseline', cls, '--update-baseline']);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/baseline for config tiny of runner class cli-test written/);

    const summary = join(dir, 'summary.md');
    const stepSummary = join(dir, 'step-summary.md');
    const pass = await run(['bench', 'gate', '--results', resultsFile('same.json', 5), '--baseline', cls, '--summary', summary], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/## Bench gate: ✅ pass \(cli-test, config tiny\)/);
    expect(pass.stdout).toContain(`Baseline, thresholds, alpha and budget rules: runner class cli-test (${cls}); baseline measured 2026-11-21T00:00:00.000Z, commit abc, test cpu.`);
    expect(readFileSync(summary, 'utf8')).toBe(readFileSync(stepSummary, 'utf8'));

    const fail = await run(['bench', 'gate', '--results', resultsFile('slow.json', 6), '--baseline', cls], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/bench gate: FAIL\n {2}step\/mimi\.encode regressed by \+20\.\d %/);
    expect(readFileSync(stepSummary, 'utf8')).toMatch(/✅ pass[\s\S]*❌ fail/); // appended, not overwritten
  });

  it('gates this run against an earlier run\'s results file (--baseline R0.json), naming where the thresholds come from', async () => {
    const base = resultsFile('run0.json', 5);
    const cls = classFile('thresholds.json');
    const [same, slow, upd, both] = await Promise.all([
      run(['bench', 'gate', '--results', resultsFile('run1.json', 5), '--baseline', base, '--runner-class', cls]),
      run(['bench', 'gate', '--results', resultsFile('run2.json', 6), '--baseline', base, '--runner-class', cls]),
      run(['bench', 'gate', '--results', resultsFile('run3.json', 5), '--baseline', base, '--update-baseline']),
      run(['bench', 'gate', '--results', resultsFile('run4.json', 5), '--baseline', cls, '--runner-class', 'linux-x64']),
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain(`Baseline: the run in ${base}, measured 2026-11-21T00:00:00.000Z, commit abc, test cpu. Thresholds, alpha and budget rules: runner class cli-test (${cls}).`);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/step\/mimi\.encode regressed by \+20\.\d %/);
    expect(upd.code).toBe(2);
    expect(upd.stderr).toMatch(/--update-baseline writes into a runner-class file, and --baseline .*run0\.json is a results file/);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --baseline CLASS-FILE or --runner-class NAME, not both/);
  });

  it('reports bad input with a typed error and no stack trace', async () => {
    writeFileSync(join(dir, 'bad-class.json'), '{"runnerClass": "x", "alpha": 0.01');
    // Independent processes: run them at once.
    const [r1, r2, r3, r4, r5, r6] = await Promise.all([
      run(['bench', 'gate', '--results', join(dir, 'nope.json'), '--baseline', classFile('c2.json')]),
      run(['bench', 'gate', '--results', resultsFile('r.json', 5), '--baseline', join(dir, 'bad-class.json')]),
      run(['bench', 'gate', '--results', resultsFile('r3.json', 5), '--runner-class', 'plan9-mips']),
      run(['bench', '--suite', 'step,warp']),
      run(['bench', '--config', 'huge']),
      run(['bench', '--rounds', '2']),
    ]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/^solacelive bench: \[BENCH_ERR_RESULTS\] results .*nope\.json: no such file\. Make it with `npm run bench` \(every suite; writes bench\/results\/latest\.json, which `npm run bench:gate` reads\), or run `solacelive bench --suite NAME --json FILE` and gate FILE with `--results FILE`\n$/);
    expect(r2.stderr).toMatch(/\[BENCH_ERR_BASELINE\] baseline .*bad-class\.json is not valid JSON/);
    expect(r3.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_RUNNER_CLASS\] unknown runner class "plan9-mips"/);
    expect(r4.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_SUITE\] unknown suite "warp"/);
    expect(r5.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_CONFIG\] unknown bench config "huge"/);
    expect(r6.code).toBe(2);
    expect(r6.stderr).toMatch(/--rounds must be at least 3/);
  });

  it('--help describes the three forms', async () => {
    const [h, top] = await Promise.all([run(['bench', 'gate', '--help']), run(['--help'])]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/usage: solacelive bench \[--suite/);
    expect(h.stdout).toMatch(/solacelive bench gate --results R\.json/);
    expect(h.stdout).toMatch(/--update-baseline/);
    expect(h.stdout).toMatch(/solacelive bench ab --base REF \[--merge-base\] \[--head REF\|worktree\]/);
    expect(h.stdout).toMatch(/paired t-test on ln\(head\/base\)/);
    expect(top.stdout).toMatch(/^ {2}bench +run the benchmark suites/m);
  });
});

describe('solacelive bench (a real run)', () => {
  it('runs the codec suite, prints the table and writes a results file the gate reads', async () => {
    const out = join(dir, 'codec.json');
    const r = await run(['bench', '--suite', 'codec', '--rounds', '3', '--quick', '--json', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/codec: 6 tasks and 3 copy floors/);
    expect(r.stdout).toContain(`gate them: solacelive bench gate --results ${out} (gates the suites of this run only)`);
    expect(r.stdout).toMatch(/^ {2}audio\.encode +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +memcpy +[\d.]+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+×$/m);
    // Opus per 80 ms frame: a share of the budget, against the compute calibration.
    expect(r.stdout).toMatch(/^ {2}opus\.encode +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+\/[\d.]+\/[\d.]+ +[\d.]+ +matmul +[\d.]+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+×$/m);
    // Every column head says what it holds: the ratio is to the named calibration kernel, the last two the floor.
    expect(r.stdout).toMatch(/^ {2}figure +p50 ms +p95 ms +p99 ms +of 80 ms p50\/p95\/p99 +ratio +kernel +cv % +rme % +samples +floor ms +p50\/floor$/m);
    // Each floor says what it is, and p50 over it is the table's last column.
    expect(r.stdout).toMatch(/^ {2}floor audio\.encode: memcpy, new buffer \+ copy of 7697 B \(copy\.packet\) = [\d.]+ ms; p50 [\d.]+ ms is [\d.]+× the floor \(p99 [\d.]+ against the floor's [\d.]+ ms\)$/m);
    const res = readResults(out);
    expect(res.suites[0]!.figures.map((f) => f.id)).toEqual(['codec/audio.encode', 'codec/audio.decode', 'codec/text.encode', 'codec/text.decode', 'codec/opus.encode', 'codec/opus.decode']);
    expect(res.suites[0]!.figures.every((f) => f.ratios.length === 3 && f.samples > 10)).toBe(true);
    expect(res.host.blas?.threads).toBe('1');
    expect(res.host.commit).toMatch(/^[0-9a-f]{40}/);

    // Gating that one-suite run: the shipped class's baseline has every suite; with its codec
    // figures taken from this run (so they compare unchanged on any machine), the others are "not run".
    const shipped = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'configs', 'bench', 'linux-x64.json'), 'utf8')) as { baselines: { tiny: { figures: Record<string, unknown> } } };
    const own = Object.fromEntries(res.suites[0]!.figures.map((f) => [f.id, { ratios: f.ratios, ratio: f.ratio, p50: f.p50, p99: f.p99, cvPct: f.cvPct }]));
    const cls = join(dir, 'one-suite-class.json');
    writeFileSync(cls, JSON.stringify({ ...shipped, baselines: { tiny: { ...shipped.baselines.tiny, figures: { ...shipped.baselines.tiny.figures, ...own } } } }));
    const others = Object.keys(shipped.baselines.tiny.figures).filter((id) => !id.startsWith('codec/')).length;
    const torn = join(dir, 'codec-torn.json');
    writeFileSync(torn, JSON.stringify({ ...res, suites: [{ ...res.suites[0]!, figures: res.suites[0]!.figures.slice(1) }] }));
    const [g, self, t] = await Promise.all([
      run(['bench', 'gate', '--results', out, '--baseline', cls]),
      run(['bench', 'gate', '--results', out, '--baseline', out]),
      run(['bench', 'gate', '--results', torn, '--baseline', cls]),
    ]);
    expect(g.code, g.stdout + g.stderr).toBe(0);
    expect(g.stdout).toMatch(new RegExp(`^Not run: mimi, lm, step, replay \\(${others} baseline figures not compared; gated: codec\\)\\.$`, 'm'));
    expect(g.stdout).toContain('budget rule for step.total not checked: the step suite was not run');
    expect(self.code, self.stdout + self.stderr).toBe(0);
    expect(self.stdout).toContain(`0 regressed, 0 improved, ${res.suites[0]!.figures.length} unchanged`);
    // A figure missing from a suite that did run still fails.
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('codec/audio.encode is in the baseline but not in the results');
  }, 120_000);
});
