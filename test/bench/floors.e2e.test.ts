// Every suite, really run (tiny model, real MLX, real sockets, real tmux), short: each figure
// that has a physical floor reports it, and the floor and its ratio are the run's own numbers
// (weights: bytes ÷ the suite's measured bandwidth; timed floors: positive, with their p99;
// ratio = p50 ÷ floor). The figures the retired scripts printed are there: ipc, the recorder's
// share of a step, the proxy's latency against direct, step.total with a dashboard attached.
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/lib/runner.ts';
import { parseResults, type BenchResults, type SuiteRun } from '../../bench/lib/results.ts';
import type { SuiteName } from '../../bench/lib/suite-api.ts';

const run = async (signal: AbortSignal, suites: SuiteName[], perRound?: number): Promise<BenchResults> => {
  const r = await runBench({ suites, config: 'tiny', rounds: 3, quick: true, signal, ...(perRound ? { perRound } : {}) });
  // What is written is what reads back.
  return parseResults(JSON.parse(JSON.stringify(r)), 'run.json');
};
const suite = (r: BenchResults, name: string): SuiteRun => r.suites.find((s) => s.suite === name)!;

/** The floor of every figure that has one is consistent with the run's own numbers. */
function expectConsistentFloors(s: SuiteRun, withFloor: readonly string[]): void {
  expect(s.status, s.reason).toBe('ok');
  expect(s.figures.filter((f) => f.floor).map((f) => f.name)).toEqual(withFloor);
  for (const f of s.figures) {
    if (!f.floor) continue;
    expect(f.floor.ms, f.id).toBeGreaterThan(0);
    expect(f.floor.ratio, f.id).toBeCloseTo(f.p50 / f.floor.ms, 9);
    if (f.floor.kind === 'weights') {
      expect(f.floor.bytes, f.id).toBeGreaterThan(0);
      expect(Math.min(...s.bandwidth!.rounds)).toBeGreaterThan(0);
      expect(s.bandwidth!.gbps).toBeGreaterThanOrEqual(Math.max(...s.bandwidth!.rounds));
      expect(s.bandwidth!.rounds).toHaveLength(3);
      expect(f.floor.ms, f.id).toBeCloseTo((f.floor.bytes / (s.bandwidth!.gbps * 1e9)) * 1000, 9);
    } else {
      expect(f.floor.p99, f.id).toBeGreaterThanOrEqual(f.floor.ms);
    }
  }
}

describe('physical floors, measured in the same run', () => {
  it('models: mimi, lm and step over their weight traffic; step.total reads what its four spans read', async ({ signal }) => {
    const r = await run(signal, ['mimi', 'lm', 'step'], 3);
    expectConsistentFloors(suite(r, 'mimi'), ['mimi.encode', 'mimi.decode']);
    expectConsistentFloors(suite(r, 'lm'), ['lm.temporal', 'lm.depformer']);
    const step = suite(r, 'step');
    expectConsistentFloors(step, ['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'step.total']);
    const bytes = (s: SuiteRun, name: string) => s.figures.find((f) => f.name === name)!.floor!.bytes;
    expect(bytes(step, 'step.total')).toBe(['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'].reduce((a, n) => a + bytes(step, n), 0));
    // The same model in two suites reads the same bytes.
    expect(bytes(step, 'lm.temporal')).toBe(bytes(suite(r, 'lm'), 'lm.temporal'));
    expect(bytes(step, 'mimi.decode')).toBe(bytes(suite(r, 'mimi'), 'mimi.decode'));
    expect(suite(r, 'mimi').notes.join('\n')).toMatch(/^RSS [\d.]+ MB at the first round, [\d.]+ MB after 9 timed frames \([+-][\d.]+ MB\)$/m);
  }, 240_000);

  it('codec against a copy of the same bytes; replay with ipc and the recorder\'s share of a step; proxy against direct', async ({ signal }) => {
    const r = await run(signal, ['codec', 'replay', 'proxy']);
    const codec = suite(r, 'codec');
    expectConsistentFloors(codec, ['audio.encode', 'audio.decode', 'text.encode', 'text.decode', 'opus.encode', 'opus.decode']);
    const floorBytes = Object.fromEntries(codec.figures.map((f) => [f.name, f.floor!.bytes]));
    expect(floorBytes['audio.encode']).toBe(floorBytes['audio.decode']);
    expect(floorBytes['text.encode']).toBeLessThan(floorBytes['audio.encode']!);
    expect(floorBytes['opus.encode']).toBe(1920 * 4);

    const replay = suite(r, 'replay');
    expectConsistentFloors(replay, ['ms-per-step', 'ms-per-step.pipelined']);
    expect(replay.figures.map((f) => f.name)).toEqual(['ms-per-step', 'ms-per-step.pipelined', 'ipc', 'recorder.cost', 'recorder.cpu', 'recorder.cpu.plain', 'recorder.step']);
    const fig = (name: string) => replay.figures.find((f) => f.name === name)!;
    // One replay of the fixture per round: ipc has a sample per replayed step.
    expect(fig('ipc').samples).toBeGreaterThanOrEqual(3 * 20);
    const share = fig('recorder.cost').share!;
    expect(share.of).toBe('recorder.step');
    expect(share.ofMs).toBe(fig('recorder.step').p50);
    expect(share.pct).toBeCloseTo((100 * fig('recorder.cost').p50) / fig('recorder.step').p50, 9);
    expect(share.targetPct).toBe(1);
    expect(share.ok).toBe(share.pct <= 1);
    // The whole-cost check: a sample per round, and the difference in a note.
    expect(fig('recorder.cpu').samples).toBe(3);
    expect(replay.notes.join('\n')).toMatch(/^recorder\.cpu − recorder\.cpu\.plain \(the recorder's whole cost on the loop\): median -?[\d.]+ ms per step over 3 rounds/m);

    // In the bench process and as `solacelive proxy`'s own process, both against the same direct trials.
    expectConsistentFloors(suite(r, 'proxy'), ['up', 'down', 'process.up', 'process.down', 'hop.up', 'hop.down', 'hop.process.up', 'hop.process.down']);
    expect(suite(r, 'proxy').figures.every((f) => f.floor!.kind === 'direct' && f.samples > 3 * 10)).toBe(true);
  }, 240_000);

  it('dash: the server\'s step.total with a dashboard attached against without, or skipped saying tmux is missing', async ({ signal }) => {
    const dash = suite(await run(signal, ['dash']), 'dash');
    if (dash.status === 'skipped') {
      expect(dash.reason).toMatch(/tmux is not installed/);
      return;
    }
    expectConsistentFloors(dash, ['step.total']);
    expect(dash.figures[0]!.floor!.kind).toBe('direct');
  }, 240_000);
});
