// Physical floors in the results: how a floor and a share are computed from one run's numbers,
// that results with them and results written before them (no floor, share or bandwidth) both
// read and gate, and that a malformed floor is refused naming the field.
import { describe, expect, it } from 'vitest';
import { BANDWIDTH_BYTES, buildBandwidth, buildFloor, buildShare, weightsFloorMs } from '../../bench/lib/floors.ts';
import { buildFigure } from '../../bench/lib/figures.ts';
import { gate, type RunnerClass, baselineFrom } from '../../bench/lib/gate.ts';
import { parseResults, RESULTS_FORMAT, type BenchResults, type FigureResult, type SuiteRun } from '../../bench/lib/results.ts';
import { mimiWeightBytes } from '../../bench/lib/weight-bytes.ts';
import { loadMimiConfig } from '../../src/models/mimi/index.ts';
import { join } from 'node:path';

const ROUNDS = 6;
const rounds = (ms: number) => Array.from({ length: ROUNDS }, (_, r) => Array.from({ length: 5 }, (_, i) => ms * (1 + 0.01 * Math.sin(1.3 * r + i))));
const calib = Array.from({ length: ROUNDS }, () => 1);

function results(suite: SuiteRun): BenchResults {
  return {
    format: RESULTS_FORMAT, createdAt: '2026-12-01T00:00:00.000Z', config: 'tiny',
    host: { os: 'Linux', arch: 'x64', cpuModel: 'test cpu', cores: 2, memoryGiB: 4, node: 'v24', version: '0.1.0', commit: 'abc', mlxDevice: 'cpu', metal: false, blas: null, runnerClass: 'test' },
    loadavg: { start: [1, 1, 1], end: [1, 1, 1] }, settings: { rounds: ROUNDS, quick: true, blasThreads: 1 }, suites: [suite], warnings: [],
  };
}

/** A step suite as written before floors: no floor, share or bandwidth field anywhere. */
function oldStyle(ms = 10): BenchResults {
  const figures = [buildFigure('step', { name: 'step.total', span: 'step.total', calibration: 'matmul', budget: true }, rounds(ms), calib)];
  return results({ suite: 'step', status: 'ok', describe: 'old', figures, calibration: [], notes: [], seconds: 1 });
}

/** The same suite as written now: a weights floor from the run's bandwidth. */
function newStyle(ms = 10): BenchResults {
  const bandwidth = buildBandwidth([9, 10], [11, 8, 12, 10, 9, 11]);
  const fig = buildFigure('step', { name: 'step.total', span: 'step.total', calibration: 'matmul', budget: true }, rounds(ms), calib);
  const figures: FigureResult[] = [{ ...fig, floor: buildFloor({ kind: 'weights', bytes: 24e6, describe: '24 MB' }, fig.p50, { bandwidth }) }];
  return results({ suite: 'step', status: 'ok', describe: 'new', figures, calibration: [], bandwidth, notes: [], seconds: 1 });
}

const cls = (baseline: BenchResults | null): RunnerClass => ({
  runnerClass: 'test', description: 'test', alpha: 0.01, defaultThresholdPct: 5, thresholds: {}, budget: { tiny: { 'step.total': 0.9 } },
  baselines: { tiny: baseline ? baselineFrom(baseline) : null },
});

describe('floors', () => {
  it('a weights floor is the bytes over the run\'s fastest bandwidth, and its ratio the figure\'s p50 over it', () => {
    const bw = buildBandwidth([9.5, 10], [8, 12.5, 11]);
    expect(bw.gbps).toBe(12.5);
    expect(bw.bytes).toBe(BANDWIDTH_BYTES);
    const f = buildFloor({ kind: 'weights', bytes: 25e6, describe: '25 MB' }, 20, { bandwidth: bw });
    expect(f.ms).toBeCloseTo(2, 12); // 25e6 B at 12.5e9 B/s
    expect(f.ms).toBe(weightsFloorMs(25e6, 12.5));
    expect(f.ratio).toBeCloseTo(10, 12);
    expect(f.p99).toBeUndefined();
    expect(() => buildFloor({ kind: 'weights', bytes: 1, describe: 'x' }, 1, {})).toThrow(/needs the run's bandwidth/);
  });

  it('a timed floor is the median of its samples, with their p99; a floor of nothing is refused', () => {
    const f = buildFloor({ kind: 'memcpy', bytes: 7697, sample: 'copy.packet', describe: 'copy' }, 3, { samples: [1, 5, 2, 4, 3] });
    expect(f).toMatchObject({ kind: 'memcpy', bytes: 7697, ms: 3, ratio: 1, p99: 5 });
    expect(() => buildFloor({ kind: 'direct', bytes: 0, sample: 'direct.up', describe: 'direct' }, 1, { samples: [] })).toThrow(/floor samples "direct\.up" missing/);
    expect(() => buildFloor({ kind: 'direct', bytes: 0, sample: 'd', describe: 'direct' }, 1, { samples: [0, 0] })).toThrow(/must be positive/);
  });

  it('a share is 100 × p50 over the other figure\'s p50, against its target', () => {
    const hooks = buildFigure('replay', { name: 'recorder.hooks', calibration: 'matmul', budget: false }, rounds(0.2), calib);
    const step = buildFigure('replay', { name: 'recorder.step', calibration: 'matmul', budget: false }, rounds(40), calib);
    const s = buildShare({ of: 'recorder.step', targetPct: 1 }, hooks, [hooks, step]);
    expect(s.pct).toBeCloseTo((100 * hooks.p50) / step.p50, 12);
    expect(s.ofMs).toBe(step.p50);
    expect(s.ok).toBe(true);
    expect(buildShare({ of: 'recorder.step', targetPct: 0.1 }, hooks, [hooks, step]).ok).toBe(false);
    expect(() => buildShare({ of: 'nope', targetPct: 1 }, hooks, [hooks])).toThrow(/no figure of/);
  });

  it('Mimi\'s weight bytes per call are its float32 tensors: the tiny config reads fewer than the real one, encode and decode both', () => {
    const configs = join(import.meta.dirname, '..', '..', 'configs');
    const tiny = mimiWeightBytes(loadMimiConfig(join(configs, 'mimi_tiny.json')));
    const real = mimiWeightBytes(loadMimiConfig(join(configs, 'mimi_202407.json')));
    for (const b of [tiny, real]) for (const x of [b.encode, b.decode]) expect(x % 4).toBe(0);
    expect(tiny.encode).toBeGreaterThan(0);
    expect(real.encode).toBeGreaterThan(10 * tiny.encode);
    expect(real.decode).toBeGreaterThan(10 * tiny.decode);
  });
});

describe('results with and without floors', () => {
  it('both read back, and the gate compares a new run against an old baseline and the other way round', () => {
    const old = parseResults(JSON.parse(JSON.stringify(oldStyle())), 'old.json');
    const now = parseResults(JSON.parse(JSON.stringify(newStyle())), 'new.json');
    expect(old.suites[0]!.figures[0]!.floor).toBeUndefined();
    expect(now.suites[0]!.figures[0]!.floor?.kind).toBe('weights');
    for (const [r, b] of [[now, old], [old, now], [now, now]] as const) {
      const g = gate(r, cls(b));
      expect(g.pass).toBe(true);
      expect(g.figures.map((f) => f.verdict)).toEqual(['unchanged']);
    }
    // And a slower new run still fails against the old baseline.
    expect(gate(newStyle(13), cls(oldStyle())).pass).toBe(false);
  });

  it('refuses a malformed floor, share or bandwidth, naming the field', () => {
    const withFig = (patch: Partial<FigureResult>) => {
      const r = newStyle();
      return JSON.parse(JSON.stringify({ ...r, suites: [{ ...r.suites[0]!, figures: [{ ...r.suites[0]!.figures[0]!, ...patch }] }] })) as unknown;
    };
    expect(() => parseResults(withFig({ floor: { kind: 'guess', describe: '', bytes: 1, ms: 1, ratio: 1 } as never }), 'x.json')).toThrow(/figures\[0\] \(step\/step\.total\): "floor" "kind" must be one of weights, memcpy, direct/);
    expect(() => parseResults(withFig({ floor: { kind: 'weights', describe: '', bytes: 1, ms: 0, ratio: 1 } }), 'x.json')).toThrow(/"floor" "ms" must be a positive number/);
    expect(() => parseResults(withFig({ share: { of: 'x', ofMs: 1, pct: 'lots', targetPct: 1, ok: true } as never }), 'x.json')).toThrow(/"share" "pct" must be a finite number/);
    const r = newStyle();
    const badBw = JSON.parse(JSON.stringify({ ...r, suites: [{ ...r.suites[0]!, bandwidth: { gbps: 0, bytes: 1 } }] })) as unknown;
    expect(() => parseResults(badBw, 'x.json')).toThrow(/suites\[0\] \(step\): "bandwidth" must hold a positive "gbps"/);
  });
});
