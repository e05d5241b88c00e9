// The gate on results files built from synthetic rounds (buildFigure, as the bench child
// builds them): verdicts, budget rules, missing figures and baselines, bad files, the
// Markdown summary and --update-baseline.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchError } from '../../bench/lib/errors.ts';
import { buildFigure } from '../../bench/lib/figures.ts';
import { detectRunnerClass, gate, gateFailures, gateMarkdown, parseRunnerClass, readBaselineFile, readRunnerClass, resultsAsBaseline, updateBaseline, type RunnerClass } from '../../bench/lib/gate.ts';
import { parseResults, readResults, RESULTS_FORMAT, type BenchResults, type SuiteRun } from '../../bench/lib/results.ts';

const ROUNDS = 10;
/** Round samples around `ms` with a small deterministic wobble (CV ≈ wobble). */
function rounds(ms: number, wobble = 0.01, shift = 0): number[][] {
  return Array.from({ length: ROUNDS }, (_, r) => Array.from({ length: 5 }, (_, i) => ms * (1 + wobble * Math.sin(1.7 * r + 0.9 * i + shift))));
}
const calib = Array.from({ length: ROUNDS }, (_, r) => 1 + 0.002 * Math.cos(r));

function results(spans: Record<string, number>, extra: Partial<BenchResults> = {}, shift = 0): BenchResults {
  const figures = Object.entries(spans).map(([name, ms]) => buildFigure('step', { name, span: name as 'step.total', calibration: 'matmul', budget: true }, rounds(ms, 0.01, shift), calib));
  const suite: SuiteRun = { suite: 'step', status: 'ok', describe: 'synthetic', figures, calibration: [], notes: [], seconds: 1 };
  return {
    format: RESULTS_FORMAT, createdAt: '2026-11-21T00:00:00.000Z', config: 'tiny',
    host: { os: 'Linux', arch: 'x64', cpuModel: 'test cpu', cores: 2, memoryGiB: 4, node: 'v24', version: '0.1.0', commit: 'abc', mlxDevice: 'cpu', metal: false, blas: null, runnerClass: 'test' },
    loadavg: { start: [1, 1, 1], end: [1, 1, 1] }, settings: { rounds: ROUNDS, quick: false, blasThreads: 1 }, suites: [suite], warnings: [], ...extra,
  };
}

function cls(over: Partial<RunnerClass> = {}): RunnerClass {
  return { runnerClass: 'test', description: 'test class', alpha: 0.01, defaultThresholdPct: 5, thresholds: {}, budget: { tiny: { 'step.total': 0.9 } }, baselines: { tiny: null }, ...over };
}

const base = results({ 'mimi.encode': 10, 'step.total': 40 });
const withBaseline = (b: BenchResults, over: Partial<RunnerClass> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  const path = join(dir, 'c.json');
  return updateBaseline(path, cls(over), b);
};

describe('gate', () => {
  it('passes a run against its own baseline, every figure unchanged', () => {
    const r = gate(results({ 'mimi.encode': 10, 'step.total': 40 }, {}, 0.5), withBaseline(base));
    expect(r.pass).toBe(true);
    expect(r.figures.map((f) => f.verdict)).toEqual(['unchanged', 'unchanged']);
    expect(r.budget).toEqual([expect.objectContaining({ span: 'step.total', ok: true })]);
  });

  it('fails on a slower span, naming it, and reports a faster one as improved', () => {
    const r = gate(results({ 'mimi.encode': 13, 'step.total': 34 }, {}, 0.5), withBaseline(base));
    expect(r.pass).toBe(false);
    expect(r.figures.find((f) => f.id === 'step/mimi.encode')?.verdict).toBe('regressed');
    expect(r.figures.find((f) => f.id === 'step/step.total')?.verdict).toBe('improved');
    const failures = gateFailures(r);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^step\/mimi\.encode regressed by \+(29\.[5-9]|30\.[0-4]) %/);
    const md = gateMarkdown(r, base);
    expect(md).toMatch(/Bench gate: ❌ fail/);
    expect(md).toMatch(/\| `step\/mimi\.encode` \| 🔴 regressed \| \+(29\.[5-9]|30\.[0-4]) %/);
    expect(md).toMatch(/\| `step\/step\.total` \| 🟢 improved \| -1[45]\.\d %/);
  });

  it('uses the per-figure threshold over the default', () => {
    const r = gate(results({ 'mimi.encode': 13, 'step.total': 40 }, {}, 0.5), withBaseline(base, { thresholds: { 'step/mimi.encode': 40 } }));
    expect(r.figures.find((f) => f.id === 'step/mimi.encode')?.verdict).toBe('unchanged');
    expect(r.pass).toBe(true);
  });

  it('fails a budget rule: step.total p99 over the fraction of 80 ms', () => {
    const r = gate(results({ 'mimi.encode': 10, 'step.total': 79 }), withBaseline(results({ 'mimi.encode': 10, 'step.total': 79 })));
    expect(r.figures.every((f) => f.verdict === 'unchanged')).toBe(true);
    expect(r.pass).toBe(false);
    expect(gateFailures(r)[0]).toMatch(/^step\.total p99 7\d\.\d\d ms is 0\.9\d\d of the 80 ms budget, over the limit 0\.9/);
  });

  it('says what a budget rule can claim: step.total is the engine\'s share (necessary, not sufficient), e2e is the budget itself', () => {
    const engine = gate(base, withBaseline(base));
    expect(engine.budget).toEqual([expect.objectContaining({ span: 'step.total', scope: 'engine', ok: true })]);
    const md = gateMarkdown(engine, base);
    expect(md).toMatch(/\| `step\.total` p99 \| engine only \(necessary, not sufficient\) \|/);
    expect(md).toMatch(/Engine rules check the model's share of the 80 ms end-to-end budget/);
    const slow = results({ 'step.total': 79 });
    expect(gateFailures(gate(slow, withBaseline(slow)))[0]).toMatch(/\(model work alone: no server on this machine can keep the end-to-end budget\)$/);
    // A suite with an end-to-end figure: the e2e rule reads it, and fails when frames wait, whatever step.total says.
    const queued = results({ 'step.total': 30, e2e: 120 });
    const r = gate(queued, withBaseline(queued, { budget: { tiny: { 'step.total': 0.9, e2e: 1 } } }));
    expect(r.budget).toEqual([
      expect.objectContaining({ span: 'step.total', scope: 'engine', ok: true }),
      expect.objectContaining({ span: 'e2e', scope: 'end-to-end', ok: false }),
    ]);
    expect(r.pass).toBe(false);
    expect(gateMarkdown(r, queued)).toMatch(/\| `e2e` p99 \| end to end \(what the budget counts\) \| 1[12]\d\.\d\d ms \|/);
  });

  it('fails when a baseline figure is missing from the results, but not when its suite was skipped', () => {
    const only = results({ 'step.total': 40 });
    expect(gate(only, withBaseline(base)).figures.find((f) => f.id === 'step/mimi.encode')?.verdict).toBe('missing');
    expect(gate(only, withBaseline(base)).pass).toBe(false);
    const skipped = { ...only, suites: [{ ...only.suites[0]!, status: 'skipped' as const, reason: 'no weights', figures: [] }] };
    const r = gate(skipped, withBaseline(base));
    expect(r.figures.map((f) => f.verdict)).toEqual(['skipped', 'skipped']);
    expect(r.pass).toBe(true);
  });

  it('gates only the suites that ran: baseline figures of other suites are "not run", not missing', () => {
    const codec = buildFigure('codec', { name: 'audio.encode', calibration: 'memcpy', budget: false }, rounds(0.01), calib);
    const both: BenchResults = { ...base, suites: [...base.suites, { suite: 'codec', status: 'ok', describe: 'synthetic', figures: [codec], calibration: [], notes: [], seconds: 1 }] };
    const stepOnly = results({ 'mimi.encode': 10, 'step.total': 40 }, {}, 0.5);
    const r = gate(stepOnly, withBaseline(both));
    expect(r.figures.map((f) => [f.id, f.verdict])).toEqual([['step/mimi.encode', 'unchanged'], ['step/step.total', 'unchanged'], ['codec/audio.encode', 'not-run']]);
    expect(r.pass).toBe(true);
    expect(gateFailures(r)).toEqual([]);
    const md = gateMarkdown(r, stepOnly);
    expect(md).toMatch(/2 unchanged, 0 inconclusive, 1 not run\./);
    expect(md).toMatch(/^Not run: codec \(1 baseline figures not compared; gated: step\)\.$/m);
    expect(md).not.toMatch(/`codec\/audio\.encode`/);
    // A codec-only run: the budget rule on step.total is not checked, and the summary says why.
    const codecOnly: BenchResults = { ...both, suites: [both.suites[1]!] };
    const c = gate(codecOnly, withBaseline(both));
    expect(c.pass).toBe(true);
    expect(c.figures.filter((f) => f.verdict === 'not-run').map((f) => f.id)).toEqual(['step/mimi.encode', 'step/step.total']);
    expect(c.warnings).toContain('budget rule for step.total not checked: the step suite was not run');
  });

  it('takes an earlier run\'s results as the baseline, with the runner class\'s thresholds, and names both', () => {
    const next = results({ 'mimi.encode': 13, 'step.total': 40 }, {}, 0.5);
    const { cls: c, opts } = resultsAsBaseline(base, 'runs/r0.json', cls({ thresholds: { 'step/step.total': 7 } }), 'configs/bench/test.json', next);
    expect(c.thresholds).toEqual({ 'step/step.total': 7 });
    const r = gate(next, c, opts);
    expect(r.figures.map((f) => f.verdict)).toEqual(['regressed', 'unchanged']);
    expect(r.figures[1]!.thresholdPct).toBe(7);
    expect(gateMarkdown(r, next)).toMatch(/^Baseline: the run in runs\/r0\.json, measured 2026-11-21T00:00:00\.000Z, commit abc, test cpu\. Thresholds, alpha and budget rules: runner class test \(configs\/bench\/test\.json\)\.$/m);
    expect(gate(results({ 'mimi.encode': 10, 'step.total': 40 }, {}, 0.5), c, opts).pass).toBe(true);
    // Another CPU: compared, with a warning; another config: refused.
    const other = { ...next, host: { ...next.host, cpuModel: 'other cpu' } };
    const o = resultsAsBaseline(base, 'r0.json', cls(), 'c.json', other);
    expect(gate(other, o.cls, o.opts).warnings[0]).toMatch(/^the baseline was measured on test cpu and these results on other cpu/);
    expect(gate(next, c, opts).warnings.join('\n')).not.toMatch(/measured on/);
    expect(() => resultsAsBaseline({ ...base, config: 'real' }, 'r0.json', cls(), 'c.json', next)).toThrow(expect.objectContaining({ code: 'BENCH_ERR_CONFIG_MISMATCH', message: expect.stringMatching(/r0\.json is a config "real" run and results are config "tiny"/) }));
  });

  it('reads --baseline FILE as a results file or a runner-class file by its contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    writeFileSync(join(dir, 'r0.json'), JSON.stringify(base));
    writeFileSync(join(dir, 'c.json'), JSON.stringify(cls()));
    expect(readBaselineFile(join(dir, 'r0.json'))).toMatchObject({ kind: 'results', results: { config: 'tiny' } });
    expect(readBaselineFile(join(dir, 'c.json'))).toMatchObject({ kind: 'class', cls: { runnerClass: 'test' } });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...base, suites: 'x' }));
    expect(() => readBaselineFile(join(dir, 'bad.json'))).toThrow(/results .*bad\.json: "suites" missing/);
  });

  it('without a baseline: a typed error saying how to write one, or budget rules only when allowed', () => {
    expect(() => gate(base, cls())).toThrow(BenchError);
    expect(() => gate(base, cls())).toThrow(/no baseline for config "tiny" yet.*--update-baseline/);
    const r = gate(base, cls(), { allowMissingBaseline: true });
    expect(r.pass).toBe(true);
    expect(r.figures.every((f) => f.verdict === 'new')).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/no baseline/);
    expect(gate(results({ 'step.total': 79 }), cls(), { allowMissingBaseline: true }).pass).toBe(false);
  });

  it('warns when a figure\'s CV across rounds is above its threshold', () => {
    const noisy: BenchResults = { ...base, suites: [{ ...base.suites[0]!, figures: [buildFigure('step', { name: 'step.total', span: 'step.total', calibration: 'matmul', budget: true }, Array.from({ length: ROUNDS }, (_, r) => [40 * (1 + 0.3 * Math.sin(r))]), calib)] }] };
    const r = gate(noisy, cls(), { allowMissingBaseline: true });
    expect(r.warnings.join('\n')).toMatch(/step\/step\.total: CV \d+\.\d % across rounds is above its 5 % threshold/);
  });

  it('--update-baseline keeps thresholds and budget, replaces only that config\'s baseline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const path = join(dir, 'c.json');
    const c = cls({ thresholds: { 'step/step.total': 7 }, baselines: { tiny: null, real: null } });
    writeFileSync(path, JSON.stringify(c));
    updateBaseline(path, c, base);
    const back = readRunnerClass(path).cls;
    expect(back.thresholds).toEqual({ 'step/step.total': 7 });
    expect(back.budget).toEqual(c.budget);
    expect(back.baselines.real).toBeNull();
    expect(Object.keys(back.baselines.tiny!.figures)).toEqual(['step/mimi.encode', 'step/step.total']);
    expect(gate(base, back).pass).toBe(true);
  });
});

describe('--update-baseline from a run of fewer suites', () => {
  it('is refused, naming the suites whose baseline figures it would drop, and leaves the file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const path = join(dir, 'c.json');
    const codec = buildFigure('codec', { name: 'audio.encode', calibration: 'memcpy', budget: false }, rounds(0.01), calib);
    const both: BenchResults = { ...base, suites: [...base.suites, { suite: 'codec', status: 'ok', describe: 'synthetic', figures: [codec], calibration: [], notes: [], seconds: 1 }] };
    writeFileSync(path, JSON.stringify(cls()));
    const full = updateBaseline(path, cls(), both);
    const before = readFileSync(path, 'utf8');
    expect(() => updateBaseline(path, full, base)).toThrow(expect.objectContaining({ code: 'BENCH_ERR_RESULTS', message: expect.stringMatching(/the results have no codec suite, whose figures the baseline of config "tiny" in .*c\.json holds.*--suite step,codec/) }));
    expect(readFileSync(path, 'utf8')).toBe(before);
    // The same suites again: written.
    expect(Object.keys(updateBaseline(path, full, both).baselines.tiny!.figures)).toHaveLength(3);
  });
});

describe('bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-bad-'));
  it('names a missing or corrupt results file and the bad field', () => {
    expect(() => readResults(join(dir, 'none.json'))).toThrow(/results .*none\.json: no such file/);
    writeFileSync(join(dir, 'torn.json'), '{"format": "solacelive-bench/1", "con');
    expect(() => readResults(join(dir, 'torn.json'))).toThrow(/torn\.json is not valid JSON/);
    expect(() => parseResults({ format: 'other' }, 'x.json')).toThrow(/"format" is "other"/);
    const broken = JSON.parse(JSON.stringify(base)) as { suites: { figures: { ratios: unknown }[] }[] };
    broken.suites[0]!.figures[0]!.ratios = [1];
    expect(() => parseResults(broken, 'x.json')).toThrow(/suites\[0\]\.figures\[0\] \(step\/mimi\.encode\).*"ratios" must be an array of at least 2 positive numbers/);
    try {
      readResults(join(dir, 'none.json'));
    } catch (err) {
      expect((err as BenchError).code).toBe('BENCH_ERR_RESULTS');
    }
  });

  it('names a corrupt baseline field, and an unknown runner class with the known ones', () => {
    expect(() => parseRunnerClass({ ...cls(), alpha: 2 }, 'c.json')).toThrow(/baseline c\.json: "alpha" must be a number in \(0, 0\.5\)/);
    expect(() => parseRunnerClass({ ...cls(), budget: { tiny: { 'step.total': -1 } } }, 'c.json')).toThrow(/budget\["tiny"\]\["step\.total"\]/);
    expect(() => parseRunnerClass({ ...cls(), budget: { tiny: { 'step.totl': 1 } } }, 'c.json')).toThrow(/budget\["tiny"\]\["step\.totl"\] is not a span name/);
    expect(() => parseRunnerClass({ ...cls(), baselines: { tiny: { figures: { 'step/x': { ratios: 'no' } } } } }, 'c.json')).toThrow(/baselines\["tiny"\]\.figures\["step\/x"\]/);
    expect(() => readRunnerClass('no-such-class')).toThrow(/unknown runner class "no-such-class".*known: .*linux-x64/);
  });

  it('refuses nothing that is valid: every shipped runner class parses', () => {
    for (const name of ['linux-x64', 'macos-arm64-hosted', 'macos-arm64-self-hosted']) {
      const { cls: c } = readRunnerClass(name);
      expect(c.runnerClass).toBe(name);
      expect(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'configs', 'bench', `${name}.json`), 'utf8')).runnerClass).toBe(name);
    }
  });

  it('detects the runner class from platform, arch and GitHub\'s RUNNER_ENVIRONMENT', () => {
    expect(detectRunnerClass({}, 'linux', 'x64')).toBe('linux-x64');
    expect(detectRunnerClass({ RUNNER_ENVIRONMENT: 'github-hosted' }, 'darwin', 'arm64')).toBe('macos-arm64-hosted');
    expect(detectRunnerClass({ RUNNER_ENVIRONMENT: 'self-hosted' }, 'darwin', 'arm64')).toBe('macos-arm64-self-hosted');
    expect(detectRunnerClass({}, 'darwin', 'arm64')).toBe('macos-arm64-self-hosted');
  });
});
