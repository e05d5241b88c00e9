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
    expect(readFileSync(summary, 'utf8')).toBe(readFileSync(stepSummary, 'utf8'));

    const fail = await run(['bench', 'gate', '--results', resultsFile('slow.json', 6), '--baseline', cls], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/bench gate: FAIL\n {2}step\/mimi\.encode regressed by \+20\.\d %/);
    expect(readFileSync(stepSummary, 'utf8')).toMatch(/✅ pass[\s\S]*❌ fail/); // appended, not overwritten
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
    expect(r1.stderr).toMatch(/^solacelive bench: \[BENCH_ERR_RESULTS\] results .*nope\.json: no such file\n$/);
    expect(r2.stderr).toMatch(/\[BENCH_ERR_BASELINE\] baseline .*bad-class\.json is not valid JSON/);
    expect(r3.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_RUNNER_CLASS\] unknown runner class "plan9-mips"/);
    expect(r4.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_SUITE\] unknown suite "warp"/);
    expect(r5.stderr).toMatch(/\[BENCH_ERR_UNKNOWN_CONFIG\] unknown bench config "huge"/);
    expect(r6.code).toBe(2);
    expect(r6.stderr).toMatch(/--rounds must be at least 3/);
  });

  it('--help describes both forms', async () => {
    const [h, top] = await Promise.all([run(['bench', 'gate', '--help']), run(['--help'])]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/usage: solacelive bench \[--suite/);
    expect(h.stdout).toMatch(/solacelive bench gate --results R\.json/);
    expect(h.stdout).toMatch(/--update-baseline/);
    expect(top.stdout).toMatch(/^ {2}bench +run the benchmark suites/m);
  });
});

describe('solacelive bench (a real run)', () => {
  it('runs the codec suite, prints the table and writes a results file the gate reads', async () => {
    const out = join(dir, 'codec.json');
    const r = await run(['bench', '--suite', 'codec', '--rounds', '3', '--quick', '--json', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/codec: 6 tasks/);
    expect(r.stdout).toMatch(/^ {2}audio\.encode +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +memcpy +[\d.]+ +[\d.]+ +\d+$/m);
    // Opus per 80 ms frame: a share of the budget, against the compute calibration.
    expect(r.stdout).toMatch(/^ {2}opus\.encode +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+\/[\d.]+\/[\d.]+ +[\d.]+ +matmul +[\d.]+ +[\d.]+ +\d+$/m);
    const res = readResults(out);
    expect(res.suites[0]!.figures.map((f) => f.id)).toEqual(['codec/audio.encode', 'codec/audio.decode', 'codec/text.encode', 'codec/text.decode', 'codec/opus.encode', 'codec/opus.decode']);
    expect(res.suites[0]!.figures.every((f) => f.ratios.length === 3 && f.samples > 10)).toBe(true);
    expect(res.host.blas?.threads).toBe('1');
    expect(res.host.commit).toMatch(/^[0-9a-f]{40}/);
  }, 120_000);
});
