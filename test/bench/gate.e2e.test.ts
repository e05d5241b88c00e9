// End to end on this machine: the real step suite (tiny model, real MLX, the engine's
// Pipeline in a bench child process) run twice and gated against itself passes; the same
// suite with a sleep injected into one span (a test-only runner option that wraps that
// stage's model method in the bench child; no production code reads it) fails the gate,
// which names the span.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { baselineFrom, detectRunnerClass, gate, gateFailures, readRunnerClass, runnerClassPath, type RunnerClass } from '../../bench/lib/gate.ts';
import { runBench, type RunOptions } from '../../bench/lib/runner.ts';
import type { BenchResults } from '../../bench/lib/results.ts';

// Short on purpose (npm test runs it): 6 rounds of 6 steps after the warm-up on each side.
// The two sides of the self-comparison are run interleaved, A B A B, 3 rounds at a time (a run needs 3 for its spread):
// the suite shares the machine with other test files, and a load that changes between two
// back-to-back runs shifts every round of one side (cpu.step measured 22 % apart in .ci/run,
// p < 1e-4). Interleaved, a change of load falls on both sides, as an A/A test needs.
// The injected sleep is large because this test must hold on a shared 2-core machine at load
// average 15+, where the same code measures up to ~2x apart from one run to the next.
const RUN: RunOptions = { suites: ['step'], config: 'tiny', rounds: 6, perRound: 6 };
const SLICES = 2;

/** Interleaved runs of RUN split into SLICES slices per side: [side A, side B], each with every round of its slices. */
async function interleaved(): Promise<[BenchResults, BenchResults]> {
  const sides: BenchResults[][] = [[], []];
  for (let i = 0; i < SLICES; i++) {
    for (const side of sides) side.push(await runBench({ ...RUN, rounds: RUN.rounds! / SLICES }));
  }
  return [joinRounds(sides[0]!), joinRounds(sides[1]!)];
}

/** One run's results with each figure's per-round ratios (what the gate compares) taken from all `runs`. */
function joinRounds(runs: BenchResults[]): BenchResults {
  const ratios = (id: string) => runs.flatMap((r) => r.suites.flatMap((s) => s.figures.filter((f) => f.id === id).flatMap((f) => f.ratios)));
  const [first] = runs;
  return { ...first!, suites: first!.suites.map((s) => ({ ...s, figures: s.figures.map((f) => ({ ...f, ratios: ratios(f.id) })) })) };
}
const INJECT_MS = 250;

/** This machine's runner class with the first run as its baseline. Budget rules are left out:
 * they are absolute (ms) and tested in gate.test.ts; this test is about the comparison. */
function classWithBaseline(first: BenchResults): RunnerClass {
  // This machine's class where configs/bench has one; else the loosest shipped class.
  const name = existsSync(runnerClassPath(detectRunnerClass())) ? detectRunnerClass() : 'linux-x64';
  const { cls } = readRunnerClass(name);
  return { ...cls, budget: {}, baselines: { ...cls.baselines, tiny: baselineFrom(first) } };
}

describe('bench gate end to end (tiny step suite)', () => {
  it('passes against itself and fails, naming the span, when one span sleeps', async () => {
    const [first, again] = await interleaved();
    expect(again.suites[0]!.figures.every((f) => f.ratios.length === RUN.rounds)).toBe(true);
    const slowed = await runBench({ ...RUN, perRound: 3, inject: { suite: 'step', span: 'mimi.encode', ms: INJECT_MS } });
    const cls = classWithBaseline(first);

    const same = gate(again, cls);
    const detail = same.figures.map((f) => `${f.id} ${f.verdict} ${f.changePct?.toFixed(1)} % p=${f.p?.toExponential(2)}`).join('\n');
    expect(same.figures.map((f) => f.id)).toEqual(['step/mimi.encode', 'step/lm.temporal', 'step/lm.depformer', 'step/mimi.decode', 'step/step.total', 'step/cpu.step']);
    expect(same.pass, detail).toBe(true);

    const slow = gate(slowed, cls);
    const enc = slow.figures.find((f) => f.id === 'step/mimi.encode')!;
    const slowDetail = slow.figures.map((f) => `${f.id} ${f.verdict} ${f.changePct?.toFixed(1)} % p=${f.p?.toExponential(2)} cv ${f.cvPct?.toFixed(1)}`).join('\n');
    expect(slow.pass, slowDetail).toBe(false);
    expect(enc.verdict).toBe('regressed');
    expect(gateFailures(slow).join('\n')).toMatch(/^step\/mimi\.encode regressed by \+\d+/m);
    // The sleep is real time inside the span: every encode now takes at least the injected time.
    const enc0 = (r: BenchResults) => r.suites[0]!.figures.find((f) => f.name === 'mimi.encode')!;
    expect(enc0(slowed).p50).toBeGreaterThanOrEqual(INJECT_MS);
    expect(enc0(first).p50).toBeLessThan(INJECT_MS);
  }, 420_000);
});
